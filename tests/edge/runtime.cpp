// The edge's model runtime: a served model runs on frames and writes JSON
// lines; a damaged update is refused and the old model keeps running.

#include "common/util.hpp"
#include "edge/runtime.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

using namespace recl;

TEST_CASE("edge runtime: a damaged update is refused and the old model "
          "keeps running") {
  auto data = test::data_dir();
  if (data.empty()) {
    MESSAGE("SKIPPED: no shared data");
    return;
  }
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
