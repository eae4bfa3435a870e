#pragma once
// The shared data folder of a benchmark: --data, else $RECL_DATA, else
// ../shared/data (beside the source tree too).

#include "common/settings.hpp"
#include "edge/catalog.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace recl::bench {

/// Declares --data (read with data_folder); returns `o` for more.
inline options& add_data_option(options& o) {
  return o.add("data", "DIR",
               "shared data folder (default: $RECL_DATA or ../shared/data)");
}

/// The data folder, or a usage_error when there is none.
inline std::string data_folder(const options& o) {
  auto data = o.given("data") ? o.get("data") : test::data_dir();
  if (data.empty())
    throw usage_error("no shared data: set RECL_DATA or --data");
  if (!std::filesystem::exists(data + "/catalog.tsv"))
    throw usage_error("'" + data
                      + "' holds no catalog.tsv: not the shared data");
  return data;
}

/// `n` frames of catalog clip `clip_id`, spread over the clip, as JPEG at
/// most `width` pixels wide.
inline std::vector<frame> sample_frames(const std::string& data,
                                        const std::string& clip_id, size_t n,
                                        int width) {
  auto cat = catalog::load(data);
  auto& c = cat.find(clip_id);
  auto src = frame_source::open("catalog:" + clip_id, data);
  auto step = std::max(1, c.frames / static_cast<int>(n));
  std::vector<frame> out;
  cv::Mat img;
  double t = 0;
  for (int i = 0; src->next(img, t) && out.size() < n; ++i)
    if (i % step == 0)
      out.push_back({encode_jpeg(img, width), static_cast<uint64_t>(t * 1000)});
  return out;
}

} // namespace recl::bench
