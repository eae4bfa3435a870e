// recl-bench-edge: the edge for real (issue 15). One camera roams places
// against a real recld (replay clock, the shipped weights as the base
// expert) over loopback. It is an edge as recl-edge is: it tells the server
// the model it holds, takes served models as delta updates (the edge
// runtime's swap_update), and runs its model on its own frames. Each catalog
// clip is one window: its first half is sampled and sent, the second half
// is what the edge sees next, scored against the teacher (bench only).
//
// Prints, per window and in total:
// - bytes per model update: the delta recld sent, and what a full update,
//   the LibTorch archive and the fp16 forms would have cost for the same
//   model (computed at the edge from the models it holds);
// - the accuracy the edge measured on its next frames next to the server's
//   estimate for the window (the served model on the window's own frames);
// - the fp16 form's accuracy against the exact model on the same frames;
// - the edge's inference ms per frame at its input size.
// Paired differences come with 95% bootstrap intervals.

#include "bench/data.hpp"
#include "bench/samples.hpp"
#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "edge/runtime.hpp"
#include "gpu/device.hpp"
#include "gpu/trainer.hpp"
#include "schema/model_update.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <csignal>
#include <set>
#include <optional>
#include <cstdio>

using namespace recl;

namespace {

/// One window of the roaming camera: a clip's two halves.
struct window_plan {
  std::string place, clip;
  std::vector<frame> sent; ///< the first half, as the edge sends it
  labelled_frames next;    ///< the second half, with the teacher's labels
};

/// Update sizes for one served model, in bytes.
struct update_bytes {
  size_t sent = 0; ///< what recld sent (a delta unless the edge held nothing)
  size_t archive = 0, full = 0, full_half = 0, delta_half = 0;
  bool delta = false;
  size_t tensors = 0, all_tensors = 0;
};

/// What one window gave.
struct window_result {
  std::string served; ///< "swap to ID (source)" or "kept ID"
  float server_estimate = -1;
  double edge_accuracy = -1, edge_accuracy_half = -1;
  std::optional<update_bytes> update;
};

std::vector<window_plan> plan_windows(const options& o, const std::string& data,
                                      labeller& teacher) {
  auto cat = catalog::load(data);
  auto per_place = static_cast<size_t>(o.get_int("windows-per-place", 1, 100));
  auto nsend = static_cast<size_t>(o.get_int("frames", 1, 256));
  auto nscore = static_cast<size_t>(o.get_int("score-frames", 1, 1000));
  std::vector<window_plan> out;
  std::set<std::string> played; // a place visited again plays later clips
  for (auto& place : split(o.get("places"), ',')) {
    size_t taken = 0;
    for (auto& c : cat.clips()) {
      if (c.place != place || is_pretraining_clip(cat, c.id)
          || taken == per_place || !played.insert(c.id).second)
        continue;
      ++taken;
      window_plan w{place, c.id, {}, {}};
      sampled_frames first, second;
      sample_clip(c, data, 0, c.frames / 2, nsend, first);
      sample_clip(c, data, c.frames / 2, c.frames, nscore, second);
      for (size_t i = 0; i < first.mats.size(); ++i)
        w.sent.push_back({encode_jpeg(first.mats[i], 640),
                          static_cast<uint64_t>(first.index[i] * 1000.0
                                                / std::max(1.0, c.fps))});
      w.next = label(second, teacher);
      out.push_back(std::move(w));
    }
    if (taken == 0)
      throw usage_error("place '" + place
                        + "' has no more clips outside the pretraining split");
  }
  return out;
}

double accuracy(expert& m, const labelled_frames& f) {
  return detection_accuracy(m.detect_for_scoring(f.frames), f.labels);
}

/// The alternatives to the update just applied: `old` is what the edge held
/// before (nullptr: nothing), `now` what it holds.
update_bytes measure(const expert* old, expert& now, size_t sent,
                     const edge_model::update_result& u) {
  update_bytes b;
  b.sent = sent;
  b.delta = u.delta;
  b.tensors = u.tensors;
  b.all_tensors = now.tensors().size();
  b.archive = now.to_bytes().size();
  b.full = encode(make_update(nullptr, "", now, false)).size();
  b.full_half = encode(make_update(nullptr, "", now, true)).size();
  b.delta_half
    = old ? encode(make_update(old, content_hash(*old), now, true)).size()
          : b.full_half;
  return b;
}

/// Sends one window, applies what is served, scores the edge's next frames.
window_result play_window(client& c, uint32_t index, const window_plan& w,
                          edge_model& edge) {
  window_result out;
  auto old = edge.model() ? edge.model()->clone() : nullptr;
  auto r = c.update(index, w.sent, 2,
                    held_model{edge.id(), edge.hash(), update_form::delta});
  out.server_estimate = r.accuracy;
  out.served = r.swap ? "swap to " + r.model_id + " (" + r.source + ")"
                      : "kept " + edge.id();
  if (r.swap && !r.update.empty()) {
    auto u = edge.swap_update(r.model_id, r.update);
    if (!u.error.empty())
      throw std::runtime_error("window " + std::to_string(index)
                               + ": the update does not apply: " + u.error);
    out.update = measure(old.get(), *edge.model(), r.update.size(), u);
  } else if (r.swap) {
    throw std::runtime_error("window " + std::to_string(index)
                             + ": a swap without a model update");
  }
  if (!edge.model())
    return out;
  out.edge_accuracy = accuracy(*edge.model(), w.next);
  auto half
    = apply_update(nullptr, make_update(nullptr, "", *edge.model(), true),
                   edge.model()->options());
  out.edge_accuracy_half = accuracy(*half, w.next);
  return out;
}

/// The edge's inference on every scored frame, one frame at a time as the
/// edge runs it, once recld has stopped (its training would share the CPU).
edge_model::stats time_inference(edge_model& edge,
                                 const std::vector<window_plan>& windows) {
  edge.take();
  for (auto& w : windows)
    for (auto& img : w.next.frames) {
      cv::Mat mat(img.height, img.width, CV_8UC3,
                  const_cast<uint8_t*>(img.bgr.data()));
      edge.run(mat, 0);
    }
  return edge.take();
}

void print_window(uint32_t i, const window_plan& w, const window_result& r) {
  std::printf("window %2u %-32s %-40s server %.3f edge %.3f fp16 %+.4f", i,
              w.place.c_str(), r.served.c_str(), r.server_estimate,
              r.edge_accuracy, r.edge_accuracy_half - r.edge_accuracy);
  if (r.update)
    std::printf(" | %s %zu/%zu tensors %s (full %s, fp16 %s)",
                r.update->delta ? "delta" : "full", r.update->tensors,
                r.update->all_tensors, human_bytes(r.update->sent).c_str(),
                human_bytes(r.update->full).c_str(),
                human_bytes(r.update->delta_half).c_str());
  std::printf("\n");
  std::fflush(stdout);
}

void print_ci(const char* what, const std::vector<double>& diffs) {
  auto ci = bench::bootstrap_mean(diffs);
  std::printf("%-44s %+.4f (95%% CI %+.4f..%+.4f, n=%zu)%s\n", what, ci.mean,
              ci.lo, ci.hi, ci.n,
              ci.measurable() ? "" : ": no measurable difference");
}

void summarise(const std::vector<window_result>& rs, double edge_ms,
               uint64_t edge_frames) {
  std::vector<double> est_gap, half_gap;
  double est = 0, edge = 0;
  std::vector<const update_bytes*> deltas;
  for (auto& r : rs) {
    if (r.edge_accuracy >= 0 && r.server_estimate >= 0) {
      est_gap.push_back(r.edge_accuracy - r.server_estimate);
      est += r.server_estimate;
      edge += r.edge_accuracy;
    }
    if (r.edge_accuracy >= 0)
      half_gap.push_back(r.edge_accuracy_half - r.edge_accuracy);
    if (r.update && r.update->delta)
      deltas.push_back(&*r.update);
  }
  std::printf("\n-- model updates (%zu deltas) --\n", deltas.size());
  if (!deltas.empty()) {
    double sent = 0, full = 0, archive = 0, full_half = 0, delta_half = 0,
           tensors = 0;
    for (auto* d : deltas) {
      sent += d->sent;
      full += d->full;
      archive += d->archive;
      full_half += d->full_half;
      delta_half += d->delta_half;
      tensors += double(d->tensors) / d->all_tensors;
    }
    auto n = double(deltas.size());
    std::printf("mean bytes per update: archive %s, full %s, delta %s "
                "(%.2fx smaller than full; %.0f%% of tensors), full fp16 %s, "
                "delta fp16 %s (%.2fx smaller than full)\n",
                human_bytes(archive / n).c_str(), human_bytes(full / n).c_str(),
                human_bytes(sent / n).c_str(), full / sent, 100 * tensors / n,
                human_bytes(full_half / n).c_str(),
                human_bytes(delta_half / n).c_str(), full / delta_half);
  }
  std::printf("\n-- accuracy (mAP@0.5 against the teacher) --\n");
  if (!est_gap.empty())
    std::printf("server's estimate (window's frames) %.3f, edge's own "
                "(next frames) %.3f over %zu windows\n",
                est / est_gap.size(), edge / est_gap.size(), est_gap.size());
  print_ci("edge's own minus the server's estimate", est_gap);
  print_ci("fp16 weights minus exact, same frames", half_gap);
  if (edge_frames > 0)
    std::printf("\n-- edge inference --\n%.1f ms/frame (%.1f frames/s) over "
                "%llu frames\n",
                edge_ms / edge_frames, 1000 * edge_frames / edge_ms,
                static_cast<unsigned long long>(edge_frames));
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-edge", "[options]",
            "One roaming edge against a real recld: update bytes (delta, "
            "full, fp16), the edge's own accuracy next to the server's "
            "estimate, and edge inference time."};
  bench::add_data_option(o)
    .add("places", "LIST",
         "places the camera visits, in order (again: later clips)",
         "caltrans-n280-at-indiana-st,caltrans-s101-nof-84-woodside-rd,"
         "caltrans-w92-at-el-camino-real,caltrans-n280-at-indiana-st,"
         "caltrans-s101-nof-84-woodside-rd")
    .add("windows-per-place", "N", "windows (clips) at each place", "3")
    .add("frames", "N", "frames sent per window", "10")
    .add("score-frames", "N", "frames the edge scores per window", "16")
    .add("budget", "N", "recld's training budget per window", "3")
    .add("threads", "N", "LibTorch threads here and in recld", "2")
    .add("cache", "DIR", "label cache (default: $RECL_CACHE or ~/.cache/recl)");
  return run_command(o, argc, argv, [&] {
    auto data = bench::data_folder(o);
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 1, 64)));
    auto teacher = make_labeller(data_teacher(data, false), o.get("cache"));
    auto windows = plan_windows(o, data, teacher);
    test::temp_dir dir;
    test::process d{test::bin("recld"),
                    {"--data-dir",    dir.path() + "/data",
                     "--listen",      "127.0.0.1:0",
                     "--data",        data,
                     "--token",       "bench-edge-token",
                     "--base-expert", test::pretrained_archive(),
                     "--clock",       "replay",
                     "--budget",      o.get("budget"),
                     "--generalist",  "off",
                     "--threads",     o.get("threads"),
                     "--log-level",   "warning"}};
    client c{test::recld_address(d, 120)};
    c.register_camera("roamer", "bench-edge-token");
    std::printf("edge bench: %zu windows over %s\n", windows.size(),
                o.get("places").c_str());
    edge_model edge{{}, "", 0};
    std::vector<window_result> results;
    for (uint32_t i = 0; i < windows.size(); ++i) {
      results.push_back(play_window(c, i, windows[i], edge));
      print_window(i, windows[i], results.back());
    }
    c.close_session();
    d.signal(SIGTERM);
    auto rc = d.wait(60);
    auto s = time_inference(edge, windows);
    summarise(results, s.ms, s.frames);
    return rc == 0 ? 0 : 1;
  });
}
