// recl-bench end to end, small: a real recld per policy, a real edge, real
// video; checks that the report is produced and its invariants hold (not
// which policy wins).

#include "common/util.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <map>

using namespace recl;

TEST_CASE("recl-bench: a small run writes its report and the numbers add up") {
  auto data = test::data_dir();
  if (data.empty()) {
    MESSAGE("SKIPPED: no shared data");
    return;
  }
  test::temp_dir tmp;
  auto out = tmp.path() + "/report";
  auto r = test::run(test::bin("recl-bench"),
                     {"--data", data, "--out", out, "--cameras", "1",
                      "--windows", "2", "--policies", "recl,generalist,none",
                      "--eval-frames", "2", "--budget", "1"},
                     600);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto report = read_file(out + "/report.md");
  CHECK(report.find("| recl | 1 | 1 | 2 |") != std::string::npos);
  CHECK(report.find("| generalist | 1 | 1 | 2 |") != std::string::npos);
  CHECK(report.find("| none | 1 | 1 | 2 |") != std::string::npos);
  // windows.csv: one row per window and policy; "none" never leaves the base.
  auto rows = split(read_file(out + "/windows.csv"), '\n');
  size_t n = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].empty())
      continue;
    auto cols = split(rows[i], ',');
    REQUIRE(cols.size() == 19);
    ++n;
    auto map = std::stod(cols[10]);
    CHECK(map >= 0.0);
    CHECK(map <= 1.0);
    if (cols[0] == "none") {
      CHECK(cols[7] == "base");
      CHECK(cols[8] == "base");
    }
    if (cols[0] == "generalist") // no camera jobs: never its own model
      CHECK(cols[8].rfind("r-", 0) != 0);
    if (cols[4] == "0")
      CHECK(cols[7] == "base"); // every edge starts with the base expert
  }
  CHECK(n == 6);
  // summary.csv: scored + sparse = windows, for each policy.
  auto sum = split(read_file(out + "/summary.csv"), '\n');
  size_t policies = 0;
  for (size_t i = 1; i < sum.size(); ++i) {
    if (sum[i].empty())
      continue;
    auto cols = split(sum[i], ',');
    REQUIRE(cols.size() == 12);
    CHECK(std::stoul(cols[4]) + std::stoul(cols[5]) == std::stoul(cols[3]));
    ++policies;
  }
  CHECK(policies == 3);
  // A budget sweep draws its plot.
  auto sweep = tmp.path() + "/sweep";
  auto r2 = test::run(test::bin("recl-bench"),
                      {"--data", data, "--out", sweep, "--cameras", "1",
                       "--windows", "1", "--policies", "none", "--budget",
                       "1,2", "--eval-frames", "2", "--vary", "top-k=1,2"},
                      600);
  REQUIRE_MESSAGE(r2.code == 0, r2.err);
  CHECK(std::ifstream{sweep + "/map_vs_budget.png"}.good());
  auto sweep_report = read_file(sweep + "/report.md");
  CHECK(sweep_report.find("map_vs_budget.png") != std::string::npos);
  CHECK(std::ifstream{sweep + "/map_over_time.png"}.good());
  // --vary runs each policy once per value.
  CHECK(sweep_report.find("| none[top-k=1] | 1 | 2 |") != std::string::npos);
  CHECK(sweep_report.find("| none[top-k=2] | 1 | 2 |") != std::string::npos);
  CHECK(sweep_report.find("## Reuse and compute") != std::string::npos);
  // Bad usage is refused with a clear line.
  auto bad = test::run(test::bin("recl-bench"),
                       {"--data", data, "--out", out, "--policies", "magic"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unknown policy 'magic'") != std::string::npos);
}
