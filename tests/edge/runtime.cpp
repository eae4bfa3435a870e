// The edge's model runtime: a served model runs on frames and writes JSON
// lines; a damaged update is refused and the old model keeps running.

#include "common/util.hpp"
#include "edge/runtime.hpp"
#include "schema/model_update.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

using namespace recl;

TEST_CASE("edge runtime: a damaged update is refused and the old model "
          "keeps running"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto good = read_file(test::pretrained_archive());
  std::vector<uint8_t> weights{good.begin(), good.end()};
  test::temp_dir dir;
  auto out = dir.path() + "/d.jsonl";
  auto frame = cv::imread(data + "/images/bus.jpg");
  {
    edge_model m{{}, out, 0};
    m.run(frame, 0.0); // no model yet: nothing runs
    CHECK(m.take().frames == 0);
    CHECK(m.swap("base", weights).empty());
    CHECK(m.id() == "base");
    auto cut = weights;
    cut.resize(cut.size() / 2); // a truncated transfer
    CHECK(!m.swap("e-broken", cut).empty());
    CHECK(!m.swap("e-empty", {}).empty());
    CHECK(m.id() == "base");
    m.run(frame, 1.0);
    auto s = m.take();
    CHECK(s.frames == 1);
    CHECK(s.boxes > 0);
  }
  auto text = read_file(out);
  CHECK(text.rfind("{\"t\": 1.000, \"model\": \"base\", \"boxes\": [[", 0)
        == 0);
}

TEST_CASE("edge runtime: with a state directory a restarted edge resumes "
          "with the model it had"
          * doctest::skip(test::data_dir().empty())) {
  auto good = read_file(test::pretrained_archive());
  test::temp_dir dir;
  auto state = dir.path() + "/state";
  {
    edge_model m{{}, "", 0};
    CHECK(m.keep_in(state).empty()); // nothing saved yet
    CHECK(m.swap("r-cam-1-4", {good.begin(), good.end()}).empty());
    std::vector<uint8_t> cut(good.begin(), good.begin() + 100);
    CHECK(!m.swap("e-broken", cut).empty()); // not saved either
  }
  edge_model again{{}, "", 0};
  CHECK(again.keep_in(state) == "r-cam-1-4");
  again.run(cv::imread(test::data_dir() + "/images/bus.jpg"), 0.0);
  CHECK(again.take().frames == 1);
  // A damaged saved model is a clear error, not a silent fresh start.
  write_file_atomic(state + "/model.pt", "garbage", 0600);
  edge_model broken{{}, "", 0};
  CHECK_THROWS_AS(broken.keep_in(state), std::runtime_error);
}

TEST_CASE("edge runtime: a model update is applied only when whole and meant "
          "for the model running"
          * doctest::skip(test::data_dir().empty())) {
  auto base = expert::load(test::pretrained_archive());
  auto retrained = base->clone();
  auto head = base->tensors();
  head.erase(head.begin(), head.end() - 2); // the last two tensors change
  for (auto& t : head)
    t.bytes[0] ^= 0x10;
  retrained->assign(head);
  auto as_bytes = [](const std::string& s) {
    return std::vector<uint8_t>{s.begin(), s.end()};
  };
  auto full = as_bytes(encode(make_update(nullptr, "", *base, false)));
  edge_model m{{}, "", 0};
  // A delta before the edge holds anything has nothing to apply to.
  auto delta = as_bytes(
    encode(make_update(base.get(), content_hash(*base), *retrained, false)));
  CHECK_FALSE(m.swap_update("r-1", delta).error.empty());
  CHECK(m.id().empty());
  auto r = m.swap_update("base", full);
  CHECK(r.error.empty());
  CHECK_FALSE(r.delta);
  CHECK(m.hash() == content_hash(*base));
  // Damaged or truncated: refused, the old model stays.
  auto cut = delta;
  cut.resize(cut.size() - 7);
  CHECK_FALSE(m.swap_update("r-1", cut).error.empty());
  auto garbled = delta;
  garbled[garbled.size() - 3] ^= 0x55; // inside the last tensor's zstd frame
  CHECK_FALSE(m.swap_update("r-1", garbled).error.empty());
  auto u = decode_model_update(std::string_view{
    reinterpret_cast<const char*>(delta.data()), delta.size()});
  u.tensors.back().bytes[1] ^= 1; // decodes, but is not the served model
  CHECK(
    test::contains(m.swap_update("r-1", as_bytes(encode(u))).error, "hash"));
  CHECK(m.id() == "base");
  CHECK(m.hash() == content_hash(*base));
  // Whole and for this model: two tensors, the served model exactly.
  r = m.swap_update("r-1", delta);
  CHECK(r.error.empty());
  CHECK(r.delta);
  CHECK(r.tensors == 2);
  CHECK(m.id() == "r-1");
  CHECK(m.hash() == content_hash(*retrained));
}

TEST_CASE("edge runtime: --annotate writes the frames the model ran on as a "
          "video at their rate"
          * doctest::skip(test::data_dir().empty())) {
  auto good = read_file(test::pretrained_archive());
  test::temp_dir dir;
  auto video = dir.path() + "/out.mp4";
  auto frame = cv::imread(test::data_dir() + "/images/bus.jpg");
  {
    edge_model m{{}, "", 2};
    m.annotate_to(video);
    CHECK(m.swap("base", {good.begin(), good.end()}).empty());
    for (int i = 0; i < 7; ++i)
      m.run(frame, i * 0.25); // 4 per second given, 2 per second run
    CHECK(m.take().frames == 4);
  }
  cv::VideoCapture in{video};
  REQUIRE(in.isOpened());
  CHECK(in.get(cv::CAP_PROP_FPS) == doctest::Approx(2).epsilon(0.01));
  cv::Mat img;
  int n = 0;
  while (in.read(img)) {
    CHECK(img.cols == frame.cols);
    CHECK(img.rows == frame.rows);
    ++n;
  }
  CHECK(n == 4);
  CHECK_THROWS_AS(
    edge_model({}, "", 0).annotate_to(dir.path() + "/no/such/x.mp4"),
    std::runtime_error);
}
