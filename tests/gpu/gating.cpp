// The gating network on real frames.

#include "gpu/gating.hpp"

#include "tests/gpu/frames.hpp"
#include "gpu/teacher.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>

using namespace recl;

namespace {

image synthetic(int w, int h, uint8_t v) {
  image x;
  x.width = w;
  x.height = h;
  x.bgr.assign(static_cast<size_t>(w) * h * 3, v);
  for (size_t i = 0; i < x.bgr.size(); i += 7)
    x.bgr[i] = static_cast<uint8_t>(i % 251);
  return x;
}

} // namespace

TEST_CASE(
  "gating: growing keeps existing outputs, shrinking keeps the chosen") {
  std::vector<image> frames{synthetic(320, 240, 10), synthetic(640, 360, 200),
                            synthetic(100, 300, 90)};
  gating g{3};
  CHECK(g.experts() == 3);
  auto p0 = g.predict(frames);
  REQUIRE(p0.size() == 3);
  REQUIRE(p0[0].size() == 3);
  g.grow(2);
  CHECK(g.experts() == 5);
  auto p1 = g.predict(frames);
  for (size_t i = 0; i < frames.size(); ++i) {
    for (size_t e = 0; e < 3; ++e)
      CHECK(p1[i][e] == p0[i][e]); // bit-exact
    for (size_t e = 3; e < 5; ++e) {
      CHECK(p1[i][e] > 0);
      CHECK(p1[i][e] < 1);
    }
  }
  g.shrink({4, 0});
  CHECK(g.experts() == 2);
  auto p2 = g.predict(frames);
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(p2[i][0] == p1[i][4]);
    CHECK(p2[i][1] == p1[i][0]);
  }
  CHECK_THROWS_AS(g.shrink({7}), std::out_of_range);
  // Serialised and restored, it predicts the same.
  auto back = gating::from_bytes(g.to_bytes());
  CHECK(back->experts() == 2);
  CHECK(back->predict(frames) == p2);
  CHECK(back->to_bytes() == g.to_bytes());
  CHECK_THROWS_AS(gating::from_bytes("garbage"), std::runtime_error);
  // An empty zoo grows from nothing.
  gating empty{0};
  CHECK(empty.predict(frames)[0].empty());
  empty.grow(1);
  CHECK(empty.predict(frames)[0].size() == 1);
}

TEST_CASE("gating: learns which expert suits which scene"
          * doctest::skip(test::data_dir().empty())) {
  // Three places; expert i is the good one on place i.
  std::vector<std::string> clips{"bgs-highway-02", "camvid-0006r0",
                                 "intel-car-topdown"};
  const size_t lengths[] = {748, 101, 377}; // frames, from the catalog
  std::vector<image> train;
  std::vector<std::vector<float>> scores;
  std::vector<std::vector<image>> held_out;
  for (size_t c = 0; c < clips.size(); ++c) {
    // Training frames spread over the clip; held-out frames between them.
    auto skip = std::max<size_t>(2, lengths[c] / 17);
    auto xs = test::clip_frames(clips[c], 16, skip);
    for (auto& x : xs) {
      train.push_back(x);
      std::vector<float> s(3, 0.1f);
      s[c] = 0.9f;
      scores.push_back(s);
    }
    held_out.push_back(test::clip_frames(clips[c], 4, 4 * skip, skip / 2));
  }
  gating g{3};
  auto first = g.train(train, scores, 1);
  auto last = g.train(train, scores, 15);
  CHECK(last < first);
  for (size_t c = 0; c < clips.size(); ++c) {
    auto top = g.top_k(held_out[c], 2);
    REQUIRE(top.size() == 2);
    CHECK_MESSAGE(top[0] == c, clips[c]);
  }
  CHECK_THROWS_AS(g.train(train, {}, 1), std::invalid_argument);
}
