// recl-bench's runs: one real recld per (policy, cameras, budget, seed),
// fed by one edge client per camera over loopback RPC; saved runs are read
// back instead of played again.

#include "bench/play.hpp"

#include "bench/streams.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "gpu/expert.hpp"
#include "gpu/metrics.hpp"
#include "gpu/trainer.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace recl::bench {

namespace {

/// A zoo expert RECL served, kept for experiment 3's profile.
struct reuse_event {
  std::string camera;
  size_t window;
  std::string before, after; // model bytes
  labelled_frames data;      // the window's sent frames, teacher-labelled
  double reply_ms;
};

/// recld's command line for one run.
std::vector<std::string> recld_args(const bench_settings& s, const policy& pol,
                                    int budget, uint64_t seed,
                                    const std::string& dir,
                                    const teacher_options& t) {
  std::vector<std::string> args{"--data-dir",    dir + "/data",
                                "--listen",      "127.0.0.1:0",
                                "--data",        s.data,
                                "--token",       "recl-bench-token",
                                "--base-expert", s.base,
                                "--clock",       "replay",
                                "--budget",      std::to_string(budget),
                                "--gamma",       "1",
                                "--log-level",   "warning",
                                "--seed",        std::to_string(seed)};
  if (s.strong_teacher) {
    // The server labels with the same teacher the frames are scored with.
    args.insert(
      args.end(),
      {"--teacher", t.spec, "--teacher-input",
       std::to_string(t.input_width) + "x" + std::to_string(t.input_height),
       "--teacher-tiling", t.tiling, "--teacher-flip", t.flip ? "on" : "off",
       "--teacher-extra-input", std::to_string(t.extra_input)});
  }
  args.insert(args.end(), pol.args.begin(), pol.args.end());
  return args;
}

/// One policy's run: every camera on its own thread and client against one
/// recld, scoring each window with the model it has deployed, then sending
/// it and deploying the answer.
class policy_run {
public:
  policy_run(const bench_settings& s, const policy& pol, size_t n, int budget,
             uint64_t seed, const bench::streams& streams, labeller& lab,
             std::mutex& lab_mutex)
    : s_(s), pol_(pol), n_(n), budget_(budget), seed_(seed), streams_(streams),
      lab_(lab), lab_mutex_(lab_mutex),
      profile_(pol.name == "recl" && s.curve_epochs > 0) {}

  /// Plays every camera's stream through `address`; throws the first
  /// camera's failure.
  void play(const std::string& address) {
    std::vector<std::thread> threads;
    for (size_t cam = 0; cam < n_; ++cam)
      threads.emplace_back([this, cam, &address] {
        try {
          play_camera(cam, address);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> g{mutex_};
          failure_ = e.what();
        }
      });
    for (auto& t : threads)
      t.join();
    if (!failure_.empty())
      throw std::runtime_error(failure_);
  }

  std::vector<window_row> rows;
  std::vector<reuse_event> events;

private:
  /// A step of a job's model, as the edge holds it.
  struct streamed_model {
    float at = 0; ///< ready at this share of the next window
    std::unique_ptr<expert> model;
    std::string id;
  };

  /// What a camera runs: the model and its id, and (--stream-models) the
  /// steps of its last window's job, which it runs during the next window
  /// from when each was ready.
  struct edge {
    std::unique_ptr<expert> model;
    std::string model_id = "base";
    std::vector<streamed_model> steps;
  };

  void play_camera(size_t cam, const std::string& address) {
    auto id = "cam-" + std::to_string(cam);
    client c{address};
    c.register_camera(id, "recl-bench-token");
    edge e{expert::load(s_.base)};
    for (size_t w = 0; w < streams_[cam].size(); ++w) {
      if (s_.new_cameras && w == s_.history && w > 0) {
        // A new camera joins where this one was: a fresh id (no line of
        // its own on the server) and the base expert on its edge; the zoo
        // keeps what the history built.
        c.close_session();
        id = "new-" + id;
        c.register_camera(id, "recl-bench-token");
        e = edge{expert::load(s_.base)};
      }
      auto r = play_window(c, id, w, streams_[cam][w], e);
      std::printf("  [%s %zu cams seed %llu] %s window %zu/%zu (%s)%s: "
                  "%s %.3f, then %s (%s)\n",
                  pol_.name.c_str(), n_, static_cast<unsigned long long>(seed_),
                  id.c_str(), w + 1, streams_[cam].size(), r.place.c_str(),
                  r.history ? " history" : "", r.sparse ? "sparse, mAP" : "mAP",
                  r.map, r.served.c_str(), r.source.c_str());
      std::fflush(stdout);
      std::lock_guard<std::mutex> g{mutex_};
      rows.push_back(std::move(r));
    }
    c.close_session();
  }

  /// Scores window `w`'s evaluation frames with what the edge runs, sends
  /// the window's frames and deploys the answer.
  window_row play_window(client& c, const std::string& id, size_t w,
                         const segment& seg, edge& e) {
    sampled_frames ev, sent;
    auto span = seg.to - seg.from;
    auto off = std::max(1, span / static_cast<int>(s_.eval_frames) / 2);
    sample_clip(*seg.c, s_.data, seg.from + off, seg.to, s_.eval_frames, ev);
    auto nsend = static_cast<size_t>(
      std::max(1.0, std::round(seg.seconds() * s_.sample_fps)));
    sample_clip(*seg.c, s_.data, seg.from, seg.to, nsend, sent);
    auto r = score(ev, seg, e);
    r.camera = id;
    r.window = w;
    r.history = w < s_.history;
    r.clip = seg.c->id;
    r.place = seg.c->place;
    if (!e.steps.empty()) {
      // By the window's end the edge runs the job's last step.
      e.model = std::move(e.steps.back().model);
      e.model_id = e.steps.back().id;
      r.streamed = e.steps.size();
      e.steps.clear();
    }
    std::vector<frame> frames;
    for (size_t i = 0; i < sent.mats.size(); ++i)
      frames.push_back(
        {encode_jpeg(sent.mats[i], 640), static_cast<uint64_t>(sent.index[i])});
    auto reply = c.update(static_cast<uint32_t>(w), frames,
                          static_cast<float>(s_.sample_fps), e.model_id);
    record(reply, r);
    if (reply.swap && !reply.weights.empty()) {
      std::string bytes(reply.weights.begin(), reply.weights.end());
      if (profile_ && reply.source == "zoo")
        keep_event(id, w, e, bytes, sent,
                   reply.time.select_ms + reply.time.check_ms);
      e.model = expert::from_bytes(bytes);
      e.model_id = reply.model_id;
    }
    if (s_.stream)
      for (auto& x : c.streamed(static_cast<uint32_t>(w)))
        e.steps.push_back({x.at, expert::from_bytes(x.weights), x.model_id});
    r.served = e.model_id;
    return r;
  }

  /// The model the edge ran at share `at` of the window: the last step
  /// ready by then, else the model it began the window with.
  static expert& model_at(edge& e, double at) {
    expert* m = e.model.get();
    for (auto& x : e.steps)
      if (x.at <= at)
        m = x.model.get();
    return *m;
  }

  /// The row of a window scored on `ev` (frames of `seg`), each frame with
  /// the model the edge ran at its moment.
  window_row score(const sampled_frames& ev, const segment& seg, edge& e) {
    labelled_frames truth;
    {
      std::lock_guard<std::mutex> g{lab_mutex_};
      truth = label(ev, lab_);
    }
    // Each run of consecutive frames under one model goes to the detector
    // as one batch (without streaming: the whole window).
    std::vector<std::vector<box>> dets;
    auto model_of = [&](size_t i) -> expert& {
      return model_at(e, static_cast<double>(ev.index[i] - seg.from)
                           / std::max(1, seg.to - seg.from));
    };
    for (size_t i = 0; i < truth.frames.size();) {
      auto& model = model_of(i);
      size_t end = i + 1;
      while (end < truth.frames.size() && &model_of(end) == &model)
        ++end;
      auto d = model.detect_for_scoring(
        {truth.frames.begin() + static_cast<long>(i),
         truth.frames.begin() + static_cast<long>(end)});
      for (auto& x : d)
        dets.push_back(std::move(x));
      i = end;
    }
    auto m = mean_ap(dets, truth.labels);
    window_row r;
    r.policy = pol_.name;
    r.cameras = n_;
    r.budget = budget_;
    r.seed = seed_;
    r.deployed = e.model_id;
    r.map = m.map;
    r.car_ap = m.car_ap;
    r.sparse = m.sparse;
    for (size_t i = 0; i < dets.size(); ++i)
      r.f1 += frame_score(dets[i], truth.labels[i]) / dets.size();
    return r;
  }

  /// What the server answered, into the row.
  static void record(const window_reply& reply, window_row& r) {
    r.reply_ms = reply.round_trip_ms;
    r.zoo_size = reply.zoo_size;
    r.candidates = reply.candidates;
    r.teacher_ms = reply.time.teacher_ms;
    r.select_ms = reply.time.select_ms;
    r.check_ms = reply.time.check_ms;
    r.served_acc = reply.accuracy;
    r.sel_gating = reply.compare.gating;
    r.sel_odin = reply.compare.odin;
    r.sel_oracle = reply.compare.oracle;
    r.source = reply.swap ? reply.source : "kept";
  }

  void keep_event(const std::string& id, size_t w, const edge& e,
                  const std::string& bytes, const sampled_frames& sent,
                  double reply_ms) {
    reuse_event ev{id, w, e.model->to_bytes(), bytes, {}, reply_ms};
    {
      std::lock_guard<std::mutex> g{lab_mutex_};
      ev.data = label(sent, lab_);
    }
    std::lock_guard<std::mutex> g{mutex_};
    events.push_back(std::move(ev));
  }

  const bench_settings& s_;
  const policy& pol_;
  size_t n_;
  int budget_;
  uint64_t seed_;
  const bench::streams& streams_;
  labeller& lab_;
  std::mutex& lab_mutex_;
  bool profile_;
  std::mutex mutex_; // rows, events, failure_
  std::string failure_;
};

/// Experiment 3, profiled, with the daemon gone (nothing else trains):
/// retrains the edge's previous model on the window's frames, one epoch at
/// a time, until it is as accurate there as the zoo expert RECL served.
void profile_reuse(const bench_settings& s,
                   const std::vector<reuse_event>& events, run_stats& stats) {
  for (auto& ev : events) {
    auto before = expert::from_bytes(ev.before);
    auto after = expert::from_bytes(ev.after);
    retrain_curve c;
    c.camera = ev.camera;
    c.window = ev.window;
    c.reply_ms = ev.reply_ms;
    c.target = detection_accuracy(after->detect_for_scoring(ev.data.frames),
                                  ev.data.labels);
    trainer job{std::move(before), ev.data, ev.data};
    c.start = job.evaluate();
    if (c.start >= c.target)
      c.epochs = 0;
    for (int e = 1; c.epochs < 0 && e <= s.curve_epochs; ++e) {
      auto r = job.micro_window();
      c.seconds += r.seconds;
      if (r.acc_after >= c.target)
        c.epochs = e;
    }
    std::printf(
      "  [profile] %s window %zu: zoo expert %.3f, previous model "
      "%.3f, retraining %s (%.1f s)\n",
      c.camera.c_str(), c.window, c.target, c.start,
      c.epochs < 0
        ? "did not reach it"
        : ("reached it in " + std::to_string(c.epochs) + " epochs").c_str(),
      c.seconds);
    stats.curves.push_back(c);
  }
}

/// Runs one policy with `n` cameras against a fresh recld; returns its rows.
std::vector<window_row> run_policy(const bench_settings& s, const policy& pol,
                                   size_t n, int budget, uint64_t seed,
                                   const bench::streams& streams, labeller& lab,
                                   std::mutex& lab_mutex, run_stats& stats) {
  test::temp_dir dir;
  test::process d{test::bin("recld"),
                  recld_args(s, pol, budget, seed, dir.path(), lab.opts)};
  auto address = test::recld_address(d);
  policy_run run{s, pol, n, budget, seed, streams, lab, lab_mutex};
  std::string failure;
  try {
    run.play(address);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  try {
    client admin{address};
    stats.sched = admin.scheduler("recl-bench-token");
    stats.zoo = admin.zoo("recl-bench-token").size();
  } catch (const std::exception& e) {
    failure = std::string{"admin: "} + e.what();
  }
  d.signal(SIGTERM);
  d.wait(60);
  if (!failure.empty())
    throw std::runtime_error(pol.name + ": " + failure);
  profile_reuse(s, run.events, stats);
  return run.rows;
}

/// Every setting that shapes one run's rows: a saved run is reused only
/// under the same fingerprint.
std::string fingerprint(const bench_settings& s, const policy& pol, size_t n,
                        int b, uint64_t seed) {
  std::string args;
  for (auto& a : pol.args)
    args += a + " ";
  char line[512];
  std::snprintf(
    line, sizeof line,
    "recl-bench run 1 | cameras %zu budget %d seed %llu | plan "
    "%s dwell %zu history %zu%s windows %zu T %g fps %g eval %zu | ",
    n, b, static_cast<unsigned long long>(seed), s.plan_name.c_str(), s.dwell,
    s.history, s.new_cameras ? " new cameras" : "", s.windows, s.T,
    s.sample_fps, s.eval_frames);
  // The teacher only when strong: runs saved before --teacher keep resuming.
  return line + pol.name + " | " + args + "| base " + s.base + " | data "
         + s.data + (s.strong_teacher ? " | teacher strong" : "");
}

} // namespace

void play_plan(const bench_settings& s, labeller& lab,
               std::vector<window_row>& rows,
               std::map<run_key, run_stats>& stats,
               std::map<run_key, double>& wall) {
  auto t_start = s.t_start;
  auto cat = catalog::load(s.data);
  std::mutex lab_mutex;
  // Every camera count's streams, checked before any daemon starts: a
  // catalog that cannot feed the plan is one line on stderr.
  std::map<size_t, bench::streams> streams;
  for (auto& [name, n, b] : s.plan)
    if (!streams.count(n)) {
      streams[n] = s.plan_name == "roaming"
                     ? make_roaming_streams(cat, n, s.windows, s.T, s.dwell)
                     : make_streams(cat, n, s.windows, s.T);
      bench::check_streams(streams[n], s.windows, s.plan_name);
    }
  size_t runs = s.plan.size() * s.seeds;
  size_t run = 0;
  size_t fresh = 0;   // runs played here (not resumed) ...
  double fresh_s = 0; // ... and their seconds, for the ETA
  for (uint64_t seed = 1; seed <= s.seeds; ++seed)
    for (auto& [name, n, b] : s.plan) {
      auto& pol = *std::find_if(s.runs.begin(), s.runs.end(),
                                [&](auto& p) { return p.name == name; });
      auto spent = (now_ms() - t_start) / 1000;
      std::printf(
        "[%zu/%zu] %s, %zu cameras, budget %d, seed %llu (%s); "
        "%.0f s so far%s\n",
        run + 1, runs, name.c_str(), n, b,
        static_cast<unsigned long long>(seed), pol.what.c_str(), spent,
        fresh == 0
          ? ""
          : (", about "
             + std::to_string(static_cast<long>(fresh_s / fresh * (runs - run)))
             + " s to go")
              .c_str());
      std::fflush(stdout);
      ++run;
      // A run finished before (an interrupted bench started again with
      // the same --out and settings) is read back, not repeated.
      auto saved = s.out + "/runs/" + name + "-" + std::to_string(n) + "-"
                   + std::to_string(b) + "-" + std::to_string(seed) + ".csv";
      auto fp = fingerprint(s, pol, n, b, seed);
      run_stats st;
      double secs = 0;
      if (bench::load_run(saved, fp, rows, st, secs)) {
        std::printf("  resumed from %s\n", saved.c_str());
        wall[{name, n, b}] += secs;
        stats[{name, n, b}] = st;
        continue;
      }
      auto t0 = now_ms();
      auto r = run_policy(s, pol, n, b, seed, streams[n], lab, lab_mutex, st);
      secs = (now_ms() - t0) / 1000;
      fresh += 1;
      fresh_s += secs;
      wall[{name, n, b}] += secs;
      stats[{name, n, b}] = st;
      rows.insert(rows.end(), r.begin(), r.end());
      fs::create_directories(s.out + "/runs");
      bench::save_run(saved, fp, r, st, secs);
    }
}

} // namespace recl::bench
