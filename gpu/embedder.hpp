#pragma once
// ODIN's selector (a baseline): a small convolutional autoencoder. Frames are
// embedded by its encoder; a set of frames by the mean of their embeddings;
// each expert keeps the mean embedding of its training frames, and the
// nearest expert by L2 is chosen. Free of LibTorch here.

#include "gpu/image.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// How the autoencoder looks at frames.
struct embedder_options {
  int input_width = 64; ///< multiple of 16
  int input_height = 48;
  int dim = 32; ///< embedding size
  double lr = 2e-3;
  size_t batch = 32;
  uint64_t seed = 1;
};

/// The autoencoder. Not thread-safe.
class embedder {
public:
  explicit embedder(const embedder_options& opts = {});
  ~embedder();

  static std::unique_ptr<embedder>
  from_bytes(std::string_view bytes, const embedder_options& opts = {});
  std::string to_bytes() const;

  /// Trains to reconstruct `frames`; returns the last epoch's mean loss.
  double train(const std::vector<image>& frames, int epochs);

  /// Mean squared reconstruction error of `frames` (pixels in [0, 1]).
  double reconstruction_error(const std::vector<image>& frames);

  /// The mean embedding of `frames` (`dim` values).
  std::vector<float> embed(const std::vector<image>& frames);

  /// Index of the centroid nearest to `query` by L2; throws if none.
  static size_t nearest(const std::vector<float>& query,
                        const std::vector<std::vector<float>>& centroids);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace recl
