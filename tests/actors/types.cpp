// The actors' stored records: camera and expert descriptions round-trip, and
// a damaged field keeps its default while the rest of the record counts.

#include "actors/types.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace recl;

TEST_CASE("types: camera and expert records round-trip, damage stays local") {
  camera_info c;
  c.windows = 12;
  c.frames_labelled = 340;
  c.last_reply_ms = 812.5;
  c.model_id = "e-cam-1-3-abc";
  c.last_retrained_id = "r-cam-1-11";
  auto back = decode_camera_info("cam-1", encode(c));
  CHECK(back.id == "cam-1");
  CHECK(back.windows == 12);
  CHECK(back.frames_labelled == 340);
  CHECK(back.last_reply_ms == doctest::Approx(812.5));
  CHECK(back.model_id == "e-cam-1-3-abc");
  CHECK(back.last_retrained_id == "r-cam-1-11");
  // A damaged number reads as 0; the other fields and unknown keys are fine.
  auto damaged = decode_camera_info(
    "cam-1", "windows=many\nmodel_id=x\nfuture_field=1\nno equals sign\n");
  CHECK(damaged.windows == 0);
  CHECK(damaged.model_id == "x");
  expert_info e;
  e.origin_camera = "cam-2";
  e.origin_window = 7;
  e.accuracy = 0.625f;
  e.admitted_seq = 99;
  auto eb = decode_expert_info("e1", encode(e));
  CHECK(eb.id == "e1");
  CHECK(eb.origin_camera == "cam-2");
  CHECK(eb.origin_window == 7);
  CHECK(eb.accuracy == doctest::Approx(0.625f));
  CHECK(eb.admitted_seq == 99);
  CHECK(decode_expert_info("e1", "accuracy=?\norigin_window=3\n").origin_window
        == 3);
}

TEST_CASE("types: gating samples and candidates round-trip, and a damaged "
          "record is refused before it can allocate") {
  gating_sample g;
  g.jpeg = {0xff, 0xd8, 0x01};
  g.labels.width = 640;
  g.labels.height = 480;
  g.labels.boxes.push_back(box{1, 2, 30, 40, 0.9f, 2});
  g.experts = {"e-cam-1-0", "base"};
  g.scores = {0.5f, 0.25f};
  auto bytes = g.encode();
  auto back = gating_sample::decode(bytes);
  CHECK(back.jpeg == g.jpeg);
  CHECK(back.labels.width == 640);
  REQUIRE(back.labels.boxes.size() == 1);
  CHECK(back.labels.boxes[0].x1 == 30);
  CHECK(back.labels.boxes[0].cls == 2);
  CHECK(back.experts == g.experts);
  CHECK(back.scores == g.scores);

  candidate c;
  c.model_id = "r-cam-1-3";
  c.info.id = "e-cam-1-3-ab";
  c.info.origin_camera = "cam-1";
  c.info.admitted_unix_ms = -5;
  c.info.accuracy = 0.7f;
  c.best_rival = 0.6f;
  c.frames.push_back(frame{{1, 2, 3}, 500});
  c.labels.push_back(g.labels);
  auto cb = decode_candidate(encode(c));
  CHECK(cb.model_id == c.model_id);
  CHECK(cb.info.id == c.info.id);
  CHECK(cb.info.admitted_unix_ms == -5);
  CHECK(cb.best_rival == doctest::Approx(0.6));
  REQUIRE(cb.frames.size() == 1);
  CHECK(cb.frames[0].bytes == c.frames[0].bytes);
  CHECK(cb.frames[0].ts_ms == 500);
  CHECK(cb.labels.size() == 1);

  // Truncated, trailing, another kind, and a count no record could hold.
  CHECK_THROWS_AS(gating_sample::decode(bytes.substr(0, bytes.size() - 1)),
                  std::runtime_error);
  CHECK_THROWS_AS(gating_sample::decode(bytes + "x"), std::runtime_error);
  CHECK_THROWS_AS(gating_sample::decode(encode(c)), std::runtime_error);
  std::string huge = "GS01";
  huge += std::string("\xff\xff\xff\x7f", 4); // a 2 GiB frame in 4 bytes
  try {
    gating_sample::decode(huge);
    FAIL("accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()}
          == "damaged record: needs 2147483647 more bytes, has 0");
  }
}
