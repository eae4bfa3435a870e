#include "gpu/metrics.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace recl {

namespace {

struct scored_detection {
  float score;
  size_t frame;
  const box* b;
};

/// AP of one class from its detections (any order) and truth.
class_ap average_precision(std::vector<scored_detection> dets,
                           const std::vector<std::vector<const box*>>& truth,
                           int n_truth, float iou_threshold) {
  class_ap out;
  out.truth_boxes = n_truth;
  out.detections = static_cast<int>(dets.size());
  if (n_truth == 0)
    return out;
  std::stable_sort(dets.begin(), dets.end(),
                   [](auto& a, auto& b) { return a.score > b.score; });
  std::vector<std::vector<bool>> used(truth.size());
  for (size_t f = 0; f < truth.size(); ++f)
    used[f].assign(truth[f].size(), false);
  std::vector<double> precision, recall;
  precision.reserve(dets.size());
  recall.reserve(dets.size());
  int tp = 0, fp = 0;
  for (auto& d : dets) {
    auto& gts = truth[d.frame];
    double best = iou_threshold;
    int match = -1;
    for (size_t g = 0; g < gts.size(); ++g) {
      if (used[d.frame][g])
        continue;
      double v = iou(*d.b, *gts[g]);
      if (v >= best) {
        best = v;
        match = static_cast<int>(g);
      }
    }
    if (match >= 0) {
      used[d.frame][static_cast<size_t>(match)] = true;
      ++tp;
    } else {
      ++fp;
    }
    precision.push_back(static_cast<double>(tp) / (tp + fp));
    recall.push_back(static_cast<double>(tp) / n_truth);
  }
  // Precision envelope: make it non-increasing from the right.
  for (size_t i = precision.size(); i-- > 1;)
    precision[i - 1] = std::max(precision[i - 1], precision[i]);
  // 101 recall points 0, 0.01, ..., 1: precision at the first index whose
  // recall reaches the point (0 when none does).
  double sum = 0;
  for (int k = 0; k <= 100; ++k) {
    double r = k / 100.0;
    auto it = std::lower_bound(recall.begin(), recall.end(), r - 1e-12);
    if (it != recall.end())
      sum += precision[static_cast<size_t>(it - recall.begin())];
  }
  out.ap = sum / 101.0;
  return out;
}

} // namespace

map_result mean_ap(const std::vector<std::vector<box>>& detections,
                   const std::vector<std::vector<box>>& truth,
                   const map_options& opts) {
  if (detections.size() != truth.size())
    throw std::invalid_argument(
      "mean_ap: detections for " + std::to_string(detections.size())
      + " frames, truth for " + std::to_string(truth.size()));
  std::map<int, std::vector<scored_detection>> dets;
  std::map<int, std::vector<std::vector<const box*>>> gts;
  std::map<int, int> n_truth;
  for (size_t f = 0; f < truth.size(); ++f) {
    for (auto& b : truth[f]) {
      auto& per_frame = gts[b.cls];
      per_frame.resize(truth.size());
      per_frame[f].push_back(&b);
      n_truth[b.cls] += 1;
    }
    for (auto& b : detections[f])
      if (b.score >= opts.min_score)
        dets[b.cls].push_back({b.score, f, &b});
  }
  map_result out;
  std::vector<int> classes;
  for (auto& kv : n_truth)
    classes.push_back(kv.first);
  for (auto& kv : dets)
    if (!n_truth.count(kv.first))
      classes.push_back(kv.first);
  double sum = 0;
  for (int c : classes) {
    auto& g = gts[c];
    g.resize(truth.size());
    auto ap = average_precision(dets[c], g, n_truth[c], opts.iou_threshold);
    out.per_class[c] = ap;
    if (ap.truth_boxes >= opts.min_class_boxes) {
      sum += ap.ap;
      out.classes_scored += 1;
      if (c == 2)
        out.car_ap = ap.ap;
    }
  }
  out.sparse = out.classes_scored == 0;
  out.map = out.sparse ? 0 : sum / out.classes_scored;
  return out;
}

double frame_score(const std::vector<box>& detections,
                   const std::vector<box>& truth, float iou_threshold,
                   float min_score) {
  std::vector<const box*> dets;
  for (auto& b : detections)
    if (b.score >= min_score)
      dets.push_back(&b);
  std::stable_sort(dets.begin(), dets.end(),
                   [](auto* a, auto* b) { return a->score > b->score; });
  if (dets.empty() && truth.empty())
    return 1.0;
  std::vector<bool> used(truth.size(), false);
  int tp = 0;
  for (auto* d : dets) {
    double best = iou_threshold;
    int match = -1;
    for (size_t g = 0; g < truth.size(); ++g) {
      if (used[g] || truth[g].cls != d->cls)
        continue;
      double v = iou(*d, truth[g]);
      if (v >= best) {
        best = v;
        match = static_cast<int>(g);
      }
    }
    if (match >= 0) {
      used[static_cast<size_t>(match)] = true;
      ++tp;
    }
  }
  auto fp = static_cast<int>(dets.size()) - tp;
  auto fn = static_cast<int>(truth.size()) - tp;
  return 2.0 * tp / (2.0 * tp + fp + fn);
}

double top1_agreement(const std::vector<int>& predicted,
                      const std::vector<int>& truth) {
  if (predicted.size() != truth.size())
    throw std::invalid_argument("top1_agreement: sizes differ");
  if (truth.empty())
    return 0;
  size_t same = 0;
  for (size_t i = 0; i < truth.size(); ++i)
    same += predicted[i] == truth[i];
  return static_cast<double>(same) / truth.size();
}

} // namespace recl
