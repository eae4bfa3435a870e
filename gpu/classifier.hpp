#pragma once
// The classification task's expert: MobileNetV2 with its ImageNet weights
// (dequantised from the shipped int8 model by recl-convert), run at a lower
// input size, scored by top-1 agreement with the teacher. Free of LibTorch.

#include "gpu/image.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// How a classifier runs and learns.
struct classifier_options {
  int input_size = 160; ///< frames are resized to size x size
  double lr = 1e-4;
  size_t batch = 16;
  uint64_t seed = 1;
};

/// A 1000-way ImageNet classifier. Not thread-safe.
class classifier {
public:
  /// Loads an archive written by recl-convert or `to_bytes()`.
  static std::unique_ptr<classifier> load(const std::string& path,
                                          const classifier_options& opts = {});
  static std::unique_ptr<classifier>
  from_bytes(std::string_view bytes, const classifier_options& opts = {});
  ~classifier();

  std::string to_bytes() const;

  /// Top-1 class of every frame.
  std::vector<int> classify(const std::vector<image>& frames);

  /// Fine-tunes on `labels` (the teacher's top-1) with cross-entropy;
  /// returns the last epoch's mean loss.
  double train(const std::vector<image>& frames, const std::vector<int>& labels,
               int epochs);

  int64_t parameter_count() const;

  struct impl;

private:
  explicit classifier(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace recl
