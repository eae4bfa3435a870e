#include "gpu/metrics.hpp"

#include "common/util.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <random>

using namespace recl;

namespace {

box gt(float x, float y, int cls = 2) {
  return box{x, y, x + 10, y + 10, 1.0f, cls};
}

box det(float x, float y, float score, int cls = 2) {
  return box{x, y, x + 10, y + 10, score, cls};
}

} // namespace

TEST_CASE("metrics: mAP on hand-computed cases") {
  map_options one;
  one.min_class_boxes = 1;
  // Perfect detections.
  auto r = mean_ap({{det(0, 0, .9f), det(50, 50, .8f)}},
                   {{gt(0, 0), gt(50, 50)}}, one);
  CHECK(r.map == doctest::Approx(1.0));
  CHECK(r.car_ap == doctest::Approx(1.0));
  CHECK_FALSE(r.sparse);
  // A confident false positive before the true one: precision 0.5 at every
  // recall level.
  r = mean_ap({{det(100, 100, .9f), det(0, 0, .5f)}}, {{gt(0, 0)}}, one);
  CHECK(r.map == doctest::Approx(0.5));
  // TP, FP, TP over two frames: precision 1 up to recall .5, then 2/3.
  r = mean_ap({{det(0, 0, .9f), det(200, 200, .8f)}, {det(0, 0, .7f)}},
              {{gt(0, 0)}, {gt(0, 0)}}, one);
  CHECK(r.map == doctest::Approx((51 * 1.0 + 50 * (2.0 / 3.0)) / 101));
  // Nothing detected.
  r = mean_ap({{}}, {{gt(0, 0)}}, one);
  CHECK(r.map == doctest::Approx(0.0));
  // A box of the wrong class is a false positive; both classes are scored.
  r = mean_ap({{det(0, 0, .9f, 0)}}, {{gt(0, 0, 2)}}, one);
  CHECK(r.per_class.at(0).ap == 0);
  CHECK(r.per_class.at(2).ap == 0);
  CHECK(r.classes_scored == 1); // class 0 has no truth: not scored
  // A box shifted by 5 px has IoU 50/150 < .5: a miss.
  r = mean_ap({{det(5, 0, .9f)}}, {{gt(0, 0)}}, one);
  CHECK(r.map == doctest::Approx(0.0));
  // Two detections on one truth box: the second is a false positive.
  r = mean_ap({{det(0, 0, .9f), det(0, 0, .8f)}}, {{gt(0, 0)}}, one);
  CHECK(r.map == doctest::Approx(1.0)); // recall 1 reached at precision 1
  CHECK(r.per_class.at(2).detections == 2);
}

TEST_CASE("metrics: sparse truth is flagged, not scored") {
  auto r = mean_ap({{det(0, 0, .9f)}, {}}, {{gt(0, 0)}, {gt(30, 30)}});
  CHECK(r.sparse);
  CHECK(r.map == 0);
  CHECK(r.car_ap == -1);
  CHECK(r.per_class.at(2).truth_boxes == 2);
  // Enough cars, too few persons: only cars count.
  std::vector<std::vector<box>> t(1), d(1);
  for (int i = 0; i < 6; ++i) {
    t[0].push_back(gt(i * 20.f, 0));
    d[0].push_back(det(i * 20.f, 0, .9f));
  }
  t[0].push_back(gt(0, 100, 0));
  r = mean_ap(d, t);
  CHECK_FALSE(r.sparse);
  CHECK(r.classes_scored == 1);
  CHECK(r.map == doctest::Approx(1.0));
  CHECK_THROWS_AS(mean_ap({{}}, {}), std::invalid_argument);
}

TEST_CASE("metrics: per-frame score and top-1 agreement") {
  CHECK(frame_score({}, {}) == 1.0);
  CHECK(frame_score({det(0, 0, .9f)}, {}) == 0.0);
  CHECK(frame_score({}, {gt(0, 0)}) == 0.0);
  // One hit, one false positive, one miss: F1 = 2/(2+1+1).
  CHECK(frame_score({det(0, 0, .9f), det(100, 0, .9f)}, {gt(0, 0), gt(50, 50)})
        == doctest::Approx(0.5));
  // Low-score boxes do not count.
  CHECK(frame_score({det(0, 0, .1f)}, {}) == 1.0);
  CHECK(top1_agreement({1, 2, 3, 4}, {1, 2, 0, 4}) == doctest::Approx(0.75));
  CHECK_THROWS(top1_agreement({1}, {}));
}

TEST_CASE("metrics: mAP agrees with an independent numpy reference") {
  auto script = std::string{RECL_SOURCE_DIR} + "/tests/gpu/map_reference.py";
  auto probe = test::run("/usr/bin/python3", {"-c", "import numpy"});
  REQUIRE_MESSAGE(probe.code == 0,
                  "the reference needs Debian's python3-numpy (scripts/deps "
                  "installs it): "
                    << probe.err);
  std::mt19937 rng{42};
  std::uniform_real_distribution<float> pos(0, 200), jitter(-4, 4), size(6, 40),
    score(0, 1);
  std::uniform_int_distribution<int> count(0, 8), cls(0, 3), coin(0, 9);
  test::temp_dir dir;
  for (int c = 0; c < 25; ++c) {
    std::vector<std::vector<box>> dets, truth;
    nlohmann::json j;
    j["iou"] = 0.5;
    j["min_class_boxes"] = 3;
    j["frames"] = nlohmann::json::array();
    int frames = 1 + c % 6;
    for (int f = 0; f < frames; ++f) {
      std::vector<box> t, d;
      nlohmann::json jf{{"det", nlohmann::json::array()},
                        {"gt", nlohmann::json::array()}};
      for (int i = count(rng); i > 0; --i) {
        float x = pos(rng), y = pos(rng), w = size(rng), h = size(rng);
        box g{x, y, x + w, y + h, 1, cls(rng)};
        t.push_back(g);
        jf["gt"].push_back({g.x0, g.y0, g.x1, g.y1, g.cls});
        if (coin(rng) < 7) { // a detection near it, sometimes of another class
          box b{x + jitter(rng),     y + jitter(rng),
                x + w + jitter(rng), y + h + jitter(rng),
                score(rng),          coin(rng) < 8 ? g.cls : cls(rng)};
          d.push_back(b);
        }
      }
      for (int i = count(rng) / 3; i > 0; --i) { // pure false positives
        float x = pos(rng), y = pos(rng);
        d.push_back(
          box{x, y, x + size(rng), y + size(rng), score(rng), cls(rng)});
      }
      for (auto& b : d)
        jf["det"].push_back({b.x0, b.y0, b.x1, b.y1, b.score, b.cls});
      j["frames"].push_back(jf);
      dets.push_back(d);
      truth.push_back(t);
    }
    auto path = dir.path() + "/case" + std::to_string(c) + ".json";
    write_file_atomic(path, j.dump());
    auto r = test::run("/usr/bin/python3", {script, path});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    auto ref = nlohmann::json::parse(r.out);
    map_options opts;
    opts.min_class_boxes = 3;
    auto ours = mean_ap(dets, truth, opts);
    CHECK(ours.map == doctest::Approx(ref["map"].get<double>()).epsilon(1e-9));
    for (auto& [k, v] : ref["per_class"].items())
      CHECK(ours.per_class.at(std::stoi(k)).ap
            == doctest::Approx(v.get<double>()).epsilon(1e-9));
  }
}
