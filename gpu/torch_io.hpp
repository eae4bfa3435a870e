#pragma once
// A module's weights to and from bytes or a file, with errors that name what
// failed; for the gpu/ sources that include torch.

#include <torch/torch.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace recl::gpu {

/// Reads `net`'s weights from `bytes`; throws std::runtime_error naming
/// `what` (e.g. "expert") when they do not fit it.
template <class Net>
void read_weights(Net& net, std::string_view bytes, const std::string& what) {
  try {
    std::istringstream in{std::string{bytes}};
    torch::load(net, in);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot read " + what
                             + " weights: " + e.what_without_backtrace());
  }
}

/// Reads `net`'s weights from the file `path`; throws std::runtime_error
/// naming `what` and the file.
template <class Net>
void load_weights(Net& net, const std::string& path, const std::string& what) {
  try {
    torch::load(net, path);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot load " + what + " weights " + path + ": "
                             + e.what_without_backtrace());
  }
}

/// `net`'s weights as bytes (read_weights reads them back).
template <class Net>
std::string weights_bytes(const Net& net) {
  std::ostringstream out;
  torch::save(net, out);
  return out.str();
}

} // namespace recl::gpu
