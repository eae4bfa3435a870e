#pragma once
// Labelled samples of catalog clips, for pretraining and benchmarks: frames
// spread evenly over a clip, labelled by the teacher through the label cache.

#include "edge/catalog.hpp"
#include "gpu/label_cache.hpp"
#include "gpu/trainer.hpp"

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace recl {

/// The shared data's YOLOX teacher with its label cache.
struct labeller {
  teacher_options opts;
  std::unique_ptr<teacher> model;
  std::unique_ptr<label_cache> cache;
};

/// The YOLOX-Nano teacher of `data`: 416x416, default classes; with
/// `strong`, strong_teacher() of it.
teacher_options data_teacher(const std::string& data, bool strong);

/// The teacher `opts` with its label cache in `cache_dir`
/// (default_cache_dir() when empty).
labeller make_labeller(const teacher_options& opts,
                       const std::string& cache_dir);

/// Frames taken from clips, with where each came from.
struct sampled_frames {
  std::vector<cv::Mat> mats;
  std::vector<std::string> clip;
  std::vector<int> index; ///< frame number within its clip
};

/// Up to `n` frames spread evenly over frames [from, to) of `c`, appended to
/// `out`.
void sample_clip(const clip& c, const std::string& data, int from, int to,
                 size_t n, sampled_frames& out);

/// The frames with their teacher labels (from the cache where present).
labelled_frames label(const sampled_frames& s, label_cache& cache, teacher& t);

/// The same with a labeller.
labelled_frames label(const sampled_frames& s, labeller& l);

/// Appends `from` to `to`.
void append(labelled_frames& to, const labelled_frames& from);

} // namespace recl
