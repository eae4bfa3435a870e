#include "gpu/label_cache.hpp"

#include "common/util.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace fs = std::filesystem;

namespace recl {

std::string teacher_key(const teacher_options& o) {
  std::ostringstream s;
  s << o.spec << "|" << o.input_width << "x" << o.input_height << "|"
    << o.score_threshold << "|" << o.nms_threshold << "|" << o.tiling << "|"
    << o.auto_tile_width << "|";
  for (auto c : o.classes)
    s << c << ",";
  if (o.flip) // only when on: the keys of existing caches stay as they were
    s << "|flip:max"; // fuse_boxes' rule is part of what the labels mean
  if (o.extra_input > 0)
    s << "|extra:" << o.extra_input;
  auto name = o.spec.rfind("yolox:", 0) == 0 ? std::string{"yolox"} : o.spec;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016zx", std::hash<std::string>{}(s.str()));
  return name + "-" + std::to_string(o.input_width) + "x"
         + std::to_string(o.input_height)
         + (o.tiling == "off" ? "" : "-tiled-" + o.tiling)
         + (o.flip ? "-flip" : "")
         + (o.extra_input > 0 ? "+" + std::to_string(o.extra_input) : "") + "-"
         + hex;
}

std::string default_cache_dir() {
  if (auto* env = std::getenv("RECL_CACHE"); env && *env)
    return env;
  if (auto* home = std::getenv("HOME"); home && *home)
    return std::string{home} + "/.cache/recl";
  return "/tmp/recl-cache";
}

label_cache::label_cache(std::string dir, std::string key)
  : dir_(std::move(dir) + "/labels/" + key) {
  fs::create_directories(dir_);
}

std::string label_cache::path(const std::string& clip) const {
  return dir_ + "/" + clip + ".tsv";
}

void label_cache::load(const std::string& clip) {
  auto& m = entries_[clip];
  std::ifstream in{path(clip)};
  std::string line;
  while (std::getline(in, line)) {
    // frame <TAB> x0 y0 x1 y1 score cls [<TAB> ...]
    auto fields = split(line, '\t');
    if (fields.empty() || fields[0].empty())
      continue;
    std::vector<box> boxes;
    bool ok = true;
    for (size_t i = 1; i < fields.size() && ok; ++i) {
      if (fields[i].empty())
        continue;
      std::istringstream s{fields[i]};
      box b;
      ok = static_cast<bool>(s >> b.x0 >> b.y0 >> b.x1 >> b.y1 >> b.score
                             >> b.cls);
      boxes.push_back(b);
    }
    if (ok) // a torn last line (crash while appending) is relabelled
      m[std::stoi(fields[0])] = std::move(boxes);
  }
}

std::vector<box> label_cache::get(const std::string& clip, int index,
                                  const cv::Mat& frame, teacher& t) {
  if (!entries_.count(clip))
    load(clip);
  auto& m = entries_[clip];
  if (auto i = m.find(index); i != m.end())
    return i->second;
  auto boxes = t.detect(frame);
  ++computed_;
  std::ostringstream line;
  line.precision(9); // floats read back exactly as computed
  line << index;
  for (auto& b : boxes)
    line << "\t" << b.x0 << " " << b.y0 << " " << b.x1 << " " << b.y1 << " "
         << b.score << " " << b.cls;
  line << "\n";
  std::ofstream out{path(clip), std::ios::app};
  out << line.str();
  m[index] = boxes;
  return boxes;
}

} // namespace recl
