#pragma once
// Accuracy against the teacher: COCO-style mAP@0.5 for detection, a per-frame
// score for gating targets, top-1 agreement for classification. Plain C++ on
// boxes; no model library needed.

#include "gpu/detection.hpp"

#include <map>
#include <vector>

namespace recl {

/// How detections are scored.
struct map_options {
  float iou_threshold = 0.5f;
  /// A class is scored only with at least this many ground-truth boxes in
  /// the frames scored; fewer make its AP noise.
  int min_class_boxes = 5;
  /// Detections below this score are ignored (0 = use all, as COCO does).
  float min_score = 0.0f;
};

/// Average precision of one class.
struct class_ap {
  double ap = 0;
  int truth_boxes = 0;
  int detections = 0;
};

/// mAP over the classes with enough ground truth.
struct map_result {
  /// Mean of the scored classes' AP; 0 when `sparse`.
  double map = 0;
  /// AP of class "car", or -1 when cars have too few boxes to score.
  double car_ap = -1;
  /// Every class that has truth or detections.
  std::map<int, class_ap> per_class;
  /// Classes that entered the mean.
  int classes_scored = 0;
  /// True when no class had enough truth: the teacher's labels are too
  /// sparse to score these frames, and `map` means nothing.
  bool sparse = true;
};

/// COCO-style AP with 101-point interpolated precision: detections of a
/// class in descending score order are matched greedily to the unmatched
/// truth box of highest IoU (>= threshold) in the same frame.
/// `detections[i]` and `truth[i]` belong to frame i.
map_result mean_ap(const std::vector<std::vector<box>>& detections,
                   const std::vector<std::vector<box>>& truth,
                   const map_options& opts = {});

/// A per-frame score in [0, 1]: F1 of the detections with score >=
/// `min_score` against the truth at `iou_threshold` (class-aware). 1 when
/// both are empty. Used as gating-network targets.
double frame_score(const std::vector<box>& detections,
                   const std::vector<box>& truth, float iou_threshold = 0.5f,
                   float min_score = 0.3f);

/// Share of positions where `predicted` equals `truth` (classification).
double top1_agreement(const std::vector<int>& predicted,
                      const std::vector<int>& truth);

} // namespace recl
