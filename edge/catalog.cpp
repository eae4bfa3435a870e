#include "edge/catalog.hpp"

#include "common/util.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

namespace fs = std::filesystem;

namespace recl {

catalog catalog::load(const std::string& data_dir) {
  auto path = data_dir + "/catalog.tsv";
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  catalog out;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1 || trim(line).empty())
      continue; // header
    auto f = split(line, '\t');
    if (f.size() < 13)
      throw std::runtime_error(path + ":" + std::to_string(lineno)
                               + ": expected at least 13 columns, got "
                               + std::to_string(f.size()));
    clip c;
    try {
      c.id = f[0];
      c.path = (fs::path{data_dir} / f[1]).string();
      c.kind = f[2];
      c.frames = std::stoi(f[3]);
      c.fps = std::stod(f[4]);
      c.width = std::stoi(f[5]);
      c.height = std::stoi(f[6]);
      c.seconds = std::stod(f[7]);
      c.place = f[8];
      c.camera = f[9];
      c.light = f[10];
      c.weather = f[11];
      c.road = f[12];
    } catch (const std::exception&) {
      throw std::runtime_error(path + ":" + std::to_string(lineno)
                               + ": malformed number");
    }
    out.clips_.push_back(std::move(c));
  }
  return out;
}

const clip& catalog::find(const std::string& id) const {
  for (auto& c : clips_)
    if (c.id == id)
      return c;
  throw std::invalid_argument("no clip '" + id + "' in the catalog");
}

std::vector<clip> pretraining_clips(const catalog& cat) {
  std::map<std::string, int> count;
  for (auto& c : cat.clips())
    count[c.place] += 1;
  std::vector<clip> out;
  std::set<std::string> seen;
  for (auto& c : cat.clips())
    if (count[c.place] >= 2 && seen.insert(c.place).second)
      out.push_back(c);
  return out;
}

bool is_pretraining_clip(const catalog& cat, const std::string& id) {
  for (auto& c : pretraining_clips(cat))
    if (c.id == id)
      return true;
  return false;
}

std::string find_data_dir() {
  if (auto* env = std::getenv("RECL_DATA"); env && *env)
    return fs::exists(env) ? std::string{env} : std::string{};
  if (fs::exists("../shared/data/catalog.tsv"))
    return fs::absolute("../shared/data").lexically_normal().string();
  return {};
}

} // namespace recl
