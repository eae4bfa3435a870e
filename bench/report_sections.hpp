#pragma once
// The sections of recl-bench's report.md beyond the summary and the paired
// comparison: one function per experiment, each appending its markdown (and
// writing its plots) when the run's plan included it.

#include "bench/bench_report.hpp"

#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

namespace recl::bench {

/// What the report's sections read: the settings, the scored phase's rows,
/// the runs' statistics and wall times, and each run's mean mAP (filled by
/// summary_table, which comes first).
struct report_input {
  const bench_settings& s;
  std::vector<window_row> rows;
  std::map<run_key, run_stats>& stats;
  std::map<run_key, double>& wall;
  std::map<std::tuple<std::string, size_t, int>, double> mean_map;
};

/// Reuse and compute per run (experiments 2 and 5, in part).
void reuse_and_compute(std::ostream& rep, report_input& in);

/// How long retraining alone took to catch up with RECL's reuse
/// (experiment 3, in part).
void time_to_accuracy(std::ostream& rep, report_input& in);

/// Mean mAP against the number of cameras.
void plot_vs_cameras(std::ostream& rep, report_input& in);

/// The served model's accuracy per window index (experiment 2, in part).
void plot_accuracy_over_time(std::ostream& rep, report_input& in);

/// The zoo's size and the share of windows served from it per window index
/// (experiment 5, in part).
void plot_zoo_over_time(std::ostream& rep, report_input& in);

/// RECL's compute per window index (experiment 5).
void plot_compute_over_time(std::ostream& rep, report_input& in);

/// Mean mAP against the budget.
void plot_vs_budget(std::ostream& rep, report_input& in);

/// Selectors on the same zoo (experiment 2).
void selectors_section(std::ostream& rep, report_input& in);

/// Reuse against retraining to the same accuracy (experiment 3,
/// profiled).
void curves_section(std::ostream& rep, report_input& in);

/// RECL with one setting changed (experiment 6).
void ablations_section(std::ostream& rep, report_input& in);

/// The budget each policy needs to match RECL (experiment 1).
void budget_to_match(std::ostream& rep, report_input& in);

/// Accuracy against devices, and the devices each policy needs to match
/// RECL (Fig. 6; runs with --devices; report_devices.cpp). Also printed.
void devices_section(std::ostream& rep, report_input& in);

} // namespace recl::bench
