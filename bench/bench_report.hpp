#pragma once
// recl-bench's records and settings, and its report writer.

#include "actors/types.hpp"

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace recl::bench {

/// A policy: its name and recld's settings for it.
struct policy {
  std::string name;
  std::vector<std::string> args;
  std::string what;
};

/// What one window achieved.
struct window_row {
  std::string policy;
  size_t cameras = 0;
  int budget = 0;
  std::string camera;
  size_t window = 0;
  std::string clip;
  std::string place;
  std::string deployed; ///< the model scored on this window
  std::string served;   ///< what the server answered after it
  std::string source;
  double map = 0;
  double car_ap = -1;
  /// At the edge's operating point (score >= 0.3, what it reports): the
  /// mean per-frame F1 against the teacher's boxes. mAP ranks every
  /// detection; this is what a user of the edge's output sees.
  double f1 = 0;
  bool sparse = true;
  double reply_ms = 0;
  uint32_t zoo_size = 0, candidates = 0;
  double teacher_ms = 0, select_ms = 0, check_ms = 0;
  /// The server's accuracy, on the window's teacher-labelled frames, of
  /// what it served, and (policy "selectors") of gating's, ODIN's and the
  /// oracle's pick from the same zoo; -1: none.
  double served_acc = -1, sel_gating = -1, sel_odin = -1, sel_oracle = -1;
  uint64_t seed = 1;    ///< recld's --seed for this run (--seeds K)
  bool history = false; ///< a history window: played, never scored
  size_t streamed = 0;  ///< --stream-models: steps the edge ran in it
};

/// Experiment 3, profiled: after RECL served a zoo expert, how much
/// retraining the edge's previous model needed to reach that expert's
/// accuracy on the window's frames.
struct retrain_curve {
  std::string camera;
  size_t window = 0;
  double target = 0;   ///< the served zoo expert's accuracy
  double start = 0;    ///< the previous model's
  int epochs = -1;     ///< epochs to reach the target (-1: not within max)
  double seconds = 0;  ///< training time spent (until reached, or all)
  double reply_ms = 0; ///< RECL's selection + safety check for the window
};

/// What the daemon said about one run at its end.
struct run_stats {
  scheduler_report sched;
  size_t zoo = 0;
  std::vector<retrain_curve> curves;
};

/// A run: (policy, cameras, budget).
using run_key = std::tuple<std::string, size_t, int>;

struct bench_settings {
  std::string data, out, base;
  bool base_given = false; ///< --base-expert, not the COCO weights
  std::vector<size_t> cameras;
  std::vector<int> budgets;
  std::vector<std::string> policies;
  std::vector<policy> runs; ///< the policies, with any --vary applied
  size_t windows = 3;
  double T = 5;
  double sample_fps = 2;
  size_t eval_frames = 4;
  bool quick = false;
  bool standard = false;
  bool lifetime = false;
  std::string plan_name = "fixed"; ///< "fixed" or "roaming"
  size_t dwell = 4;         ///< roaming: windows at a place before moving on
  size_t history = 0;       ///< first windows of every camera, not scored
  int train_windows = 1;    ///< recld --train-windows of every run
  bool stream = false;      ///< recld --stream-models on in every run
  bool new_cameras = false; ///< the scored phase is played by new cameras
  size_t seeds = 1;         ///< runs of every (policy, cameras, budget)
  int curve_epochs = 10;    ///< experiment 3: retraining epochs tried at most
  bool strong_teacher = false; ///< --teacher strong: server and scoring
  std::string teacher;         ///< the teacher's description, for the report
  std::string budget_text;     ///< --budget as given
  double t_start = 0;          ///< now_ms() when the run began
  std::vector<run_key> plan;   ///< the runs, in order
  size_t sweep_cameras = 0;    ///< camera count of the budget sweep
  bool reuse_matrix = false;   ///< run recl-bench-reuse (experiment 7)
  std::string reuse_text;      ///< its output, for the report
  int reuse_code = 0;          ///< its exit code

  bool planned(const std::string& policy, size_t n, int budget) const {
    for (auto& k : plan)
      if (k == run_key{policy, n, budget})
        return true;
    return false;
  }
};

/// windows.csv's header and one row of it (no newline); from_csv reads
/// such a row back and throws std::runtime_error on a malformed one.
extern const char* const window_csv_header;
std::string to_csv(const window_row& r);
window_row from_csv(const std::string& line);

/// A finished run kept under `out/runs/`, so an interrupted recl-bench
/// resumes where it stopped: its rows and what the daemon said, behind a
/// line naming every setting that shapes the result (`fingerprint`); a file
/// with another fingerprint is not reused.
void save_run(const std::string& path, const std::string& fingerprint,
              const std::vector<window_row>& rows, const run_stats& st,
              double wall_s);
/// True and the run's rows, stats and wall time if `path` holds a run with
/// this fingerprint.
bool load_run(const std::string& path, const std::string& fingerprint,
              std::vector<window_row>& rows, run_stats& st, double& wall_s);

/// Writes windows.csv, summary.csv, report.md and the plots into s.out.
void write_report(const bench_settings& s, const std::vector<window_row>& rows,
                  std::map<run_key, run_stats>& stats,
                  std::map<run_key, double>& wall);

} // namespace recl::bench
