// recl-bench's stream plans and paired statistics on a made-up catalog:
// what a camera plays and when, without any video.

#include "bench/stats.hpp"
#include "bench/streams.hpp"
#include "common/util.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>

using namespace recl;

namespace {

/// A catalog of `places` places, each with `clips` clips of `seconds` s at
/// 10 frames/s.
catalog make_catalog(const test::temp_dir& dir, int places, int clips,
                     int seconds) {
  std::string tsv = "id\tpath\tkind\tframes\tfps\twidth\theight\tseconds\t"
                    "place\tcamera\tlight\tweather\troad\n";
  for (int p = 0; p < places; ++p)
    for (int c = 0; c < clips; ++c)
      tsv += "p" + std::to_string(p) + "c" + std::to_string(c) + "\tv.mp4\t"
             + "video\t" + std::to_string(seconds * 10) + "\t10\t320\t240\t"
             + std::to_string(seconds) + "\tplace" + std::to_string(p)
             + "\tfixed\tday\tclear\tcity\n";
  write_file_atomic(dir.path() + "/catalog.tsv", tsv);
  return catalog::load(dir.path());
}

std::string key(const bench::segment& s) {
  return s.c->id + "@" + std::to_string(s.from);
}

} // namespace

TEST_CASE("bench streams: roaming cameras dwell, move on, and meet each "
          "other's places") {
  test::temp_dir dir;
  // 5 places x 3 clips of 20 s: the first clip of each is pretraining; the
  // other two are cut into 4 windows of 5 s each: 8 windows per place.
  auto cat = make_catalog(dir, 5, 3, 20);
  auto s = bench::make_roaming_streams(cat, 3, 8, 5, 2);
  REQUIRE(s.size() == 3);
  std::set<std::string> played;
  for (size_t cam = 0; cam < 3; ++cam) {
    REQUIRE(s[cam].size() == 8);
    for (size_t w = 0; w < 8; ++w) {
      auto& sg = s[cam][w];
      CHECK(sg.c->id.substr(2) != "c0"); // never a pretraining clip
      CHECK(sg.seconds() == doctest::Approx(5));
      CHECK(played.insert(key(sg)).second); // never played twice
      // Two windows at a place, then the next place.
      if (w % 2 == 1)
        CHECK(sg.c->place == s[cam][w - 1].c->place);
      else if (w > 0)
        CHECK(sg.c->place != s[cam][w - 1].c->place);
    }
  }
  // Camera c arrives where camera c+1 was one dwell before.
  for (size_t cam = 0; cam + 1 < 3; ++cam)
    for (size_t d = 1; d < 4; ++d)
      CHECK(s[cam][2 * d].c->place == s[cam + 1][2 * (d - 1)].c->place);
  // Asking for more than the catalog holds comes out short, and says so.
  auto big = bench::make_roaming_streams(cat, 3, 100, 5, 2);
  CHECK_THROWS_WITH_AS(bench::check_streams(big, 100, "roaming"),
                       doctest::Contains("cannot feed the roaming plan"),
                       std::runtime_error);
}

TEST_CASE("bench streams: a catalog with one clip per place cannot feed the "
          "fixed plan") {
  test::temp_dir dir;
  auto cat = make_catalog(dir, 4, 1, 30);
  CHECK_THROWS_WITH_AS(bench::make_streams(cat, 2, 3, 5),
                       doctest::Contains("no place with two clips"),
                       std::runtime_error);
  // Roaming plays such places: a long clip is cut into windows.
  auto s = bench::make_roaming_streams(cat, 2, 6, 5, 3);
  bench::check_streams(s, 6, "roaming");
  CHECK(s[0][0].c == s[0][2].c);
  CHECK(s[0][1].from > s[0][0].from);
  // And a dwell no place can feed is refused at once.
  CHECK_THROWS_AS(bench::make_roaming_streams(cat, 2, 6, 5, 7),
                  std::runtime_error);
}

TEST_CASE("bench stats: paired bootstrap intervals") {
  // A constant difference: the interval is that point.
  auto c = bench::bootstrap_mean({0.02, 0.02, 0.02, 0.02});
  CHECK(c.mean == doctest::Approx(0.02));
  CHECK(c.lo == doctest::Approx(0.02));
  CHECK(c.measurable());
  // Noise around 0: no measurable difference; around +0.05 with 200 pairs:
  // measurable, and the interval holds the mean.
  std::mt19937 rng{1};
  std::normal_distribution<double> n0{0, 0.05}, n5{0.05, 0.05};
  std::vector<double> zero, five;
  for (int i = 0; i < 200; ++i) {
    zero.push_back(n0(rng));
    five.push_back(n5(rng));
  }
  auto z = bench::bootstrap_mean(zero);
  CHECK(z.lo < 0);
  CHECK(z.hi > 0);
  CHECK_FALSE(z.measurable());
  auto f = bench::bootstrap_mean(five);
  CHECK(f.measurable());
  CHECK(f.lo < f.mean);
  CHECK(f.mean < f.hi);
  CHECK(f.hi - f.lo
        == doctest::Approx(2 * 1.96 * 0.05 / std::sqrt(200.0)).epsilon(0.25));
  // Too few pairs never count.
  CHECK_FALSE(bench::bootstrap_mean({0.3}).measurable());
  CHECK(bench::bootstrap_mean({}).n == 0);
}
