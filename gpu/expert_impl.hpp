#pragma once
// What an expert holds, for the gpu/ sources that train it.

#include "gpu/expert.hpp"
#include "gpu/yolox.hpp"

namespace recl {

struct expert::impl {
  expert_options opts;
  yolox::network net;
  std::vector<bool> keep; ///< per COCO class: reported or not
};

/// Letterboxes frames into [N, 3, H, W] float BGR 0..255 on the device (top
/// left, pad 114, bilinear); `scales[i]` receives frame i's factor.
torch::Tensor preprocess(const std::vector<image>& frames, int width,
                         int height, std::vector<float>& scales);

} // namespace recl
