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
