// The store's records (actors/records.hpp): every kind round-trips in its
// tagged form; the text forms written before store schema 2 are still read,
// a damaged text field keeping its default; a damaged tagged record is
// refused before it can allocate.

#include "actors/records.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace recl;

TEST_CASE("records: camera and expert records round-trip") {
  camera_info c;
  c.windows = 12;
  c.frames_labelled = 340;
  c.last_reply_ms = 812.5;
  c.last_reply_unix_ms = -3;
  c.model_id = "e-cam-1-3-abc";
  c.last_retrained_id = "r-cam-1-11";
  auto bytes = encode(c);
  CHECK(bytes.substr(0, 4) == "CA01");
  auto back = decode_camera_info("cam-1", bytes);
  CHECK(back.id == "cam-1");
  CHECK(back.windows == 12);
  CHECK(back.frames_labelled == 340);
  CHECK(back.last_reply_ms == 812.5);
  CHECK(back.last_reply_unix_ms == -3);
  CHECK(back.model_id == "e-cam-1-3-abc");
  CHECK(back.last_retrained_id == "r-cam-1-11");
  CHECK_THROWS_AS(
    decode_camera_info("cam-1", bytes.substr(0, bytes.size() - 1)),
    std::runtime_error);
  CHECK_THROWS_AS(decode_camera_info("cam-1", bytes + "x"), std::runtime_error);

  expert_info e;
  e.origin_camera = "cam-2";
  e.origin_window = 7;
  e.admitted_unix_ms = 1700000000000;
  e.weight_bytes = 1u << 20;
  e.accuracy = 0.625f;
  e.admitted_seq = 99;
  auto eb = decode_expert_info("e1", encode(e));
  CHECK(eb.id == "e1");
  CHECK(eb.origin_camera == "cam-2");
  CHECK(eb.origin_window == 7);
  CHECK(eb.admitted_unix_ms == 1700000000000);
  CHECK(eb.weight_bytes == 1u << 20);
  CHECK(eb.accuracy == 0.625f);
  CHECK(eb.admitted_seq == 99);
}

TEST_CASE("records: text records from before schema 2 are read, and damage "
          "in them stays local") {
  auto c = decode_camera_info(
    "cam-1", "windows=12\nframes_labelled=340\nlast_reply_ms=812.5\n"
             "model_id=e-1\nlast_retrained_id=r-cam-1-11\n");
  CHECK(c.id == "cam-1");
  CHECK(c.windows == 12);
  CHECK(c.last_reply_ms == doctest::Approx(812.5));
  CHECK(c.last_retrained_id == "r-cam-1-11");
  // A damaged number reads as 0; the other fields and unknown keys are fine.
  auto damaged = decode_camera_info(
    "cam-1", "windows=many\nmodel_id=x\nfuture_field=1\nno equals sign\n");
  CHECK(damaged.windows == 0);
  CHECK(damaged.model_id == "x");
  CHECK(decode_expert_info("e1", "accuracy=?\norigin_window=3\n").origin_window
        == 3);

  auto r = decode_credential("viewer * 17 00ff 0123");
  CHECK(r.role == "viewer");
  CHECK(r.cameras == "*");
  CHECK(r.created_unix_ms == 17);
  CHECK(r.hash == "0123");
  CHECK_THROWS_AS(decode_credential("camera cam-1 12 zz"), std::runtime_error);

  std::vector<float> floats{0.5f, -2.f};
  CHECK(decode_centroid(
          std::string(reinterpret_cast<const char*>(floats.data()), 8))
        == floats);
  CHECK_THROWS_AS(decode_centroid("abc"), std::runtime_error);
  CHECK(decode_centroid("").empty()); // found by tests/fuzz/records.cpp

  auto index = gating_index_from_text("e-1\ne-2\n", "4");
  CHECK(index.version == 4);
  CHECK(index.experts == std::vector<std::string>{"e-1", "e-2"});
}

TEST_CASE("records: credentials, centroids and the gating index round-trip") {
  credential_record r{"camera", "cam-*", 17, std::string(32, 'a'),
                      std::string(64, 'b')};
  auto rb = decode_credential(encode(r));
  CHECK(rb.role == "camera");
  CHECK(rb.cameras == "cam-*");
  CHECK(rb.created_unix_ms == 17);
  CHECK(rb.salt == r.salt);
  CHECK(rb.hash == r.hash);

  std::vector<float> centroid{0.25f, 1.5f, -3.f};
  CHECK(decode_centroid(encode_centroid(centroid)) == centroid);

  auto gi = decode_gating_index(encode(gating_index{9, {"base", "e-1"}}));
  CHECK(gi.version == 9);
  CHECK(gi.experts == std::vector<std::string>{"base", "e-1"});
  CHECK_THROWS_AS(decode_gating_index(encode_centroid(centroid)),
                  std::runtime_error);
}

TEST_CASE("records: gating samples and candidates round-trip, and a damaged "
          "record is refused before it can allocate") {
  gating_sample g;
  g.jpeg = {0xff, 0xd8, 0x01};
  g.labels.width = 640;
  g.labels.height = 480;
  g.labels.boxes.push_back(box{1, 2, 30, 40, 0.9f, 2});
  g.experts = {"e-cam-1-0", "base"};
  g.scores = {0.5f, 0.25f};
  auto bytes = encode(g);
  auto back = decode_gating_sample(bytes);
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
  CHECK_THROWS_AS(decode_gating_sample(bytes.substr(0, bytes.size() - 1)),
                  std::runtime_error);
  CHECK_THROWS_AS(decode_gating_sample(bytes + "x"), std::runtime_error);
  CHECK_THROWS_AS(decode_gating_sample(encode(c)), std::runtime_error);
  std::string huge = "GS01";
  huge += std::string("\xff\xff\xff\x7f", 4); // a 2 GiB frame in 4 bytes
  try {
    decode_gating_sample(huge);
    FAIL("accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()}
          == "damaged record: needs 2147483647 more bytes, has 0");
  }
}
