#pragma once
// Boxes, COCO class names and NMS: plain types shared by the teacher, the
// experts and the metrics. No dependency beyond the standard library.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// One detected object in frame pixels (x0,y0 top-left; x1,y1 bottom-right).
struct box {
  float x0 = 0;
  float y0 = 0;
  float x1 = 0;
  float y1 = 0;
  float score = 0;
  int32_t cls = 0; ///< COCO class index (0 = person, 2 = car, ...)
};

/// The teacher's boxes for one frame.
struct frame_labels {
  int32_t width = 0;
  int32_t height = 0;
  std::vector<box> boxes;
};

/// The 80 COCO class names in YOLOX's output order.
const std::vector<std::string>& coco_names();

/// The COCO index of `name`, or -1.
int coco_class(std::string_view name);

/// The default class set of the teacher: road users and road signs.
const std::vector<int>& default_classes();

/// Parses "person,car,bus" into COCO indices; throws std::invalid_argument
/// naming the first unknown class.
std::vector<int> parse_class_set(std::string_view csv);

/// Intersection over union of two boxes.
float iou(const box& a, const box& b);

/// Greedy non-maximum suppression, done separately for each class.
/// Returns the kept boxes by descending score.
std::vector<box> nms_per_class(std::vector<box> boxes, float iou_threshold);

/// Weighted box fusion (Solovyev et al., 2019) of `views`, the boxes one
/// detector found in each of several views of the same frame (e.g. the frame
/// and its mirror, mapped back). Per class, boxes overlapping a cluster's fused
/// box by more than `iou_threshold` join it; a cluster's box is the
/// score-weighted mean of its members and its score their highest (WBF's
/// "max" confidence): an object any view finds is kept, and where several
/// find it, its box is their consensus. Returns the boxes by descending
/// score.
std::vector<box> fuse_boxes(const std::vector<std::vector<box>>& views,
                            float iou_threshold);

} // namespace recl
