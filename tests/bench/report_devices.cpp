// recl-bench's Fig. 6 section (bench/report_devices.cpp): from the rows of a
// --devices run, accuracy against devices, paired, and the devices another
// policy needs to match RECL, counted only when the difference is measurable.

#include "bench/report_sections.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace recl::bench;

namespace {

/// 40 scored windows of `policy` at `devices`, mAP `level` give or take
/// 0.01 (the same wobble on the same window for every run, as paired
/// frames give; `flip`: the opposite one).
void add_run(std::vector<window_row>& rows, const std::string& policy,
             int devices, double level, bool flip = false) {
  for (size_t w = 0; w < 40; ++w) {
    window_row r;
    r.policy = policy + "[devices=cpu:" + std::to_string(devices) + "]";
    r.cameras = 8;
    r.budget = 4;
    r.camera = "cam-" + std::to_string(w % 8);
    r.window = w / 8;
    r.sparse = false;
    r.map = level + ((w % 2 != 0) != flip ? 0.01 : -0.01)
            + 0.002 * static_cast<double>(w % 5);
    rows.push_back(r);
  }
}

} // namespace

TEST_CASE("bench report: accuracy against devices, and the devices AMS "
          "needs to match RECL, paired") {
  bench_settings s;
  std::map<run_key, run_stats> stats;
  std::map<run_key, double> wall;
  report_input in{s, {}, stats, wall, {}};
  add_run(in.rows, "recl", 1, 0.50);
  add_run(in.rows, "recl", 2, 0.55);
  add_run(in.rows, "ams", 1, 0.40);
  add_run(in.rows, "ams", 2, 0.45);
  add_run(in.rows, "ams", 4, 0.52);
  add_run(in.rows, "odin", 1, 0.50, true);
  // Rows of runs without a device count are not part of it.
  add_run(in.rows, "none", 1, 0.30);
  for (auto& r : in.rows)
    if (r.policy == "none[devices=cpu:1]")
      r.policy = "none[devices=cpu:x]";
  std::ostringstream rep;
  devices_section(rep, in);
  auto text = rep.str();
  CHECK(text.find("Fig. 6; 8 cameras, budget 4") != std::string::npos);
  // RECL's row first.
  CHECK(text.find("| recl | 0.504 | 0.554 | - |")
        < text.find("| ams | 0.404 | 0.454 | 0.524 |"));
  CHECK(text.find("| ams | 0.404 | 0.454 | 0.524 |") != std::string::npos);
  CHECK(text.find("| recl | 2 vs 1 | +0.050 (+0.050..+0.050) | rises |")
        != std::string::npos);
  // AMS is below RECL at 1 device at 1 and 2 devices of its own, and
  // reaches it at 4; RECL at 2 it never reaches.
  CHECK(text.find("| ams | 1 | 1: -0.100 (-0.100..-0.100); 2: -0.050 "
                  "(-0.050..-0.050); 4: +0.020 (+0.020..+0.020) | 4 |")
        != std::string::npos);
  CHECK(text.find("| ams | 2 | 1: -0.150") != std::string::npos);
  CHECK(text.find("| > 4 |") != std::string::npos);
  CHECK(text.find("| none") == std::string::npos);
  // A tie within the wobble is no measurable difference: it needs as
  // many devices as RECL.
  auto odin = text.substr(text.find("| odin | 1 | "));
  odin = odin.substr(0, odin.find('\n'));
  CHECK(odin.find("1: +0.000 (-0.") != std::string::npos);
  CHECK(odin.substr(odin.size() - 5) == "| 1 |");
  CHECK(text.find("| odin | 2 | 1: -0.050 (-0.05") != std::string::npos);
}

TEST_CASE("bench report: with --vary and --devices, each value is a policy "
          "of its own against devices") {
  bench_settings s;
  std::map<run_key, run_stats> stats;
  std::map<run_key, double> wall;
  report_input in{s, {}, stats, wall, {}};
  add_run(in.rows, "recl[stream-models=off]", 1, 0.50);
  add_run(in.rows, "recl[stream-models=off]", 4, 0.52);
  add_run(in.rows, "recl[stream-models=on]", 1, 0.50);
  add_run(in.rows, "recl[stream-models=on]", 4, 0.56);
  std::ostringstream rep;
  devices_section(rep, in);
  auto text = rep.str();
  CHECK(text.find("| recl[stream-models=off] | 0.504 | 0.524 |")
        != std::string::npos);
  CHECK(text.find("| recl[stream-models=on] | 0.504 | 0.564 |")
        != std::string::npos);
  CHECK(text.find("| recl[stream-models=on] | 4 vs 1 | +0.060 "
                  "(+0.060..+0.060) | rises |")
        != std::string::npos);
}
