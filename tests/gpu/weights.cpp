#include "tests/gpu/weights.hpp"

#include "tests/system/process.hpp"

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

namespace recl::test {

namespace {

std::string convert(const std::string& onnx, const std::string& name) {
  auto dir = std::filesystem::path{RECL_BIN_DIR} / ".." / "cache";
  std::filesystem::create_directories(dir);
  auto target = (dir / name).string();
  // Convert to a private name and rename: ctest runs test processes in
  // parallel, and each may get here first.
  auto tmp = target + "." + std::to_string(::getpid());
  auto r = run(bin("recl-convert"),
               {"--onnx", data_dir() + "/models/" + onnx, "--out", tmp});
  if (r.code != 0)
    throw std::runtime_error("recl-convert failed: " + r.err);
  std::filesystem::rename(tmp, target);
  return target;
}

} // namespace

std::string pretrained_archive() {
  static std::once_flag once;
  static std::string path;
  std::call_once(once,
                 [] { path = convert("yolox_nano.onnx", "yolox_nano.pt"); });
  return path;
}

std::string pretrained_classifier() {
  static std::once_flag once;
  static std::string path;
  std::call_once(
    once, [] { path = convert("mobilenetv2-12-int8.onnx", "mobilenetv2.pt"); });
  return path;
}

} // namespace recl::test
