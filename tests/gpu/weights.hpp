#pragma once
// The pretrained expert archive for tests, converted once per test run.

#include <string>

namespace recl::test {

/// Path of YOLOX-Nano's weights as a LibTorch archive, converted from the
/// shared ONNX file with recl-convert on first use (cached in the build
/// directory). Requires the shared data.
std::string pretrained_archive();

/// The same for MobileNetV2's ImageNet weights (the classification expert),
/// dequantised from the shared int8 ONNX file.
std::string pretrained_classifier();

} // namespace recl::test
