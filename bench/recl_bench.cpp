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
// Runs every (cameras, budget, policy) asked for (play.cpp; the policies in
// policies.cpp); bench_report.cpp turns the rows into CSV files, report.md
// and plots.

#include "bench/bench_report.hpp"
#include "bench/play.hpp"
#include "bench/policies.hpp"
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
using bench::all_policies;
using bench::bench_settings;
using bench::policy;
using bench::run_key;
using bench::run_stats;
using bench::segment;
using bench::window_row;
using bench::write_report;

namespace {

options make_options() {
  options o{"recl-bench",
            "--out DIR [--quick | --standard | --lifetime] [options]",
            "Plays real video through a real recld for each policy and scores "
            "what every\nedge really ran, against teacher labels."};
  bench::add_data_option(o)
    .add("out", "DIR", "where CSV files and report.md go")
    .add_flag("quick", "smoke run: 2 cameras, 3 windows, recl/ams/none")
    .add_flag("standard", "the full comparison (all policies, 2/4/8 cameras)")
    .add_flag("lifetime", "roaming cameras' lifetime: 8 cameras, 10 history "
                          "+ 20 scored windows each, dwell 4, budget 16, "
                          "recl / ams / ekya / odin / none (or --policies)")
    .add("plan", "PLAN",
         "fixed (a camera stays at its place) or roaming "
         "(it dwells --dwell windows at a place, then moves "
         "on)",
         "fixed")
    .add("dwell", "K", "roaming: windows at a place before moving on", "4")
    .add("history", "N",
         "first windows of every camera played (they build "
         "the zoo) but not scored",
         "0")
    .add_flag("new-cameras",
              "the windows after --history are played by new cameras "
              "joining the fleet: fresh ids, the base expert on their "
              "edges, the zoo the history built")
    .add("seeds", "K",
         "runs of every policy, recld seeds 1..K; "
         "comparisons pair on (seed, camera, window)",
         "1")
    .add("base-expert", "FILE",
         "the expert every policy starts from, e.g. "
         "one recl-pretrain wrote (default: YOLOX-Nano's "
         "COCO weights)")
    .add("cameras", "LIST", "camera counts, comma-separated", "2")
    .add("policies", "LIST",
         "recl, recl-v0 (RECL's rules before 2026-12-01), recl-sched, "
         "recl-noconfirm, recl-confirm, recl-line, recl-holdout, "
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
         "alpha=0,0.02,0.1, eta=0,4, top-k=1,10; with --devices, each "
         "value once per device count)")
    .add("devices", "LIST",
         "Fig. 6: run every policy once per device count (e.g. 1,2,4,8: "
         "recld --devices cpu:N, N GPU owners; with the replay clock N "
         "devices give N micro-windows per unit of time); the report's "
         "Fig. 6 section pairs each count with the fewest and says how many "
         "devices each policy needs to be not measurably below RECL")
    .add("train-windows", "N",
         "every run's recld --train-windows: each retraining job trains on "
         "its camera's last N windows",
         "1")
    .add_flag("stream-models",
              "every run's recld --stream-models on: each job's steps reach "
              "the edge, which runs each from the moment in the next window "
              "it was ready")
    .add("curve-epochs", "N",
         "experiment 3: epochs of retraining tried "
         "against each zoo expert RECL served (0: "
         "off; off with --lifetime)",
         "10")
    .add_flag("reuse-matrix", "also run recl-bench-reuse (experiment 7; "
                              "on with --standard)")
    .add("teacher", "KIND",
         "standard (YOLOX-Nano at 416) or strong (at 640 on the whole frame "
         "and 2x2 tiles, each with its mirror, boxes fused; ~20x the cost): "
         "what the server labels with and windows are scored against",
         "standard")
    .add("threads", "N", "LibTorch threads in this process", "1");
  return o;
}

/// One number of the list option `name`, in [lo, hi]; fails naming it.
long number(const options& o, const char* name, const std::string& x, long lo,
            long hi) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(x, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != x.size())
    o.fail(name, "'" + x + "' is not a number");
  if (v < lo || v > hi)
    o.fail(name, "'" + x + "' is out of range [" + std::to_string(lo) + ", "
                   + std::to_string(hi) + "]");
  return v;
}

/// --quick, --lifetime and --standard: the workload they fix.
void apply_preset(bench_settings& s, const options& o) {
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
  if (o.flag("standard")) {
    s.cameras = {2, 4, 8};
    s.windows = 4;
    s.T = 10;
    s.sample_fps = 1;
    s.budgets = {2, 1, 4};
    s.policies = {"recl",         "ams",       "ekya",
                  "odin",         "none",      "recl-generalist",
                  "recl-noreuse", "selectors", "ekya-p5",
                  "ekya-p10",     "oracle",    "generalist",
                  "one-time",     "recl-eta0", "recl-alpha0.1",
                  "recl-top1"};
  }
}

/// The policies named by --policies; fails naming an unknown one.
std::vector<policy> runs_of(const std::vector<std::string>& names,
                            const options& o) {
  std::vector<policy> runs;
  for (auto& p : names) {
    bool known = false;
    for (auto& q : all_policies())
      if (q.name == p) {
        known = true;
        runs.push_back(q);
      }
    if (!known)
      o.fail("policies", "unknown policy '" + p + "'");
  }
  return runs;
}

/// Every run once per value of recld's --NAME, as "POLICY[NAME=VALUE]".
void expand(bench_settings& s, const std::string& name,
            const std::vector<std::string>& values) {
  std::vector<policy> expanded;
  for (auto& p : s.runs)
    for (auto& val : values) {
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

/// --vary NAME=V1,V2 and --devices N1,N2: every policy once per value of
/// recld's --NAME, and (within each) once per device count.
void for_each_value(bench_settings& s, const options& o) {
  if (o.given("vary")) {
    auto v = o.get("vary");
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
      o.fail("vary", "'" + v + "' is not NAME=V1,V2,...");
    if (v.substr(0, eq) == "devices")
      o.fail("vary", "give device counts with --devices");
    expand(s, v.substr(0, eq), split(v.substr(eq + 1), ','));
  }
  // Devices last: the report finds the count at the end of the name.
  if (o.given("devices")) {
    std::vector<std::string> counts;
    for (auto& n : split(o.get("devices"), ',')) {
      if (n.empty() || n.find_first_not_of("0123456789") != n.npos
          || std::stoi(n) < 1 || std::stoi(n) > 64)
        o.fail("devices", "'" + n + "' is not a device count (1-64)");
      counts.push_back("cpu:" + n);
    }
    expand(s, "devices", counts);
  }
}

/// The runs, in order.
void make_plan(bench_settings& s, const options& o) {
  // The runs. --standard: the main policies at every camera count, the
  // rest at 4 cameras, and a budget sweep of RECL and AMS at 8 cameras
  // (experiment 1); anything else: every combination given.
  s.sweep_cameras = s.cameras.back();
  s.reuse_matrix = o.flag("reuse-matrix") || o.flag("standard");
  s.curve_epochs = static_cast<int>(o.get_int("curve-epochs", 0, 1000));
  if (s.lifetime && !o.given("curve-epochs"))
    s.curve_epochs = 0; // experiment 3 is the standard run's
  if (o.flag("standard") && !o.given("vary") && !o.given("devices")) {
    for (auto n : s.cameras)
      for (auto& p : {"recl", "ams", "ekya", "odin", "none"})
        s.plan.emplace_back(p, n, 2);
    for (auto& p : {"recl-generalist", "recl-noreuse", "selectors", "ekya-p5",
                    "ekya-p10", "oracle", "generalist", "one-time", "recl-eta0",
                    "recl-alpha0.1", "recl-top1"})
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
}

/// The run's settings from the parsed command line: a preset (--quick,
/// --standard, --lifetime) and the options given; throws usage_error naming
/// the first bad one.
bench_settings read_settings(const options& o) {
  bench_settings s;
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
    s.cameras.push_back(static_cast<size_t>(number(o, "cameras", x, 1, 64)));
  s.policies = split(o.get("policies"), ',');
  s.windows = static_cast<size_t>(o.get_int("windows", 1, 1000));
  s.T = o.get_double("window-seconds", 1, 3600);
  s.sample_fps = o.get_double("sample-fps", 0.1, 30);
  s.eval_frames = static_cast<size_t>(o.get_int("eval-frames", 1, 100));
  if (o.get("teacher") != "standard" && o.get("teacher") != "strong")
    o.fail("teacher",
           "'" + o.get("teacher") + "' is neither standard nor strong");
  s.strong_teacher = o.get("teacher") == "strong";
  s.plan_name = o.get("plan");
  if (s.plan_name != "fixed" && s.plan_name != "roaming")
    o.fail("plan", "'" + s.plan_name + "' is neither fixed nor roaming");
  s.dwell = static_cast<size_t>(o.get_int("dwell", 1, 1000));
  s.history = static_cast<size_t>(o.get_int("history", 0, 1000));
  s.new_cameras = o.flag("new-cameras");
  s.seeds = static_cast<size_t>(o.get_int("seeds", 1, 100));
  for (auto& x : split(o.get("budget"), ','))
    s.budgets.push_back(static_cast<int>(number(o, "budget", x, 1, 1000)));
  apply_preset(s, o);
  if (s.history >= s.windows)
    o.fail("history", "leaves no window to score (--windows "
                        + std::to_string(s.windows) + ")");
  if (s.new_cameras && s.history == 0)
    o.fail("new-cameras", "needs --history N (the windows that build the zoo)");
  s.runs = runs_of(s.policies, o);
  s.train_windows = static_cast<int>(o.get_int("train-windows", 1, 100));
  if (s.train_windows > 1)
    for (auto& r : s.runs) {
      r.args.push_back("--train-windows");
      r.args.push_back(std::to_string(s.train_windows));
    }
  s.stream = o.flag("stream-models");
  if (s.stream)
    for (auto& r : s.runs) {
      r.args.push_back("--stream-models");
      r.args.push_back("on");
    }
  for_each_value(s, o);
  make_plan(s, o);
  // The budgets played (--lifetime sets its own).
  for (auto b : s.budgets)
    s.budget_text += (s.budget_text.empty() ? "" : ",") + std::to_string(b);
  s.standard = o.flag("standard");
  if (s.standard && !o.given("vary") && !o.given("devices"))
    s.budget_text = "2 (the budget sweep at 8 cameras: 1, 2, 4)";
  return s;
}

/// Plays the plan (resuming saved runs), the reuse matrix if asked, and
/// writes the report.
void run(bench_settings& s) {
  fs::create_directories(s.out);
  if (s.base.empty())
    s.base = test::pretrained_archive();
  expert::load(s.base); // a file that is no expert fails before any run
  auto lab = make_labeller(data_teacher(s.data, s.strong_teacher), "");
  s.teacher = lab.model->describe();
  std::vector<window_row> rows;
  std::map<run_key, double> wall;
  std::map<run_key, run_stats> stats;
  bench::play_plan(s, lab, rows, stats, wall);
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
              (now_ms() - s.t_start) / 1000);
}

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  return run_command(o, argc, argv, [&] {
    auto s = read_settings(o);
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 64)));
    s.t_start = now_ms();
    run(s);
    return 0;
  });
}
