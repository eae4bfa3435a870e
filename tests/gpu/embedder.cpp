// The ODIN autoencoder on real frames.

#include "gpu/embedder.hpp"

#include "tests/gpu/frames.hpp"
#include "gpu/teacher.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>

using namespace recl;

TEST_CASE("embedder: nearest mean embedding finds the scene"
          * doctest::skip(test::data_dir().empty())) {
  std::vector<std::string> clips{"bgs-highway-02", "camvid-0006r0",
                                 "intel-car-topdown"};
  const size_t lengths[] = {748, 101, 377};
  std::vector<image> all;
  std::vector<std::vector<image>> train, held;
  for (size_t c = 0; c < clips.size(); ++c) {
    auto skip = std::max<size_t>(2, lengths[c] / 17);
    train.push_back(test::clip_frames(clips[c], 16, skip));
    held.push_back(test::clip_frames(clips[c], 4, 4 * skip, skip / 2));
    all.insert(all.end(), train.back().begin(), train.back().end());
  }
  embedder e;
  auto before = e.reconstruction_error(all);
  e.train(all, 30);
  auto after = e.reconstruction_error(all);
  MESSAGE("reconstruction error " << before << " -> " << after);
  CHECK(after < before);
  std::vector<std::vector<float>> centroids;
  for (auto& t : train)
    centroids.push_back(e.embed(t));
  CHECK(centroids[0].size() == 32);
  for (size_t c = 0; c < clips.size(); ++c)
    CHECK_MESSAGE(embedder::nearest(e.embed(held[c]), centroids) == c,
                  clips[c]);
  auto back = embedder::from_bytes(e.to_bytes());
  CHECK(back->embed(held[0]) == e.embed(held[0]));
  CHECK_THROWS_AS(embedder::nearest({1.f}, {}), std::invalid_argument);
  CHECK_THROWS_AS(embedder::from_bytes("junk"), std::runtime_error);
}
