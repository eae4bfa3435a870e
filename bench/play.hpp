#pragma once
// recl-bench's runs (see play.cpp).

#include "bench/bench_report.hpp"
#include "bench/samples.hpp"

#include <map>
#include <vector>

namespace recl::bench {

/// Plays every run of `s.plan` for every seed, each against a fresh recld,
/// printing progress with an ETA. A run saved under `s.out`/runs with the
/// same settings is read back, not played again; a played run is saved
/// there. Appends the rows and records each run's statistics and seconds.
void play_plan(const bench_settings& s, labeller& lab,
               std::vector<window_row>& rows,
               std::map<run_key, run_stats>& stats,
               std::map<run_key, double>& wall);

} // namespace recl::bench
