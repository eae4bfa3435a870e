// recl-bench end to end, small: a real recld per policy, a real edge, real
// video; checks that the report is produced and its invariants hold (not
// which policy wins).

#include "common/util.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace recl;

namespace {

/// recl-bench on the shared data, writing to `out`.
test::run_result run_bench(const std::string& data, const std::string& out,
                           std::vector<std::string> args) {
  args.insert(args.begin(), {"--data", data, "--out", out});
  return test::run(test::bin("recl-bench"), std::move(args), 600);
}

/// The rows of a CSV file after its header, split into cells; empty lines
/// are left out.
std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::vector<std::vector<std::string>> out;
  auto lines = split(read_file(path), '\n');
  for (size_t i = 1; i < lines.size(); ++i)
    if (!lines[i].empty())
      out.push_back(split(lines[i], ','));
  return out;
}

} // namespace

TEST_CASE("recl-bench: a small run writes its report and the numbers add up"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto out = tmp.path() + "/report";
  auto r = run_bench(data, out,
                     {"--cameras", "1", "--windows", "2", "--policies",
                      "recl,generalist,none,selectors", "--eval-frames", "2",
                      "--budget", "1"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto report = read_file(out + "/report.md");
  CHECK(report.find("| recl | 1 | 1 | 2 |") != std::string::npos);
  CHECK(report.find("| generalist | 1 | 1 | 2 |") != std::string::npos);
  CHECK(report.find("| none | 1 | 1 | 2 |") != std::string::npos);
  // windows.csv: one row per window and policy; "none" never leaves the base.
  size_t n = 0, reused = 0;
  for (auto& cols : csv_rows(out + "/windows.csv")) {
    REQUIRE(cols.size() == 27);
    ++n;
    if (cols[0] == "recl" && cols[9] == "zoo")
      ++reused;
    CHECK(cols[26] == "0"); // no steps without --stream-models
    auto map = std::stod(cols[10]);
    CHECK(map >= 0.0);
    CHECK(map <= 1.0);
    auto f1 = std::stod(cols[23]);
    CHECK(f1 >= 0.0);
    CHECK(f1 <= 1.0);
    if (cols[0] == "none") {
      CHECK(cols[7] == "base");
      CHECK(cols[8] == "base");
    }
    if (cols[0] == "generalist") // no camera jobs: never its own model
      CHECK(cols[8].rfind("r-", 0) != 0);
    if (cols[4] == "0")
      CHECK(cols[7] == "base"); // every edge starts with the base expert
    // Selector comparison only where asked for and where a zoo exists; the
    // best zoo expert bounds gating's and ODIN's picks.
    auto oracle = std::stod(cols[22]);
    if (cols[0] != "selectors" || cols[14] == "0") {
      CHECK(oracle == -1);
    } else {
      CHECK(oracle >= std::stod(cols[20]));
      CHECK(oracle >= std::stod(cols[21]));
    }
  }
  CHECK(n == 8);
  // Experiment 3, profiled: one retraining curve per zoo expert RECL served.
  MESSAGE("RECL served a zoo expert " << reused << " times");
  if (reused > 0) {
    CHECK(report.find("## Reuse vs retraining") != std::string::npos);
    CHECK(report.find("| 1 | 1 | " + std::to_string(reused) + " |")
          != std::string::npos);
  } else {
    CHECK(report.find("## Reuse vs retraining") == std::string::npos);
  }
  // summary.csv: scored + sparse = windows, for each policy.
  size_t policies = 0;
  for (auto& cols : csv_rows(out + "/summary.csv")) {
    REQUIRE(cols.size() == 13);
    CHECK(std::stoul(cols[4]) + std::stoul(cols[5]) == std::stoul(cols[3]));
    ++policies;
  }
  CHECK(policies == 4);
  // A budget sweep draws its plot and says which budget each policy needs
  // to match RECL, consistently with summary.csv.
  auto sweep = tmp.path() + "/sweep";
  auto r2 = run_bench(data, sweep,
                      {"--cameras", "1", "--windows", "1", "--policies",
                       "recl,none", "--budget", "1,2", "--eval-frames", "2"});
  REQUIRE_MESSAGE(r2.code == 0, r2.err);
  CHECK(std::ifstream{sweep + "/map_vs_budget.png"}.good());
  auto sweep_report = read_file(sweep + "/report.md");
  CHECK(sweep_report.find("map_vs_budget.png") != std::string::npos);
  CHECK(std::ifstream{sweep + "/map_over_time.png"}.good());
  CHECK(sweep_report.find("## Reuse and compute") != std::string::npos);
  {
    std::map<std::pair<std::string, int>, double> mean;
    for (auto& cols : csv_rows(sweep + "/summary.csv"))
      if (cols.size() == 13)
        mean[{cols[0], std::stoi(cols[2])}] = std::stod(cols[6]);
    REQUIRE(mean.size() == 4);
    std::string row = "| none |";
    for (int b : {1, 2}) {
      std::string need = "> 2";
      for (int c : {1, 2})
        if (mean[{"none", c}] >= mean[{"recl", b}]) {
          need = std::to_string(c);
          break;
        }
      row += " " + need + " |";
    }
    CHECK(sweep_report.find("## Budget needed to match RECL (1 cameras)")
          != std::string::npos);
    CHECK_MESSAGE(sweep_report.find(row) != std::string::npos, row);
  }
  // --vary runs each policy once per value.
  auto vary = tmp.path() + "/vary";
  auto r3
    = run_bench(data, vary,
                {"--cameras", "1", "--windows", "1", "--policies", "none",
                 "--budget", "1", "--eval-frames", "2", "--vary", "top-k=1,2",
                 "--base-expert", test::pretrained_archive()});
  REQUIRE_MESSAGE(r3.code == 0, r3.err);
  auto vary_report = read_file(vary + "/report.md");
  CHECK(vary_report.find("| none[top-k=1] | 1 | 1 |") != std::string::npos);
  CHECK(vary_report.find("| none[top-k=2] | 1 | 1 |") != std::string::npos);
  CHECK(vary_report.find("Base expert: " + test::pretrained_archive())
        != std::string::npos);
  // Bad usage is refused with a clear line.
  auto bad = test::run(test::bin("recl-bench"),
                       {"--data", data, "--out", out, "--policies", "magic"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unknown policy 'magic'") != std::string::npos);
  bad = run_bench(data, out, {"--teacher", "huge"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--teacher: 'huge' is neither standard nor strong")
        != std::string::npos);
  bad = run_bench(data, out, {"--base-expert", tmp.path() + "/none.pt"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("none.pt' is not a file") != std::string::npos);
  std::ofstream{tmp.path() + "/junk.pt"} << "not an expert";
  bad = run_bench(data, out, {"--base-expert", tmp.path() + "/junk.pt"});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("junk.pt") != std::string::npos);
}

TEST_CASE("recl-bench: every zoo expert RECL served gets a retraining curve"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  // Two cameras at one place: the second is served the first's expert.
  test::temp_dir tmp;
  auto out = tmp.path() + "/report";
  auto r
    = run_bench(data, out,
                {"--cameras", "2", "--windows", "4", "--window-seconds", "10",
                 "--sample-fps", "1", "--policies", "recl", "--eval-frames",
                 "2", "--budget", "2", "--curve-epochs", "3"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  size_t reused = 0;
  for (auto& cols : csv_rows(out + "/windows.csv"))
    if (cols.size() == 27 && cols[9] == "zoo")
      ++reused;
  size_t profiled = 0, reached = 0;
  for (auto& line : split(r.out, '\n'))
    if (line.find("[profile]") != std::string::npos) {
      ++profiled;
      reached += line.find("reached it in") != std::string::npos;
    }
  MESSAGE("RECL served a zoo expert " << reused << " times; " << reached
                                      << " retraining curves reached it");
  CHECK(profiled == reused);
  auto report = read_file(out + "/report.md");
  if (reused == 0) {
    CHECK(report.find("## Reuse vs retraining") == std::string::npos);
    return;
  }
  REQUIRE(report.find("## Reuse vs retraining") != std::string::npos);
  CHECK(report.find("at most 3 epochs") != std::string::npos);
  // | cameras | budget | reuse events | reached | ... | not reached | ...
  auto row = report.find("| 2 | 2 | " + std::to_string(reused) + " | "
                         + std::to_string(reached) + " |");
  REQUIRE(row != std::string::npos);
  auto cells = split(report.substr(row, report.find('\n', row) - row), '|');
  REQUIRE(cells.size() >= 9);
  CHECK(std::stoul(cells[7]) == reused - reached);
}

TEST_CASE("recl-bench --quick: the smoke run CI relies on"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto out = tmp.path() + "/quick";
  auto r = run_bench(data, out, {"--quick"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto report = read_file(out + "/report.md");
  CHECK(report.find("Mode: quick.") != std::string::npos);
  CHECK(report.find("## Where RECL does not win") != std::string::npos);
  CHECK(report.find("## Reuse and compute") != std::string::npos);
  // RECL is paired against each other policy on the same frames.
  CHECK(report.find("## Paired against RECL (2 cameras") != std::string::npos);
  CHECK(report.find("| ams | ") != std::string::npos);
  CHECK(report.find("| none | ") != std::string::npos);
  CHECK(r.out.find("95% interval") != std::string::npos);
  // 2 cameras x 3 windows for each of recl, ams, none; scored + sparse =
  // windows; no adaptation never leaves the base expert.
  std::map<std::string, std::vector<std::string>> by_policy;
  for (auto& cols : csv_rows(out + "/summary.csv"))
    if (cols.size() == 13)
      by_policy[cols[0]] = cols;
  REQUIRE(by_policy.size() == 3);
  for (auto& [name, cols] : by_policy) {
    CHECK(cols[1] == "2");
    CHECK(cols[3] == "6");
    CHECK(std::stoul(cols[4]) + std::stoul(cols[5]) == 6);
    CHECK(report.find("| " + name + " | 2 |") != std::string::npos);
  }
  size_t rows = 0;
  for (auto& cols : csv_rows(out + "/windows.csv")) {
    REQUIRE(cols.size() == 27);
    ++rows;
    if (cols[0] == "none")
      CHECK(cols[8] == "base");
  }
  CHECK(rows == 18);
  CHECK(std::ifstream{out + "/map_over_time.png"}.good());
}

TEST_CASE("recl-bench --stream-models: edges run the steps jobs stream, from "
          "the next window on, and the report says so"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto out = tmp.path() + "/stream";
  auto r = run_bench(data, out,
                     {"--cameras", "1", "--windows", "3", "--policies", "recl",
                      "--eval-frames", "2", "--budget", "4", "--curve-epochs",
                      "0", "--stream-models"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(read_file(out + "/report.md").find("streamed to the edge")
        != std::string::npos);
  size_t steps = 0;
  for (auto& cols : csv_rows(out + "/windows.csv")) {
    REQUIRE(cols.size() == 27);
    if (cols[4] == "0")
      CHECK(cols[26] == "0"); // no job has run yet
    steps += std::stoul(cols[26]);
  }
  CHECK(steps > 0);
}

TEST_CASE("recl-bench --plan roaming: cameras move, history is played but not "
          "scored, new cameras take over after it"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto out = tmp.path() + "/roam";
  const std::vector<std::string> plan{
    "--plan",        "roaming",  "--dwell",          "2",
    "--cameras",     "2",        "--windows",        "4",
    "--history",     "1",        "--window-seconds", "2",
    "--eval-frames", "2",        "--budget",         "2",
    "--policies",    "recl,ams", "--new-cameras"};
  auto r = run_bench(data, out, plan);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  // Per camera: 2 windows at a place, then 2 at the next; camera 1 starts
  // where camera 0 goes next. History rows are written but flagged; after
  // them a new camera plays on (--new-cameras).
  std::map<std::string, std::vector<std::string>> places; // recl, by camera
  size_t history = 0, rows = 0;
  for (auto& cols : csv_rows(out + "/windows.csv")) {
    REQUIRE(cols.size() == 27);
    ++rows;
    CHECK(cols[25] == (cols[4] == "0" ? "1" : "0"));
    history += cols[25] == "1";
    auto fresh = cols[3].rfind("new-", 0) == 0;
    CHECK(fresh == (cols[25] == "0"));
    if (cols[0] == "recl")
      places[fresh ? cols[3].substr(4) : cols[3]].push_back(cols[6]);
  }
  CHECK(rows == 16);
  CHECK(history == 4);
  REQUIRE(places.size() == 2);
  for (auto& [cam, ps] : places) {
    REQUIRE(ps.size() == 4);
    CHECK(ps[0] == ps[1]);
    CHECK(ps[2] == ps[3]);
    CHECK(ps[1] != ps[2]);
  }
  CHECK(places["cam-0"][2] == places["cam-1"][0]);
  // The summary counts scored windows only: 2 cameras x 3.
  for (auto& cols : csv_rows(out + "/summary.csv"))
    if (cols.size() == 13)
      CHECK(cols[3] == "6");
  auto report = read_file(out + "/report.md");
  CHECK(report.find("Plan: roaming") != std::string::npos);
  CHECK(report.find("| ams | ") != std::string::npos);
  CHECK(report.find("then new cameras") != std::string::npos);
  CHECK(report.find("| windows at the place |") != std::string::npos);
  // Started again with the same --out and settings, it resumes: both runs
  // are read back (no daemon), and the summary comes out the same.
  auto summary = read_file(out + "/summary.csv");
  auto again = run_bench(data, out, plan);
  REQUIRE_MESSAGE(again.code == 0, again.err);
  size_t resumed = 0;
  for (size_t at = 0;
       (at = again.out.find("resumed from", at)) != std::string::npos; ++at)
    ++resumed;
  CHECK(resumed == 2);
  CHECK(again.out.find("window 1/4") == std::string::npos);
  // Same rows; only the wall-time column may differ (it is rounded).
  auto a = csv_rows(out + "/summary.csv");
  REQUIRE(a.size() == 2);
  for (auto& cols : a)
    CHECK(summary.find(cols[0] + "," + cols[1] + "," + cols[2] + "," + cols[3]
                       + "," + cols[4] + "," + cols[5] + "," + cols[6])
          != std::string::npos);
}

TEST_CASE("recl-bench: a catalog that cannot feed the plan is one clear line, "
          "and no daemon is left"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  // The shared data with one clip per place: no place has two clips, so
  // the fixed plan has nothing to play (this used to die with SIGFPE and
  // leave its recld children running).
  test::temp_dir tmp;
  auto dir = tmp.path() + "/data";
  std::filesystem::create_directories(dir);
  for (auto sub : {"models", "video", "images"})
    if (std::filesystem::exists(data + "/" + sub))
      std::filesystem::create_directory_symlink(data + "/" + sub,
                                                dir + "/" + sub);
  auto lines = split(read_file(data + "/catalog.tsv"), '\n');
  std::set<std::string> seen;
  std::string cat = lines.at(0) + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = split(lines[i], '\t');
    if (f.size() > 8 && seen.insert(f[8]).second)
      cat += lines[i] + "\n";
  }
  write_file_atomic(dir + "/catalog.tsv", cat);
  auto out = tmp.path() + "/out";
  auto r = run_bench(
    dir, out, {"--cameras", "2", "--windows", "2", "--policies", "recl"});
  CHECK(r.code == 1);
  CHECK(r.err.find("no place with two clips") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  // Roaming, asking for more than the catalog holds: refused the same way.
  r = run_bench(dir, out,
                {"--plan", "roaming", "--cameras", "2", "--windows", "1000",
                 "--policies", "recl"});
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot feed the roaming plan") != std::string::npos);
  // Bad plan settings are usage errors.
  r = run_bench(dir, out, {"--plan", "wandering"});
  CHECK(r.code == 2);
  r = run_bench(dir, out, {"--windows", "3", "--history", "3"});
  CHECK(r.code == 2);
  r = run_bench(dir, out, {"--new-cameras"});
  CHECK(r.code == 2);
  CHECK(r.err.find("needs --history") != std::string::npos);
}
