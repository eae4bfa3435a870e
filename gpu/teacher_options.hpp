#pragma once
// How to build a teacher (gpu/teacher.hpp), apart from the teacher itself:
// what a coordinator hands its worker nodes needs no OpenCV.

#include "gpu/detection.hpp"

#include <string>
#include <vector>

namespace recl {

/// How to build a teacher.
struct teacher_options {
  /// "yolox:PATH" or "hog".
  std::string spec = "hog";
  /// COCO classes kept; others are dropped before NMS.
  std::vector<int> classes = default_classes();
  /// Boxes below this score (objectness x class) are dropped.
  float score_threshold = 0.3f;
  /// Per-class NMS IoU threshold.
  float nms_threshold = 0.45f;
  /// Network input (multiples of 32; YOLOX only).
  int input_width = 416;
  int input_height = 416;
  /// Whole frame plus 2x2 overlapping tiles, merged by NMS: finds the small
  /// objects of small or wide CCTV frames at ~5x the cost. "off", "on", or
  /// "auto" (on for frames at most `auto_tile_width` wide or with an aspect
  /// ratio of at least 2.5).
  std::string tiling = "off";
  int auto_tile_width = 400;
  /// Test-time augmentation: each pass also runs on the mirrored frame and
  /// the two views' boxes are fused (fuse_boxes), at ~2x the cost.
  bool flip = false;
  /// A second whole-frame pass at this square input size, fused with the
  /// first (0: none): a small detector finds different objects at
  /// different scales.
  int extra_input = 0;
};

} // namespace recl
