#pragma once
// The clip catalog of the shared data (`catalog.tsv`): one row per clip.

#include <string>
#include <vector>

namespace recl {

/// One clip of the catalog.
struct clip {
  std::string id;
  std::string path; ///< absolute (resolved against the data folder)
  std::string kind; ///< "video" or "frames"
  int frames = 0;
  double fps = 0;
  int width = 0;
  int height = 0;
  double seconds = 0;
  std::string place;
  std::string camera; ///< "fixed" or "moving"
  std::string light;
  std::string weather;
  std::string road;
};

/// A parsed catalog.
class catalog {
public:
  /// Reads `data_dir/catalog.tsv`; throws std::runtime_error naming the file
  /// and line on any malformed row.
  static catalog load(const std::string& data_dir);

  /// The clip with `id`; throws std::invalid_argument if there is none.
  const clip& find(const std::string& id) const;

  const std::vector<clip>& clips() const { return clips_; }

private:
  std::vector<clip> clips_;
};

/// The clips the base expert is pretrained on: the first clip (in catalog
/// order) of every place that has two or more clips. Evaluation streams
/// never play them; every other clip of those places is held out.
std::vector<clip> pretraining_clips(const catalog& cat);

/// Whether `id` is one of pretraining_clips().
bool is_pretraining_clip(const catalog& cat, const std::string& id);

/// The shared data folder: $RECL_DATA, else ../shared/data. Empty if neither
/// exists.
std::string find_data_dir();

} // namespace recl
