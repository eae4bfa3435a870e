// recl-edge: plays a camera against recld. Reads a video, a folder of frames
// or catalog clips, samples frames, sends one window every --window-seconds
// of stream time, and prints a line per window.

#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "edge/link.hpp"
#include "edge/runtime.hpp"
#include "edge/sender.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <utility>

using namespace recl;

namespace {

options make_options() {
  options o{"recl-edge",
            "--server HOST:PORT --camera ID --source PATH [options]",
            "An edge camera client: samples frames from PATH (a video file, a "
            "folder of\nframes, catalog:ID[,ID...] or a live stream), runs the "
            "model recld serves on\nthem, and queries recld every "
            "model-update window."};
  o.add("server", "HOST:PORT", "recld's address", "127.0.0.1:7450")
    .add("camera", "ID", "this camera's id (1-64 of A-Z a-z 0-9 . _ -)")
    .add("source", "PATH",
         "video file, folder of frames, catalog:ID,..., or a live stream "
         "(rtsp://, http(s)://, /dev/videoN: timed by the clock, opened "
         "again when it fails)")
    .add("windows", "N", "stop after N windows (0 = until the source ends)",
         "0")
    .add("window-seconds", "T", "model-update window in stream seconds", "30")
    .add("sample-fps", "F",
         "frames sampled per stream second (the server may "
         "change it)",
         "1")
    .add("frame-width", "PX", "shrink frames wider than this before sending",
         "640")
    .add("jpeg-quality", "Q", "JPEG quality", "90")
    .add("folder-fps", "F", "frame rate of a folder of frames", "1")
    .add("data", "DIR",
         "shared data folder for catalog: sources "
         "(default: $RECL_DATA, else ../shared/data)")
    .add("token", "SECRET",
         "a camera credential's token, or recld's master token (default: "
         "$RECL_TOKEN)")
    .add("token-file", "FILE", "read the token from FILE")
    .add_flag("realtime",
              "play the source at stream speed, windows sent on the side "
              "while the model runs (live sources always are); without it, "
              "as fast as the server answers");
  o.add("detections", "FILE",
        "write the served model's detections on every frame run, as JSON "
        "lines ('-': stdout)")
    .add("infer-fps", "F",
         "frames per stream second the served model runs on (0: every "
         "frame decoded)",
         "0")
    .add("expert-input", "WxH", "the served model's input size (recld's)",
         "256x160")
    .add("state-dir", "DIR",
         "keep the served model in DIR: a restarted edge resumes with it")
    .add("annotate", "FILE",
         "also write the frames the model runs on, boxes drawn, as a video "
         "(e.g. out.mp4)")
    .add("updates", "FORM",
         "how served models come: delta (the tensors that differ from the "
         "model running, checked by hash), delta-fp16 (the same at half the "
         "bytes, weights rounded to fp16) or full (the whole model)",
         "delta")
    .add("poll-steps", "S",
         "every S seconds between windows, ask for the models the last "
         "window's job streamed so far (recld --stream-models) and run "
         "each as it comes (0: only what window replies serve)",
         "0");
  add_tls_options(o);
  return o;
}

struct run_stats {
  uint32_t windows = 0;
  double reply_ms = 0;
  double boxes = 0;
  uint64_t frames = 0;
  double acc_sum = 0;
  uint32_t acc_n = 0;
};

/// What recl-edge was told to do.
struct edge_settings {
  std::string server, camera, source, data, token;
  int64_t max_windows = 0, frame_width = 640, quality = 90;
  double window_s = 30, sample_fps = 1, folder_fps = 1;
  bool realtime = false;
  tls_options tls;
  std::string detections, state_dir, annotate;
  double infer_fps = 0;
  double poll_s = 0; ///< --poll-steps
  expert_options model;
  update_form updates = update_form::delta;
};

edge_settings read_settings(const options& o) {
  if (!o.positional().empty())
    throw usage_error("unexpected argument '" + o.positional()[0] + "'");
  for (auto req : {"camera", "source"})
    if (!o.given(req))
      throw usage_error(std::string{"--"} + req + " is required (see --help)");
  edge_settings e;
  e.server = o.get("server");
  e.tls = read_tls_options(o);
  e.detections = o.get("detections");
  e.state_dir = o.get("state-dir");
  e.annotate = o.get("annotate");
  e.infer_fps = o.get_double("infer-fps", 0, 1000);
  e.poll_s = o.get_double("poll-steps", 0, 3600);
  auto form = o.get("updates");
  if (form == "full")
    e.updates = update_form::archive;
  else if (form == "delta-fp16")
    e.updates = update_form::delta_half;
  else if (form != "delta")
    o.fail("updates", "'" + form + "' is not delta, delta-fp16 or full");
  std::tie(e.model.input_width, e.model.input_height)
    = o.get_size("expert-input", 4096);
  try {
    parse_endpoint(e.server);
  } catch (const std::invalid_argument& x) {
    o.fail("server", x.what());
  }
  e.camera = o.get("camera");
  if (!valid_camera_id(e.camera))
    o.fail("camera", "'" + e.camera + "' is not 1-64 of A-Z a-z 0-9 . _ -");
  e.source = o.get("source");
  e.max_windows = o.get_int("windows", 0, 1000000000);
  e.window_s = o.get_double("window-seconds", 0.1, 86400);
  e.sample_fps = o.get_double("sample-fps", 0.01, 120);
  e.frame_width = o.get_int("frame-width", 16, 8192);
  e.quality = o.get_int("jpeg-quality", 1, 100);
  e.folder_fps = o.get_double("folder-fps", 0.01, 1000);
  e.data = o.given("data") ? o.get("data") : find_data_dir();
  e.realtime = o.flag("realtime");
  try {
    e.token = load_token(o.get("token"), o.get("token-file"));
  } catch (const rpc_error& x) { // no token to be had: a usage error
    throw usage_error(x.what());
  }
  return e;
}

/// One line for a window's reply: what was sent, what was served, and where
/// the reply's time went.
void print_window(const std::string& camera, uint32_t index, size_t frames,
                  const window_reply& r, const std::string& model_id,
                  double per_frame) {
  auto transfer = std::max(0.0, r.round_trip_ms - r.time.total_ms);
  auto& t = r.time;
  auto other
    = std::max(0.0, t.total_ms - t.queue_ms - t.decode_ms - t.teacher_ms
                      - t.select_ms - t.check_ms - t.fetch_ms - t.link_ms);
  std::string served;
  if (r.swap)
    served = "swap to " + r.model_id + " (" + r.source + ")";
  else
    served = "kept " + (model_id.empty() ? std::string{"(none)"} : model_id);
  char acc[96] = "";
  if (r.accuracy >= 0 && r.current_accuracy >= 0 && r.swap)
    std::snprintf(acc, sizeof acc, ", accuracy %.3f (was %.3f)", r.accuracy,
                  r.current_accuracy);
  else if (r.accuracy >= 0)
    std::snprintf(acc, sizeof acc, ", accuracy %.3f", r.accuracy);
  std::printf("[%s] window %u: %zu frames (%s), teacher %.1f boxes/frame "
              "| %s%s | zoo %u, %u candidates | reply %.0f ms = transfer "
              "%.0f + queue %.0f + decode %.0f + teacher %.0f + select "
              "%.0f + check %.0f + fetch %.0f + link %.0f + other %.1f\n",
              camera.c_str(), index, frames,
              human_bytes(r.request_bytes).c_str(), per_frame, served.c_str(),
              acc, r.zoo_size, r.candidates, r.round_trip_ms, transfer,
              t.queue_ms, t.decode_ms, t.teacher_ms, t.select_ms, t.check_ms,
              t.fetch_ms, t.link_ms, other);
  if (r.compare.oracle >= 0) // the server compares selectors
    std::printf("[%s] window %u: same zoo: gating's pick %.3f, ODIN's "
                "%.3f, best expert %.3f\n",
                camera.c_str(), index, r.compare.gating, r.compare.odin,
                r.compare.oracle);
  if (!r.saved)
    std::fprintf(stderr, "[%s] window %u: warning: %s\n", camera.c_str(), index,
                 r.note.c_str());
  std::fflush(stdout);
}

/// One line for what the edge's own model did during a window.
void print_inference(const std::string& camera, uint32_t index,
                     const std::string& model, const edge_model::stats& s) {
  if (s.frames == 0)
    return;
  std::printf("[%s] window %u: edge ran %s on %llu frames, %.1f ms/frame "
              "(%.0f frames/s), %.1f boxes/frame\n",
              camera.c_str(), index, model.c_str(),
              static_cast<unsigned long long>(s.frames), s.ms / s.frames,
              1000 * s.frames / std::max(1e-9, s.ms),
              double(s.boxes) / s.frames);
}

/// Adds a window's reply to the run's totals.
void tally(run_stats& stats, const window_reply& r, size_t frames,
           double per_frame) {
  stats.windows += 1;
  stats.reply_ms += r.round_trip_ms;
  stats.boxes += per_frame;
  stats.frames += frames;
  if (r.accuracy >= 0) {
    stats.acc_sum += r.accuracy;
    stats.acc_n += 1;
  }
}

/// Runs the model a reply serves, if any; on failure the edge keeps its own.
void take_model(const edge_settings& e, uint32_t index, const window_reply& r,
                edge_model& model) {
  if (!r.swap || (r.weights.empty() && r.update.empty()))
    return;
  auto was = model.id().empty() ? std::string{"nothing"} : model.id();
  std::string why;
  if (!r.update.empty()) {
    auto u = model.swap_update(r.model_id, r.update);
    why = u.error;
    if (why.empty())
      std::printf("[%s] window %u: %s update to %s: %zu tensors, %s, hash "
                  "checked\n",
                  e.camera.c_str(), index, u.delta ? "delta" : "full",
                  r.model_id.c_str(), u.tensors,
                  human_bytes(r.update.size()).c_str());
  } else {
    why = model.swap(r.model_id, r.weights);
  }
  if (!why.empty())
    std::fprintf(stderr,
                 "[%s] window %u: warning: cannot load %s (%s); the edge "
                 "keeps running %s\n",
                 e.camera.c_str(), index, r.model_id.c_str(), why.c_str(),
                 was.c_str());
}

/// Runs a model the last window's job streamed (--poll-steps).
void take_step(const edge_settings& e, const window_sender::answered& a,
               edge_model& model) {
  std::printf("[%s] window %u: step %zu of its job (%.0f%% into its budget, "
              "held-out accuracy %.3f): %s\n",
              e.camera.c_str(), a.index, a.step, 100.0 * a.at, a.reply.accuracy,
              a.reply.model_id.c_str());
  take_model(e, a.index, a.reply, model);
}

/// Reports a window's reply and takes the model it serves, if any.
void take_reply(edge_settings& e, uint32_t index, size_t frames,
                const window_reply& r, edge_model& model, run_stats& stats) {
  size_t nboxes = 0;
  for (auto& l : r.labels)
    nboxes += l.boxes.size();
  double per_frame = r.labels.empty() ? 0 : double(nboxes) / r.labels.size();
  print_window(e.camera, index, frames, r, model.id(), per_frame);
  take_model(e, index, r, model);
  if (r.next_sample_fps > 0)
    e.sample_fps = r.next_sample_fps; // the server's sampling-rate rule
  tally(stats, r, frames, per_frame);
}

/// Plays the source through the server, a window at a time; returns the
/// exit code. On the clock (--realtime, live sources) windows go to the
/// server on the side and the model goes on running meanwhile; otherwise
/// stream time waits for each answer (as fast as the server answers).
int play(edge_settings e) {
  auto src = frame_source::open(e.source, e.data, e.folder_fps);
  auto say = [camera = e.camera](const std::string& what) {
    std::printf("[%s] %s\n", camera.c_str(), what.c_str());
    std::fflush(stdout);
  };
  bool on_clock = e.realtime || src->live();
  window_sender sender{{e.server, e.camera, e.token, e.tls}, say, 1, e.poll_s};
  say("playing " + src->describe() + " (window "
      + std::to_string(static_cast<int>(e.window_s)) + " s) for " + e.server);
  run_stats stats;
  edge_model model{e.model, e.detections, e.infer_fps};
  if (!e.annotate.empty())
    model.annotate_to(e.annotate);
  std::vector<frame> pending;
  if (!e.state_dir.empty() && !model.keep_in(e.state_dir).empty())
    say("resuming with " + model.id() + " from " + e.state_dir);
  double window_start = 0, next_sample = 0;
  uint32_t index = 0;
  auto started = std::chrono::steady_clock::now();
  auto take_replies = [&] {
    for (auto& a : sender.take())
      if (a.step > 0)
        take_step(e, a, model);
      else
        take_reply(e, a.index, a.frames, a.reply, model, stats);
  };
  auto send = [&]() {
    auto most = sender.limits().max_frames;
    if (pending.size() > most)
      pending.resize(most);
    take_replies(); // the window names the model the edge runs now
    print_inference(e.camera, index, model.id(), model.take());
    if (!sender.submit(index, std::exchange(pending, {}),
                       static_cast<float>(e.sample_fps),
                       held_model{model.id(), model.hash(), e.updates}))
      say("window " + std::to_string(index)
          + " dropped: the server still has the one before");
    if (!on_clock)
      sender.drain();
    take_replies();
    ++index;
  };
  cv::Mat img;
  double t = 0;
  bool done = false;
  while (!done && src->next(img, t)) {
    if (e.realtime) // each frame at its time in the stream
      std::this_thread::sleep_until(started + std::chrono::duration<double>(t));
    take_replies(); // a model served meanwhile runs from this frame on
    model.run(img, t);
    while (t >= window_start + e.window_s) {
      if (!pending.empty())
        send();
      window_start += e.window_s;
      if (e.max_windows > 0 && index >= e.max_windows) {
        done = true;
        break;
      }
    }
    if (done)
      break;
    if (t + 1e-9 >= next_sample) {
      pending.push_back(frame{encode_jpeg(img, static_cast<int>(e.frame_width),
                                          static_cast<int>(e.quality)),
                              static_cast<uint64_t>(t * 1000)});
      next_sample
        = std::max(next_sample + 1.0 / e.sample_fps, t + 0.5 / e.sample_fps);
    }
  }
  if (!done && !pending.empty()
      && (e.max_windows == 0 || index < e.max_windows))
    send();
  sender.drain();
  take_replies();
  if (index == 0) {
    std::cerr << "recl-edge: the source gave no frames to send\n";
    return 1;
  }
  if (stats.windows == 0) {
    std::cerr << "recl-edge: the server answered none of " << index
              << " windows\n";
    return 1;
  }
  if (sender.dropped() > 0)
    std::printf("[%s] %llu windows dropped while the server was away or "
                "busy\n",
                e.camera.c_str(),
                static_cast<unsigned long long>(sender.dropped()));
  std::printf("[%s] done: %u windows, %llu frames, mean reply %.0f ms, "
              "%.1f teacher boxes/frame",
              e.camera.c_str(), stats.windows,
              static_cast<unsigned long long>(stats.frames),
              stats.reply_ms / stats.windows, stats.boxes / stats.windows);
  if (stats.acc_n > 0)
    std::printf(", mean accuracy of the served model %.3f over %u windows",
                stats.acc_sum / stats.acc_n, stats.acc_n);
  std::printf("\n");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  return run_command(o, argc, argv, [&] {
    auto e = read_settings(o);
    try {
      return play(e);
    } catch (const rpc_error& x) {
      throw std::runtime_error(e.camera + ": " + x.what());
    }
  });
}
