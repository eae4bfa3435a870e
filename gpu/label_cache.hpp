#pragma once
// Teacher labels cached on disk, keyed by teacher, clip and frame, so that
// pretraining and benchmarks label each frame once across runs. One
// append-only text file per (teacher, clip).

#include "gpu/teacher.hpp"

#include <map>
#include <string>
#include <vector>

namespace recl {

/// A cache of one teacher's labels under `dir`.
class label_cache {
public:
  /// `key` identifies the teacher and its settings (see teacher_key()).
  label_cache(std::string dir, std::string key);

  /// The labels of frame `index` of `clip`, from the cache or computed with
  /// `t` on `frame` (and then stored).
  std::vector<box> get(const std::string& clip, int index, const cv::Mat& frame,
                       teacher& t);

  /// Frames labelled by the teacher (not from the cache) since construction.
  size_t computed() const { return computed_; }

private:
  void load(const std::string& clip);
  std::string path(const std::string& clip) const;

  std::string dir_;
  std::map<std::string, std::map<int, std::vector<box>>> entries_;
  size_t computed_ = 0;
};

/// A file-name-safe key for a teacher and its settings.
std::string teacher_key(const teacher_options& opts);

/// The default cache folder: $RECL_CACHE, else $HOME/.cache/recl.
std::string default_cache_dir();

} // namespace recl
