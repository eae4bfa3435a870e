// recl-bench: RECL against its baselines on real video, end to end.
//
// For every policy it starts a real recld (replay clock, fresh data dir) and
// N edge clients over loopback RPC. Each camera plays a stream of catalog
// clips back to back (places recur across cameras, no clip is played twice
// in a run, the base expert's pretraining clips never). A window is one
// segment of a clip of up to T stream seconds. Before it sends window w the
// edge scores that window's evaluation frames with the model it has deployed
// at that moment (the one served after window w-1, the base expert at
// first) against teacher labels (cached on disk across runs); then it sends
// the window's sampled frames and deploys what the server answers.
//
// Runs every (cameras, budget, policy) asked for; bench_report.cpp turns the
// rows into CSV files, report.md and plots.

#include "bench/bench_report.hpp"
#include "bench/data.hpp"
#include "bench/streams.hpp"
#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "bench/samples.hpp"
#include "gpu/device.hpp"
#include "gpu/expert.hpp"
#include "gpu/metrics.hpp"
#include "gpu/trainer.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

namespace fs = std::filesystem;
using namespace recl;
using bench::segment;
using bench::policy;
using bench::window_row;
using bench::run_stats;
using bench::bench_settings;
using bench::run_key;
using bench::retrain_curve;
using bench::write_report;
using bench::make_streams;
using bench::make_roaming_streams;

namespace {


/// recld's settings for a selector and scheduler, no generalist, plus
/// `extra`.
std::vector<std::string> with(const char* selector, const char* scheduler,
                              std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--selector", selector, "--scheduler",
                                scheduler, "--generalist", "off"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// The rules RECL ran by until 2026-12-01, which the baselines keep: the
/// scheduler's exact argmax over gains measured on the held-out quarter,
/// the safety check's best-on-all-frames, and admission judged on the
/// held-out quarter (RECL's own changes are not handed to the policies it
/// is compared with).
std::vector<std::string> paper_rules(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--gain-tolerance", "0", "--gain-frames",
                                "holdout", "--selection", "all",
                                "--admission", "holdout"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

const std::vector<policy>& all_policies() {
  static const std::vector<policy> xs{
    {"recl", with("gating", "recl"), "gating-network reuse + Algorithm 1"},
    {"recl-v0", with("gating", "recl", paper_rules()),
     "RECL as before 2026-12-01: exact argmax on held-out gains, best on "
     "all frames"},
    {"recl-sched", with("gating", "recl", {"--selection", "all",
                                           "--admission", "holdout"}),
     "RECL with the new scheduler only"},
    {"recl-noconfirm", with("gating", "recl", {"--selection", "all"}),
     "RECL, but the safety check serves the best on all frames"},
    {"recl-confirm", with("gating", "recl", {"--selection", "confirm"}),
     "RECL, but a switch is confirmed against the edge's model, not the "
     "camera's own line"},
    {"recl-holdout", with("gating", "recl", {"--admission", "holdout"}),
     "RECL, but admission is judged on the held-out quarter"},
    {"recl-generalist",
     {"--selector", "gating", "--scheduler", "recl", "--generalist", "on"},
     "RECL with the fleet generalist"},
    {"ams", with("none", "round-robin", paper_rules()),
     "no reuse, round-robin retraining"},
    {"ekya", with("none", "ekya", paper_rules({"--profile-epochs", "1"})),
     "no reuse, micro-profiling + thief"},
    {"recl-noreuse", with("none", "recl"),
     "Algorithm 1 without reuse (the scheduler alone)"},
    {"selectors", with("compare", "recl"),
     "RECL, also scoring gating / ODIN / oracle picks on the same zoo"},
    {"ekya-p5", with("none", "ekya", paper_rules({"--profile-epochs", "5"})),
     "Ekya with 5 profiling epochs"},
    {"ekya-p10", with("none", "ekya", paper_rules({"--profile-epochs", "10"})),
     "Ekya with 10 profiling epochs"},
    // Ablations (experiment 6): RECL with one setting changed.
    {"recl-eta0", with("gating", "recl", {"--eta", "0"}),
     "RECL without pruning (eta 0)"},
    {"recl-alpha0.1", with("gating", "recl", {"--alpha", "0.1"}),
     "RECL admitting only experts 0.1 better than every rival"},
    {"recl-alpha0", with("gating", "recl", {"--alpha", "0"}),
     "RECL admitting every retrained model that beats every rival"},
    {"recl-top1", with("gating", "recl", {"--top-k", "1"}),
     "RECL checking only gating's first choice"},
    {"odin", with("odin", "recl", paper_rules()),
     "autoencoder selection (+ retraining)"},
    {"oracle", with("oracle", "recl", paper_rules()),
     "every zoo expert evaluated (upper bound of selection)"},
    {"generalist", paper_rules({"--selector", "none", "--camera-jobs",
                                "off", "--generalist", "on"}),
     "one model retrained on every camera's windows, no zoo"},
    {"one-time", paper_rules({"--selector", "none", "--retrain-windows",
                              "1", "--generalist", "off"}),
     "retrained on each camera's first window only"},
    {"none", paper_rules({"--selector", "none", "--retrain", "off",
                          "--generalist", "off"}),
     "no adaptation: the base expert"},
  };
  return xs;
}


/// Runs one policy with `n` cameras; returns its rows.
std::vector<window_row> run_policy(const bench_settings& s, const policy& pol,
                                   size_t n, int budget, uint64_t seed,
                                   const bench::streams& streams,
                                   labeller& lab, std::mutex& lab_mutex,
                                   run_stats& stats) {
  test::temp_dir dir;
  std::vector<std::string> args{
    "--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:0", "--data",
    s.data, "--token", "recl-bench-token", "--base-expert", s.base,
    "--clock", "replay", "--budget", std::to_string(budget), "--gamma", "1",
    "--log-level", "warning", "--seed", std::to_string(seed)};
  if (s.strong_teacher) {
    // The server labels with the same teacher the frames are scored with.
    auto t = lab.opts;
    args.insert(args.end(),
                {"--teacher", t.spec, "--teacher-input",
                 std::to_string(t.input_width) + "x"
                   + std::to_string(t.input_height),
                 "--teacher-tiling", t.tiling, "--teacher-flip",
                 t.flip ? "on" : "off"});
  }
  args.insert(args.end(), pol.args.begin(), pol.args.end());
  test::process d{test::bin("recld"), args};
  auto line = d.wait_for_line("recld listening on", 60);
  if (line.empty())
    throw std::runtime_error("recld did not start: " + d.err());
  auto address = line.substr(line.rfind(' ') + 1);
  std::vector<window_row> rows;
  std::mutex rows_mutex;
  std::vector<std::thread> threads;
  std::string failure;
  struct reuse_event {
    std::string camera;
    size_t window;
    std::string before, after; // model bytes
    labelled_frames data;       // the window's sent frames, teacher-labelled
    double reply_ms;
  };
  std::vector<reuse_event> events;
  const bool profile = pol.name == "recl" && s.curve_epochs > 0;
  for (size_t cam = 0; cam < n; ++cam)
    threads.emplace_back([&, cam] {
      try {
        auto id = "cam-" + std::to_string(cam);
        client c{address};
        c.register_camera(id, "recl-bench-token");
        std::unique_ptr<expert> model = expert::load(s.base);
        std::string model_id = "base";
        for (size_t w = 0; w < streams[cam].size(); ++w) {
          auto& seg = streams[cam][w];
          // Score the window's evaluation frames with what is deployed.
          sampled_frames ev, sent;
          auto span = seg.to - seg.from;
          auto off = std::max(1, span / static_cast<int>(s.eval_frames) / 2);
          sample_clip(*seg.c, s.data, seg.from + off, seg.to, s.eval_frames,
                      ev);
          auto nsend = static_cast<size_t>(
            std::max(1.0, std::round(seg.seconds() * s.sample_fps)));
          sample_clip(*seg.c, s.data, seg.from, seg.to, nsend, sent);
          labelled_frames truth;
          {
            std::lock_guard<std::mutex> g{lab_mutex};
            truth = label(ev, lab);
          }
          auto dets = model->detect_for_scoring(truth.frames);
          auto m = mean_ap(dets, truth.labels);
          window_row r;
          r.policy = pol.name;
          r.cameras = n;
          r.budget = budget;
          r.camera = id;
          r.window = w;
          r.seed = seed;
          r.history = w < s.history;
          r.clip = seg.c->id;
          r.place = seg.c->place;
          r.deployed = model_id;
          r.map = m.map;
          r.car_ap = m.car_ap;
          r.sparse = m.sparse;
          for (size_t i = 0; i < dets.size(); ++i)
            r.f1 += frame_score(dets[i], truth.labels[i]) / dets.size();
          std::vector<frame> frames;
          for (size_t i = 0; i < sent.mats.size(); ++i)
            frames.push_back({encode_jpeg(sent.mats[i], 640),
                              static_cast<uint64_t>(sent.index[i])});
          auto reply = c.update(static_cast<uint32_t>(w), frames,
                                static_cast<float>(s.sample_fps), model_id);
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
          if (reply.swap && !reply.weights.empty()) {
            std::string bytes(reply.weights.begin(), reply.weights.end());
            if (profile && reply.source == "zoo") {
              reuse_event ev{id, w, model->to_bytes(), bytes, {},
                             reply.time.select_ms + reply.time.check_ms};
              {
                std::lock_guard<std::mutex> g{lab_mutex};
                ev.data = label(sent, lab);
              }
              std::lock_guard<std::mutex> g{rows_mutex};
              events.push_back(std::move(ev));
            }
            model = expert::from_bytes(bytes);
            model_id = reply.model_id;
          }
          r.served = model_id;
          std::printf("  [%s %zu cams seed %llu] %s window %zu/%zu (%s)%s: "
                      "%s %.3f, then %s (%s)\n",
                      pol.name.c_str(), n,
                      static_cast<unsigned long long>(seed), id.c_str(),
                      w + 1, streams[cam].size(), seg.c->place.c_str(),
                      r.history ? " history" : "",
                      r.sparse ? "sparse, mAP" : "mAP", r.map,
                      r.served.c_str(), r.source.c_str());
          std::fflush(stdout);
          std::lock_guard<std::mutex> g{rows_mutex};
          rows.push_back(std::move(r));
        }
        c.close_session();
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> g{rows_mutex};
        failure = e.what();
      }
    });
  for (auto& t : threads)
    t.join();
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
  // Experiment 3, profiled, with the daemon gone (nothing else trains):
  // retrain the edge's previous model on the window's frames, one epoch at
  // a time, until it is as accurate there as the zoo expert RECL served.
  for (auto& ev : events) {
    auto before = expert::from_bytes(ev.before);
    auto after = expert::from_bytes(ev.after);
    retrain_curve c;
    c.camera = ev.camera;
    c.window = ev.window;
    c.reply_ms = ev.reply_ms;
    c.target = detection_accuracy(after->detect_for_scoring(ev.data.frames), ev.data.labels);
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
    std::printf("  [profile] %s window %zu: zoo expert %.3f, previous model "
                "%.3f, retraining %s (%.1f s)\n",
                c.camera.c_str(), c.window, c.target, c.start,
                c.epochs < 0 ? "did not reach it"
                             : ("reached it in " + std::to_string(c.epochs)
                                + " epochs").c_str(),
                c.seconds);
    stats.curves.push_back(c);
  }
  return rows;
}


/// Every setting that shapes one run's rows: a saved run is reused only
/// under the same fingerprint.
std::string fingerprint(const bench_settings& s, const policy& pol, size_t n,
                        int b, uint64_t seed) {
  std::string args;
  for (auto& a : pol.args)
    args += a + " ";
  char line[512];
  std::snprintf(line, sizeof line,
                "recl-bench run 1 | cameras %zu budget %d seed %llu | plan "
                "%s dwell %zu history %zu windows %zu T %g fps %g eval %zu | ",
                n, b, static_cast<unsigned long long>(seed),
                s.plan_name.c_str(), s.dwell, s.history, s.windows, s.T,
                s.sample_fps, s.eval_frames);
  // The teacher only when strong: runs saved before --teacher keep resuming.
  return line + pol.name + " | " + args + "| base " + s.base + " | data "
         + s.data + (s.strong_teacher ? " | teacher strong" : "");
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench", "--out DIR [--quick | --standard | --lifetime] [options]",
            "Plays real video through a real recld for each policy and scores "
            "what every\nedge really ran, against teacher labels."};
  o.add("data", "DIR", "shared data folder (default: $RECL_DATA or "
                       "../shared/data)")
    .add("out", "DIR", "where CSV files and report.md go")
    .add_flag("quick", "smoke run: 2 cameras, 3 windows, recl/ams/none")
    .add_flag("standard", "the full comparison (all policies, 2/4/8 cameras)")
    .add_flag("lifetime", "roaming cameras' lifetime: 8 cameras, 10 history "
                          "+ 20 scored windows each, dwell 4, budget 16, "
                          "recl / ams / ekya / odin / none (or --policies)")
    .add("plan", "PLAN", "fixed (a camera stays at its place) or roaming "
                         "(it dwells --dwell windows at a place, then moves "
                         "on)", "fixed")
    .add("dwell", "K", "roaming: windows at a place before moving on", "4")
    .add("history", "N", "first windows of every camera played (they build "
                         "the zoo) but not scored", "0")
    .add("seeds", "K", "runs of every policy, recld seeds 1..K; "
                       "comparisons pair on (seed, camera, window)", "1")
    .add("base-expert", "FILE", "the expert every policy starts from, e.g. "
                              "one recl-pretrain wrote (default: YOLOX-Nano's "
                              "COCO weights)")
    .add("cameras", "LIST", "camera counts, comma-separated", "2")
    .add("policies", "LIST",
         "recl, recl-v0 (RECL's rules before 2026-12-01), recl-sched, "
         "recl-noconfirm, recl-confirm, recl-holdout, "
         "recl-generalist, recl-noreuse, selectors, ams, ekya "
         "(1 profiling epoch), ekya-p5, ekya-p10, odin, oracle, generalist, "
         "one-time, none; ablations recl-eta0, recl-alpha0.1, "
         "recl-alpha0, recl-top1",
         "recl,ams,ekya,odin,none")
    .add("windows", "N", "windows per camera", "3")
    .add("window-seconds", "T", "stream seconds per window", "5")
    .add("sample-fps", "F", "frames sent per stream second", "2")
    .add("eval-frames", "N", "frames scored per window", "4")
    .add("budget", "LIST",
         "micro-windows of training per window, comma-separated", "2")
    .add("vary", "NAME=V1,V2",
         "ablation: run every policy once per value of recld's --NAME (e.g. "
         "alpha=0,0.02,0.1, eta=0,4, top-k=1,10)")
    .add("curve-epochs", "N", "experiment 3: epochs of retraining tried "
                              "against each zoo expert RECL served (0: "
                              "off; off with --lifetime)", "10")
    .add_flag("reuse-matrix", "also run recl-bench-reuse (experiment 7; "
                              "on with --standard)")
    .add("teacher", "KIND",
         "standard (YOLOX-Nano at 416) or strong (at 640 on the whole frame "
         "and 2x2 tiles, each with its mirror, boxes fused; ~20x the cost): "
         "what the server labels with and windows are scored against",
         "standard")
    .add("threads", "N", "LibTorch threads in this process", "1");
  bench_settings s;
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    s.data = bench::data_folder(o);
    if (s.data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    if (!o.given("out"))
      throw usage_error("--out DIR is required");
    s.out = o.get("out");
    if (o.flag("quick") + o.flag("standard") + o.flag("lifetime") > 1)
      throw usage_error("give one of --quick, --standard, --lifetime");
    s.quick = o.flag("quick");
    if (o.given("base-expert")) {
      s.base = o.get("base-expert");
      s.base_given = true;
      if (!fs::is_regular_file(s.base))
        o.fail("base-expert", "'" + s.base + "' is not a file");
    }
    for (auto& x : split(o.get("cameras"), ','))
      s.cameras.push_back(static_cast<size_t>(std::stoul(x)));
    s.policies = split(o.get("policies"), ',');
    s.windows = static_cast<size_t>(o.get_int("windows", 1, 1000));
    s.T = o.get_double("window-seconds", 1, 3600);
    s.sample_fps = o.get_double("sample-fps", 0.1, 30);
    s.eval_frames = static_cast<size_t>(o.get_int("eval-frames", 1, 100));
    if (o.get("teacher") != "standard" && o.get("teacher") != "strong")
      o.fail("teacher", "'" + o.get("teacher")
                          + "' is neither standard nor strong");
    s.strong_teacher = o.get("teacher") == "strong";
    s.plan_name = o.get("plan");
    if (s.plan_name != "fixed" && s.plan_name != "roaming")
      o.fail("plan", "'" + s.plan_name + "' is neither fixed nor roaming");
    s.dwell = static_cast<size_t>(o.get_int("dwell", 1, 1000));
    s.history = static_cast<size_t>(o.get_int("history", 0, 1000));
    s.seeds = static_cast<size_t>(o.get_int("seeds", 1, 100));
    for (auto& x : split(o.get("budget"), ',')) {
      auto b = std::stoi(x);
      if (b < 1 || b > 1000)
        o.fail("budget", "'" + x + "' is out of range [1, 1000]");
      s.budgets.push_back(b);
    }
    if (s.quick) {
      s.cameras = {2};
      s.windows = 3;
      s.policies = {"recl", "ams", "none"};
      s.eval_frames = 3;
    }
    if (o.flag("lifetime")) {
      s.lifetime = true;
      s.plan_name = "roaming";
      s.dwell = 4;
      s.cameras = {8};
      s.history = 10;
      s.windows = 30;
      s.T = 5;
      s.sample_fps = 2;
      s.eval_frames = 8;
      s.budgets = {16};
      // --policies picks a subset: the rest can be added later, resuming
      // from the same --out.
      if (!o.given("policies"))
        s.policies = {"recl", "ams", "ekya", "odin", "none"};
    }
    if (s.history >= s.windows)
      o.fail("history", "leaves no window to score (--windows "
                          + std::to_string(s.windows) + ")");
    if (o.flag("standard")) {
      s.cameras = {2, 4, 8};
      s.windows = 4;
      s.T = 10;
      s.sample_fps = 1;
      s.budgets = {2, 1, 4};
      s.policies = {"recl", "ams", "ekya", "odin", "none", "recl-generalist",
                    "recl-noreuse", "selectors", "ekya-p5", "ekya-p10",
                    "oracle", "generalist", "one-time", "recl-eta0",
                    "recl-alpha0.1", "recl-top1"};
    }
    for (auto& p : s.policies) {
      bool known = false;
      for (auto& q : all_policies())
        if (q.name == p) {
          known = true;
          s.runs.push_back(q);
        }
      if (!known)
        o.fail("policies", "unknown policy '" + p + "'");
    }
    if (o.given("vary")) {
      auto v = o.get("vary");
      auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
        o.fail("vary", "'" + v + "' is not NAME=V1,V2,...");
      auto name = v.substr(0, eq);
      std::vector<policy> expanded;
      for (auto& p : s.runs)
        for (auto& val : split(v.substr(eq + 1), ',')) {
          auto q = p;
          q.name = p.name + "[" + name + "=" + val + "]";
          q.args.push_back("--" + name);
          q.args.push_back(val);
          expanded.push_back(q);
        }
      s.runs = expanded;
      s.policies.clear();
      for (auto& p : s.runs)
        s.policies.push_back(p.name);
    }
    // The runs. --standard: the main policies at every camera count, the
    // rest at 4 cameras, and a budget sweep of RECL and AMS at 8 cameras
    // (experiment 1); anything else: every combination given.
    s.sweep_cameras = s.cameras.back();
    s.reuse_matrix = o.flag("reuse-matrix") || o.flag("standard");
    s.curve_epochs = static_cast<int>(o.get_int("curve-epochs", 0, 1000));
    if (s.lifetime && !o.given("curve-epochs"))
      s.curve_epochs = 0; // experiment 3 is the standard run's
    if (o.flag("standard") && !o.given("vary")) {
      for (auto n : s.cameras)
        for (auto& p : {"recl", "ams", "ekya", "odin", "none"})
          s.plan.emplace_back(p, n, 2);
      for (auto& p : {"recl-generalist", "recl-noreuse", "selectors",
                      "ekya-p5", "ekya-p10", "oracle", "generalist",
                      "one-time", "recl-eta0", "recl-alpha0.1", "recl-top1"})
        s.plan.emplace_back(p, 4, 2);
      for (auto b : {1, 4})
        for (auto& p : {"recl", "ams"})
          s.plan.emplace_back(p, 8, b);
    } else {
      for (auto n : s.cameras)
        for (auto b : s.budgets)
          for (auto& p : s.policies)
            s.plan.emplace_back(p, n, b);
    }
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 64)));
  } catch (const usage_error& e) {
    std::cerr << "recl-bench: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "recl-bench: --cameras: not a list of numbers\n";
    return 2;
  }
  auto t_start = now_ms();
  s.t_start = t_start;
  // The budgets played (--lifetime sets its own).
  for (auto b : s.budgets)
    s.budget_text += (s.budget_text.empty() ? "" : ",") + std::to_string(b);
  s.standard = o.flag("standard");
  if (s.standard && !o.given("vary"))
    s.budget_text = "2 (the budget sweep at 8 cameras: 1, 2, 4)";
  try {
    fs::create_directories(s.out);
    if (s.base.empty())
      s.base = test::pretrained_archive();
    expert::load(s.base); // a file that is no expert fails before any run
    auto cat = catalog::load(s.data);
    auto lab = make_labeller(data_teacher(s.data, s.strong_teacher), "");
    s.teacher = lab.model->describe();
    std::mutex lab_mutex;
    std::vector<window_row> rows;
    std::map<run_key, double> wall;
    std::map<run_key, run_stats> stats;
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
    size_t fresh = 0;     // runs played here (not resumed) ...
    double fresh_s = 0;   // ... and their seconds, for the ETA
    for (uint64_t seed = 1; seed <= s.seeds; ++seed)
      for (auto& [name, n, b] : s.plan) {
        auto& pol = *std::find_if(s.runs.begin(), s.runs.end(),
                                  [&](auto& p) { return p.name == name; });
        auto spent = (now_ms() - t_start) / 1000;
        std::printf("[%zu/%zu] %s, %zu cameras, budget %d, seed %llu (%s); "
                    "%.0f s so far%s\n", run + 1, runs, name.c_str(), n, b,
                    static_cast<unsigned long long>(seed), pol.what.c_str(),
                    spent,
                    fresh == 0 ? ""
                               : (", about "
                                  + std::to_string(static_cast<long>(
                                    fresh_s / fresh * (runs - run)))
                                  + " s to go").c_str());
        std::fflush(stdout);
        ++run;
        // A run finished before (an interrupted bench started again with
        // the same --out and settings) is read back, not repeated.
        auto saved = s.out + "/runs/" + name + "-" + std::to_string(n) + "-"
                     + std::to_string(b) + "-" + std::to_string(seed)
                     + ".csv";
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
        auto r = run_policy(s, pol, n, b, seed, streams[n], lab, lab_mutex,
                            st);
        secs = (now_ms() - t0) / 1000;
        fresh += 1;
        fresh_s += secs;
        wall[{name, n, b}] += secs;
        stats[{name, n, b}] = st;
        rows.insert(rows.end(), r.begin(), r.end());
        fs::create_directories(s.out + "/runs");
        bench::save_run(saved, fp, r, st, secs);
      }
    if (s.reuse_matrix) {
      std::printf("experiment 7: recl-bench-reuse (7 places, a few "
                  "minutes)\n");
      std::fflush(stdout);
      auto r = test::run(test::bin("recl-bench-reuse"),
                         {"--data", s.data, "--base", s.base}, 3600);
      s.reuse_code = r.code;
      s.reuse_text = r.out + (r.code == 0 ? "" : r.err);
      std::ofstream{s.out + "/reuse.txt"} << s.reuse_text;
    }
    write_report(s, rows, stats, wall);
    std::printf("report: %s/report.md (%.0f s)\n", s.out.c_str(),
                (now_ms() - t_start) / 1000);
  } catch (const std::exception& e) {
    std::cerr << "recl-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
