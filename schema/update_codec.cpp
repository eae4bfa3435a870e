// The wire form of a model update, apart from the models: no LibTorch here,
// so that tests/fuzz reads it as a hostile peer would send it.

#include "schema/model_update.hpp"

#include "common/record.hpp"

#include <zstd.h>

#include <stdexcept>

namespace recl {

namespace {

constexpr std::string_view update_tag = "MU02";
constexpr int zstd_level = 3;
constexpr uint32_t max_dims = 8;

size_t element_size(named_tensor::type t) {
  return t == named_tensor::type::f16   ? 2
         : t == named_tensor::type::f32 ? 4
                                        : 8;
}

/// Byte planes: every element's first byte, then every second byte, ...
std::string shuffled(const std::string& in, size_t k) {
  std::string out(in.size(), '\0');
  size_t n = in.size() / k;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < k; ++j)
      out[j * n + i] = in[i * k + j];
  return out;
}

std::string unshuffled(const std::string& in, size_t k) {
  std::string out(in.size(), '\0');
  size_t n = in.size() / k;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < k; ++j)
      out[i * k + j] = in[j * n + i];
  return out;
}

std::string compressed(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  auto n
    = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), zstd_level);
  if (ZSTD_isError(n))
    throw std::runtime_error(std::string{"zstd: "} + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

/// Exactly `raw_size` bytes from `packed`, else std::runtime_error.
std::string decompressed(const std::string& packed, size_t raw_size) {
  if (ZSTD_getFrameContentSize(packed.data(), packed.size()) != raw_size)
    throw std::runtime_error("damaged record: a tensor's compressed bytes "
                             "do not hold its size");
  std::string out(raw_size, '\0');
  auto n
    = ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != raw_size)
    throw std::runtime_error("damaged record: a tensor does not decompress");
  return out;
}

} // namespace

std::string encode(const model_update& u) {
  record_writer w{update_tag};
  w.str(u.base_hash);
  w.str(u.result_hash);
  w.u32(static_cast<uint32_t>(u.tensors.size()));
  for (size_t i = 0; i < u.tensors.size(); ++i) {
    auto& t = u.tensors[i];
    w.str(t.name);
    w.u32(static_cast<uint32_t>(t.dtype));
    w.u32(i < u.relative.size() && u.relative[i] ? 1 : 0);
    w.u32(static_cast<uint32_t>(t.shape.size()));
    for (auto d : t.shape)
      w.u64(static_cast<uint64_t>(d));
    w.u64(t.bytes.size());
    w.str(compressed(shuffled(t.bytes, element_size(t.dtype))));
  }
  return w.out();
}

model_update decode_model_update(std::string_view bytes, size_t max_bytes) {
  record_reader r{bytes, update_tag};
  model_update u;
  u.base_hash = r.str();
  u.result_hash = r.str();
  // A tensor takes at least its name's, type's, rank's and bytes' fields.
  auto n = r.count(16);
  size_t total = 0; // bytes of tensor data so far
  for (uint32_t i = 0; i < n; ++i) {
    named_tensor t;
    t.name = r.str();
    auto type = r.u32();
    if (type < 1 || type > 3)
      throw std::runtime_error("damaged record: tensor type "
                               + std::to_string(type));
    t.dtype = static_cast<named_tensor::type>(type);
    auto relative = r.u32();
    if (relative > 1)
      throw std::runtime_error("damaged record: tensor flag "
                               + std::to_string(relative));
    u.relative.push_back(relative == 1);
    auto dims = r.count(8);
    if (dims > max_dims)
      throw std::runtime_error("damaged record: a tensor of rank "
                               + std::to_string(dims));
    uint64_t elements = 1;
    for (uint32_t d = 0; d < dims; ++d) {
      auto x = r.u64();
      if (x > max_bytes || (x && elements > max_bytes / x))
        throw std::runtime_error("damaged record: tensor '" + t.name
                                 + "' is larger than an update may hold");
      elements *= x;
      t.shape.push_back(static_cast<int64_t>(x));
    }
    auto raw = r.u64();
    if (raw != elements * element_size(t.dtype))
      throw std::runtime_error("damaged record: tensor '" + t.name + "' has "
                               + std::to_string(raw) + " bytes for "
                               + std::to_string(elements) + " elements");
    if (raw > max_bytes - total)
      throw std::runtime_error("damaged record: the tensors would take more "
                               "than "
                               + std::to_string(max_bytes) + " bytes");
    total += raw;
    t.bytes = unshuffled(decompressed(r.str(), raw), element_size(t.dtype));
    u.tensors.push_back(std::move(t));
  }
  r.done();
  return u;
}

size_t payload_bytes(const model_update& u) {
  size_t n = 0;
  for (auto& t : u.tensors)
    n += t.bytes.size();
  return n;
}

} // namespace recl
