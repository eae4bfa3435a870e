#include "gpu/detection.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/util.hpp"

namespace recl {

const std::vector<std::string>& coco_names() {
  static const std::vector<std::string> names{
    "person",        "bicycle",      "car",
    "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",
    "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",
    "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",
    "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",
    "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",
    "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket",
    "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",
    "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",
    "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",
    "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",
    "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",
    "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",
    "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush"};
  return names;
}

int coco_class(std::string_view name) {
  const auto& names = coco_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return static_cast<int>(i);
  return -1;
}

const std::vector<int>& default_classes() {
  // person, bicycle, car, motorcycle, bus, truck, traffic light, stop sign
  static const std::vector<int> xs{0, 1, 2, 3, 5, 7, 9, 11};
  return xs;
}

std::vector<int> parse_class_set(std::string_view csv) {
  std::vector<int> out;
  for (auto& raw : split(csv, ',')) {
    auto name = trim(raw);
    if (name.empty())
      continue;
    auto id = coco_class(name);
    if (id < 0)
      throw std::invalid_argument("'" + name + "' is not a COCO class name");
    if (std::find(out.begin(), out.end(), id) == out.end())
      out.push_back(id);
  }
  if (out.empty())
    throw std::invalid_argument("the class set is empty");
  return out;
}

float iou(const box& a, const box& b) {
  auto ix = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  auto iy = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  auto inter = ix * iy;
  auto area_a = std::max(0.f, a.x1 - a.x0) * std::max(0.f, a.y1 - a.y0);
  auto area_b = std::max(0.f, b.x1 - b.x0) * std::max(0.f, b.y1 - b.y0);
  auto uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.f;
}

std::vector<box> nms_per_class(std::vector<box> boxes, float iou_threshold) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const box& a, const box& b) {
    return a.score > b.score;
  });
  std::vector<box> kept;
  std::vector<bool> dead(boxes.size(), false);
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (dead[i])
      continue;
    kept.push_back(boxes[i]);
    for (size_t j = i + 1; j < boxes.size(); ++j)
      if (!dead[j] && boxes[j].cls == boxes[i].cls
          && iou(boxes[i], boxes[j]) > iou_threshold)
        dead[j] = true;
  }
  return kept;
}

std::vector<box> fuse_boxes(const std::vector<std::vector<box>>& views,
                            float iou_threshold) {
  std::vector<box> all;
  for (auto& v : views)
    all.insert(all.end(), v.begin(), v.end());
  std::stable_sort(all.begin(), all.end(), [](const box& a, const box& b) {
    return a.score > b.score;
  });
  struct cluster {
    box fused;                  // score-weighted mean of the members so far
    double x0, y0, x1, y1, sum; // weighted sums behind it
  };
  std::vector<cluster> clusters;
  for (auto& b : all) {
    // The best-overlapping cluster of the same class, if it overlaps enough.
    cluster* home = nullptr;
    float best = iou_threshold;
    for (auto& c : clusters)
      if (c.fused.cls == b.cls)
        if (auto o = iou(c.fused, b); o > best) {
          best = o;
          home = &c;
        }
    if (!home) { // the first member has the highest score: the cluster's
      clusters.push_back({b, 0, 0, 0, 0, 0});
      home = &clusters.back();
    }
    auto& c = *home;
    c.x0 += b.score * b.x0;
    c.y0 += b.score * b.y0;
    c.x1 += b.score * b.x1;
    c.y1 += b.score * b.y1;
    c.sum += b.score;
    c.fused.x0 = static_cast<float>(c.x0 / c.sum);
    c.fused.y0 = static_cast<float>(c.y0 / c.sum);
    c.fused.x1 = static_cast<float>(c.x1 / c.sum);
    c.fused.y1 = static_cast<float>(c.y1 / c.sum);
  }
  std::vector<box> out;
  for (auto& c : clusters)
    out.push_back(c.fused);
  std::stable_sort(out.begin(), out.end(), [](const box& a, const box& b) {
    return a.score > b.score;
  });
  return out;
}

} // namespace recl
