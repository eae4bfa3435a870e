#pragma once
// Camera streams for recl-bench, built from the catalog.

#include "edge/catalog.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace recl::bench {

/// One window of a camera's stream: a segment of a clip.
struct segment {
  const clip* c = nullptr;
  int from = 0, to = 0; // frames
  double seconds() const { return (to - from) / std::max(1.0, c->fps); }
};

/// Streams for `cameras` cameras of `windows` windows of up to `T` seconds.
/// Cameras are fixed: each plays unused clips of its place back to back (the
/// next place when those run out). Two cameras share each place, so places
/// recur across cameras; no clip is played twice; pretraining clips never.
inline std::vector<std::vector<segment>>
make_streams(const catalog& cat, size_t cameras, size_t windows, double T) {
  std::map<std::string, std::vector<const clip*>> by_place;
  for (auto& c : cat.clips())
    if (!is_pretraining_clip(cat, c.id) && c.fps > 0 && c.frames > 0)
      by_place[c.place].push_back(&c);
  std::vector<std::string> places;
  for (auto& [p, cs] : by_place)
    if (cs.size() >= 2)
      places.push_back(p);
  // Most clips first: they can feed the most cameras.
  std::stable_sort(places.begin(), places.end(), [&](auto& a, auto& b) {
    return by_place[a].size() > by_place[b].size();
  });
  std::map<std::string, size_t> next; // next unused clip per place
  std::vector<std::vector<segment>> out(cameras);
  std::vector<size_t> at(cameras);
  for (size_t cam = 0; cam < cameras; ++cam)
    at[cam] = (cam / 2) % places.size();
  // Deal one clip at a time to each camera in turn, so that cameras sharing
  // a place alternate its clips.
  for (size_t round = 0; round < 1000; ++round) {
    bool all_full = true;
    for (size_t cam = 0; cam < cameras; ++cam) {
      if (out[cam].size() >= windows)
        continue;
      all_full = false;
      for (size_t tries = 0; tries < places.size(); ++tries) {
        auto& place = places[at[cam]];
        auto& cs = by_place[place];
        if (next[place] < cs.size()) {
          auto* c = cs[next[place]++];
          auto per = std::max(1, static_cast<int>(T * c->fps));
          for (int f = 0; f + per / 2 < c->frames && out[cam].size() < windows;
               f += per)
            out[cam].push_back({c, f, std::min(c->frames, f + per)});
          break;
        }
        at[cam] = (at[cam] + 1) % places.size();
      }
    }
    if (all_full)
      break;
  }
  return out;
}

} // namespace recl::bench
