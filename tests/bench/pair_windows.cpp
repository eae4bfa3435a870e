// bench/pair_windows.py: pairs two runs' windows on the same frames, by
// the columns recl-bench's windows.csv has, optionally one replication's
// seeds only and split by where A's deployed model came from.

#include "tests/system/process.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace recl;
using test::contains;

TEST_CASE("pair_windows.py: paired difference, by seeds and by the source "
          "of A's deployed model") {
  test::temp_dir tmp;
  auto csv = tmp.path() + "/windows.csv";
  {
    std::ofstream f{csv};
    f << "policy,seed,camera,window,source,map,sparse,history\n";
    // Two seeds, two windows each: A's window 1 runs the zoo expert A
    // served after window 0, and gains 0.1 there in seed 1 and 0.2 in
    // seed 2; window 0 ties. B's sparse window 0 of seed 2 and a history
    // window are left out.
    for (int seed : {1, 2}) {
      f << "a," << seed << ",cam-0,0,zoo,0.5,0,0\n";
      f << "a," << seed << ",cam-0,1,retrained,0." << 5 + seed << ",0,0\n";
      f << "b," << seed << ",cam-0,0,retrained,0.5," << (seed == 2) << ",0\n";
      f << "b," << seed << ",cam-0,1,retrained,0.5,0,0\n";
      f << "a," << seed << ",cam-1,0,kept,0.9,0,1\n";
      f << "b," << seed << ",cam-1,0,kept,0.1,0,1\n";
    }
  }
  auto script = std::string{RECL_SOURCE_DIR} + "/bench/pair_windows.py";
  auto all = test::run("/usr/bin/python3", {script, csv, "a", csv, "b"});
  REQUIRE_MESSAGE(all.code == 0, all.err);
  CHECK_MESSAGE(contains(all.out, "3 pairs: A 0.600, B 0.500, A - B +0.100"),
                all.out);
  auto split = test::run("/usr/bin/python3",
                         {script, "--by-source", csv, "a", csv, "b"});
  CHECK_MESSAGE(contains(split.out,
                         "A deployed zoo: 2 pairs: A 0.650, B 0.500, "
                         "A - B +0.150 (+0.100..+0.200): A better"),
                split.out);
  auto one = test::run("/usr/bin/python3",
                       {script, "--seeds", "2-2", csv, "a", csv, "b"});
  CHECK(one.code == 1); // one window in common: too few to pair
  CHECK(contains(one.err, "fewer than 2 windows in common"));
  auto bad = test::run("/usr/bin/python3", {script, "--bogus", csv});
  CHECK(bad.code == 2);
  CHECK(contains(bad.err, "unknown option --bogus"));
}
