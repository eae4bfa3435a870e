#pragma once
// The gating network: a small ResNet on low-resolution frames with one output
// per zoo expert, predicting that expert's per-frame score. Growing the zoo
// adds rows to the last layer only (existing rows untouched, new rows drawn
// from the existing rows' mean and variance); pruning removes rows. Its cost
// grows with the zoo only in that last layer. Free of LibTorch here.

#include "gpu/image.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// How the gating network looks at frames and learns.
struct gating_options {
  int input_width = 96; ///< frames are resized (aspect kept, padded)
  int input_height = 64;
  int channels = 16; ///< width of the first stage (then x2, x4)
  double lr = 2e-3;
  size_t batch = 32;
  uint64_t seed = 1;
};

/// A gating network over a zoo of `experts()` experts. Not thread-safe.
class gating {
public:
  gating(size_t experts, const gating_options& opts = {});
  ~gating();

  /// Restores `to_bytes()`; throws std::runtime_error.
  static std::unique_ptr<gating> from_bytes(std::string_view bytes,
                                            const gating_options& opts = {});

  /// All parameters and buffers with the expert count, bit-exact.
  std::string to_bytes() const;

  size_t experts() const;

  /// Predicted score of every expert on every frame: [frames][experts].
  std::vector<std::vector<float>> predict(const std::vector<image>& frames);

  /// The `k` experts with the highest mean predicted score over `frames`,
  /// best first.
  std::vector<size_t> top_k(const std::vector<image>& frames, size_t k);

  /// Adds `n` outputs; existing outputs are unchanged.
  void grow(size_t n);

  /// Keeps only the outputs in `keep` (in that order); the rest are removed.
  void shrink(const std::vector<size_t>& keep);

  /// Fits predicted to `scores` ([frames][experts], values in [0, 1]) for
  /// `epochs` epochs; returns the last epoch's mean loss.
  double train(const std::vector<image>& frames,
               const std::vector<std::vector<float>>& scores, int epochs);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace recl
