#pragma once
// Camera streams for recl-bench, built from the catalog.
//
// Two plans (DESIGN.md, "Evaluation protocol"):
//  - fixed: a camera stays at its place and plays that place's unused clips
//    back to back; two cameras share each place.
//  - roaming: a camera dwells `dwell` windows at a place, then moves on to
//    the next place. Camera c starts at place c, so camera c arrives where
//    camera c+1 was one dwell before: places recur across cameras (what a
//    shared zoo can reuse) and, once every camera has gone round, over time.
// In both, a window is a segment of up to T seconds of one clip (long clips
// are cut into several), no segment is played twice in a run, and the base
// expert's pretraining clips are never played.

#include "edge/catalog.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace recl::bench {

/// One window of a camera's stream: a segment of a clip.
struct segment {
  const clip* c = nullptr;
  int from = 0, to = 0; // frames
  double seconds() const { return (to - from) / std::max(1.0, c->fps); }
};

using streams = std::vector<std::vector<segment>>;

namespace detail {

/// Every playable clip of the catalog, by place, in catalog order.
inline std::map<std::string, std::vector<const clip*>>
clips_by_place(const catalog& cat) {
  std::map<std::string, std::vector<const clip*>> by_place;
  for (auto& c : cat.clips())
    if (!is_pretraining_clip(cat, c.id) && c.fps > 0 && c.frames > 0)
      by_place[c.place].push_back(&c);
  return by_place;
}

/// A clip cut into segments of up to T seconds (a tail shorter than half a
/// window is dropped).
inline std::vector<segment> cut(const clip* c, double T) {
  std::vector<segment> out;
  auto per = std::max(1, static_cast<int>(T * c->fps));
  for (int f = 0; f + per / 2 < c->frames; f += per)
    out.push_back({c, f, std::min(c->frames, f + per)});
  return out;
}

} // namespace detail

/// Fixed cameras: `cameras` streams of `windows` windows of up to `T`
/// seconds. Each camera plays unused clips of its place back to back (the
/// next place when those run out); two cameras share each place, so places
/// recur across cameras. Only places with two or more playable clips take
/// part. Throws std::runtime_error when the catalog has no such place.
inline streams make_streams(const catalog& cat, size_t cameras, size_t windows,
                            double T) {
  auto by_place = detail::clips_by_place(cat);
  std::vector<std::string> places;
  for (auto& [p, cs] : by_place)
    if (cs.size() >= 2)
      places.push_back(p);
  if (places.empty())
    throw std::runtime_error(
      "the catalog has no place with two clips outside the pretraining "
      "split, which the fixed plan needs (try --plan roaming)");
  // Most clips first: they can feed the most cameras.
  std::stable_sort(places.begin(), places.end(), [&](auto& a, auto& b) {
    return by_place[a].size() > by_place[b].size();
  });
  std::map<std::string, size_t> next; // next unused clip per place
  streams out(cameras);
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
          for (auto& sg : detail::cut(cs[next[place]++], T))
            if (out[cam].size() < windows)
              out[cam].push_back(sg);
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

/// Roaming cameras: each camera dwells `dwell` windows at a place, then
/// moves to the next. Places are those with at least `dwell` segments, the
/// most often filmed first (most clips, then most segments): those are the
/// places that recur over days, which is what a shared zoo is for; camera c
/// starts at place c (mod their number). A place's
/// segments are handed out in catalog order, `dwell` at a time, so no
/// segment is played twice; a place that cannot feed a whole dwell any more
/// is skipped. Throws std::runtime_error when no place can feed a dwell.
inline streams make_roaming_streams(const catalog& cat, size_t cameras,
                                    size_t windows, double T, size_t dwell) {
  dwell = std::max<size_t>(1, dwell);
  std::map<std::string, std::deque<segment>> left;
  std::map<std::string, size_t> clips;
  for (auto& [p, cs] : detail::clips_by_place(cat)) {
    clips[p] = cs.size();
    for (auto* c : cs)
      for (auto& sg : detail::cut(c, T))
        left[p].push_back(sg);
  }
  std::vector<std::string> places;
  for (auto& [p, sgs] : left)
    if (sgs.size() >= dwell)
      places.push_back(p);
  if (places.empty())
    throw std::runtime_error(
      "no place in the catalog has " + std::to_string(dwell) + " windows of "
      + std::to_string(T) + " s to feed one dwell of the roaming plan");
  std::stable_sort(places.begin(), places.end(), [&](auto& a, auto& b) {
    if (clips[a] != clips[b])
      return clips[a] > clips[b];
    return left[a].size() > left[b].size();
  });
  streams out(cameras);
  std::vector<size_t> at(cameras);
  for (size_t cam = 0; cam < cameras; ++cam)
    at[cam] = cam % places.size();
  // One dwell per camera per round, so cameras move in step.
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t cam = 0; cam < cameras; ++cam) {
      if (out[cam].size() >= windows)
        continue;
      for (size_t tries = 0; tries < places.size(); ++tries) {
        auto& q = left[places[at[cam]]];
        at[cam] = (at[cam] + 1) % places.size();
        if (q.size() < dwell)
          continue;
        for (size_t k = 0; k < dwell && out[cam].size() < windows; ++k) {
          out[cam].push_back(q.front());
          q.pop_front();
        }
        progress = true;
        break;
      }
    }
  }
  return out;
}

/// Throws std::runtime_error (one line) when a plan came out short: the
/// catalog cannot feed `windows` windows to every camera.
inline void check_streams(const streams& s, size_t windows,
                          const std::string& plan) {
  for (size_t cam = 0; cam < s.size(); ++cam)
    if (s[cam].size() < windows)
      throw std::runtime_error(
        "the catalog cannot feed the " + plan + " plan: camera "
        + std::to_string(cam) + " gets " + std::to_string(s[cam].size())
        + " of " + std::to_string(windows)
        + " windows (fewer cameras or windows, or shorter windows)");
}

} // namespace recl::bench
