#pragma once
// What an expert holds, for the gpu/ sources that train it.

#include "gpu/expert.hpp"
#include "gpu/yolox.hpp"

#include <functional>
#include <random>

namespace recl {

struct expert::impl {
  expert_options opts;
  yolox::network net;
  std::vector<bool> keep;  ///< per COCO class: reported or not
  torch::Tensor keep_mask; ///< the same as a float [80] mask on the device

  /// Detections with score >= `min_score`, NMS per class, then at most
  /// `max_per_frame` per frame (0 = all).
  std::vector<std::vector<box>> detect(const std::vector<image>& frames,
                                       size_t batch, float min_score,
                                       size_t max_per_frame);
};

/// Letterboxes frames into [N, 3, H, W] float BGR 0..255 on the device (top
/// left, pad 114, bilinear); `scales[i]` receives frame i's factor.
torch::Tensor preprocess(const std::vector<image>& frames, int width,
                         int height, std::vector<float>& scales);

/// One epoch of minibatches: shuffles 0..n-1 with `rng`, calls `step` with
/// each batch's indices (a Long tensor on the device), and returns the mean
/// of what `step` returned.
double for_each_batch(size_t n, size_t batch, std::mt19937_64& rng,
                      const std::function<double(const torch::Tensor&)>& step);

} // namespace recl
