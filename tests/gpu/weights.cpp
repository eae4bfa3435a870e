#include "tests/gpu/weights.hpp"

#include "tests/system/process.hpp"

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

namespace recl::test {

std::string pretrained_archive() {
  static std::once_flag once;
  static std::string path;
  std::call_once(once, [] {
    auto dir = std::filesystem::path{RECL_BIN_DIR} / ".." / "cache";
    std::filesystem::create_directories(dir);
    auto target = (dir / "yolox_nano.pt").string();
    // Convert to a private name and rename: ctest runs test processes in
    // parallel, and each may get here first.
    auto tmp = target + "." + std::to_string(::getpid());
    auto r = run(bin("recl-convert"),
                 {"--onnx", data_dir() + "/models/yolox_nano.onnx", "--out", tmp});
    if (r.code != 0)
      throw std::runtime_error("recl-convert failed: " + r.err);
    std::filesystem::rename(tmp, target);
    path = target;
  });
  return path;
}

} // namespace recl::test
