#include "gpu/frames_file.hpp"

#include "common/util.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <stdexcept>

using namespace recl;

TEST_CASE("frames file: round trip, and clear errors on bad files") {
  test::temp_dir dir;
  labelled_frames x;
  image a{3, 2, std::vector<uint8_t>(18)};
  for (size_t i = 0; i < a.bgr.size(); ++i)
    a.bgr[i] = static_cast<uint8_t>(i * 7);
  x.frames = {a, image{1, 1, {1, 2, 3}}};
  x.labels = {{box{1.5f, 2, 3, 4.25f, 0.9f, 2}}, {}};
  auto path = dir.path() + "/f.bin";
  write_frames_file(path, x);
  auto y = read_frames_file(path);
  REQUIRE(y.frames.size() == 2);
  CHECK(y.frames[0].bgr == a.bgr);
  CHECK(y.frames[0].width == 3);
  CHECK(y.frames[1].bgr == std::vector<uint8_t>{1, 2, 3});
  REQUIRE(y.labels[0].size() == 1);
  CHECK(y.labels[0][0].x0 == 1.5f);
  CHECK(y.labels[0][0].y1 == 4.25f);
  CHECK(y.labels[0][0].cls == 2);
  CHECK(y.labels[1].empty());
  // Truncated, foreign and missing files are named.
  auto bytes = read_file(path);
  write_file_atomic(path, bytes.substr(0, bytes.size() - 5));
  CHECK_THROWS_WITH_AS(read_frames_file(path), (path + ": truncated").c_str(),
                       std::runtime_error);
  write_file_atomic(path, "not ours at all");
  CHECK_THROWS_WITH_AS(read_frames_file(path),
                       (path + ": not a recl frames file").c_str(),
                       std::runtime_error);
  CHECK_THROWS_AS(read_frames_file(dir.path() + "/none"), std::runtime_error);
  labelled_frames odd;
  odd.frames.push_back(a);
  CHECK_THROWS_AS(write_frames_file(path, odd), std::invalid_argument);
}
