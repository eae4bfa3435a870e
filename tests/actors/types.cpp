// The actors' stored records: camera and expert descriptions round-trip, and
// a damaged field keeps its default while the rest of the record counts.

#include "actors/types.hpp"

#include <doctest/doctest.h>

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
