#include "edge/frame_source.hpp"

#include "edge/catalog.hpp"
#include "tests/system/process.hpp"

#include <unistd.h>
#include <csignal>
#include <thread>
#include <chrono>
#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

using namespace recl;

TEST_CASE("catalog: all clips load with sane fields"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto cat = catalog::load(data);
  CHECK(cat.clips().size() == 105);
  auto& c = cat.find("bgs-highway-02");
  CHECK(c.kind == "video");
  CHECK(c.fps == doctest::Approx(25.0));
  CHECK(c.width == 320);
  CHECK_THROWS_AS(cat.find("no-such-clip"), std::invalid_argument);
  CHECK_THROWS_AS(catalog::load("/nonexistent"), std::runtime_error);
}

TEST_CASE("frame source: video, folder and catalog sequences"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  cv::Mat img;
  double t = -1;
  auto video = frame_source::open(data + "/video/bgslibrary/video02.avi", "");
  REQUIRE(video->next(img, t));
  CHECK(img.cols == 320);
  CHECK(t == 0);
  REQUIRE(video->next(img, t));
  CHECK(t == doctest::Approx(1.0 / 25));

  auto folder = frame_source::open(data + "/video/camvid/0001TP", "", 1.0);
  for (int n = 0; n < 3; ++n)
    REQUIRE(folder->next(img, t));
  CHECK(t == doctest::Approx(2.0));

  // Two 5 s Caltrans clips back to back: time continues past the first.
  auto cat = catalog::load(data);
  std::vector<std::string> ids;
  for (auto& c : cat.clips())
    if (c.place == "caltrans-n280-at-indiana-st")
      ids.push_back(c.id);
  REQUIRE(ids.size() >= 2);
  auto a = ids[0];
  auto b = ids[1];
  auto seq = frame_source::open("catalog:" + a + "," + b, data);
  double last = -1;
  int frames = 0;
  while (seq->next(img, t)) {
    CHECK(t > last);
    last = t;
    ++frames;
  }
  CHECK(frames == cat.find(a).frames + cat.find(b).frames);
  CHECK(last > 9.5);
}

TEST_CASE("frame source: bad sources fail clearly") {
  CHECK_THROWS_WITH_AS(frame_source::open("/nonexistent.mp4", ""),
                       "no video file /nonexistent.mp4", std::runtime_error);
  CHECK_THROWS_AS(frame_source::open("catalog:x", ""), std::runtime_error);
  test::temp_dir dir;
  CHECK_THROWS_AS(frame_source::open(dir.path(), ""), std::runtime_error);
  auto data = test::data_dir();
  if (!data.empty())
    CHECK_THROWS_WITH_AS(frame_source::open("catalog:nope", data),
                         "no clip 'nope' in the catalog", std::runtime_error);
}

TEST_CASE("frame source: JPEG encoding shrinks wide frames only") {
  cv::Mat wide(480, 1280, CV_8UC3, cv::Scalar(10, 200, 30));
  auto bytes = encode_jpeg(wide, 640);
  auto back = cv::imdecode(bytes, cv::IMREAD_COLOR);
  CHECK(back.cols == 640);
  CHECK(back.rows == 240);
  cv::Mat small(100, 200, CV_8UC3, cv::Scalar(1, 2, 3));
  CHECK(cv::imdecode(encode_jpeg(small, 640), cv::IMREAD_COLOR).cols == 200);
}

TEST_CASE("frame source: a live stream is timed by the clock, opened again "
          "when it fails, and given up after its retries"
          * doctest::skip(test::data_dir().empty())) {
  // A free port, then an HTTP server of the shared images on it: a JPEG
  // over HTTP is a stream of one frame, so every next frame needs a reopen.
  auto port = test::free_port();
  CHECK_THROWS_WITH_AS(
    frame_source::open("http://127.0.0.1:" + port + "/bus.jpg", "", 1, 1),
    doctest::Contains("cannot open the live source"), std::runtime_error);
  test::process server{"/usr/bin/python3",
                       {"-m", "http.server", port, "--bind", "127.0.0.1",
                        "--directory", test::data_dir() + "/images"}};
  std::unique_ptr<frame_source> src;
  for (int i = 0; i < 50 && !src; ++i) {
    try {
      src
        = frame_source::open("http://127.0.0.1:" + port + "/bus.jpg", "", 1, 2);
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  REQUIRE(src);
  CHECK(src->describe() == "http://127.0.0.1:" + port + "/bus.jpg (live)");
  cv::Mat img;
  double t0 = -1, t1 = -1;
  REQUIRE(src->next(img, t0));
  CHECK(img.cols == 810);
  REQUIRE(src->next(img, t1)); // after a reopen, a second later
  CHECK(t1 - t0 >= 0.9);
  server.signal(SIGTERM);
  server.wait(10);
  CHECK_FALSE(src->next(img, t1)); // two retries, then the end
}
