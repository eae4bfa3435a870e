// The expert network on real weights: converted from the shipped ONNX file,
// it must reproduce the teacher (same network, same input size) and keep
// detecting at the expert's lower input size.

#include "gpu/expert.hpp"

#include "gpu/metrics.hpp"
#include "gpu/teacher.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

using namespace recl;

namespace {

int count(const std::vector<box>& xs, int cls, float min_score) {
  int n = 0;
  for (auto& b : xs)
    n += b.cls == cls && b.score >= min_score;
  return n;
}

} // namespace

TEST_CASE("expert: converted YOLOX-Nano weights reproduce the teacher"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto archive = test::pretrained_archive();
  expert_options eo;
  eo.input_width = 416;
  eo.input_height = 416;
  auto ex = expert::load(archive, eo);
  CHECK(ex->parameter_count() > 800000);
  CHECK(ex->parameter_count() < 1000000);
  teacher_options to;
  to.spec = "yolox:" + data + "/models/yolox_nano.onnx";
  auto t = make_teacher(to);
  for (auto name : {"bus.jpg", "dog.jpg", "street.png"}) {
    auto mat = cv::imread(data + "/images/" + name);
    REQUIRE_FALSE(mat.empty());
    auto ref = t->detect(mat);
    auto ours = ex->detect({to_image(mat)})[0];
    int confident = 0;
    for (auto& r : ref) {
      if (r.score < 0.5f)
        continue;
      ++confident;
      double best = 0;
      float score = 0;
      for (auto& b : ours)
        if (b.cls == r.cls && iou(b, r) > best) {
          best = iou(b, r);
          score = b.score;
        }
      CHECK_MESSAGE(best > 0.85, name << ": class " << r.cls);
      CHECK(std::abs(score - r.score) < 0.08f);
    }
    CHECK(confident > 0);
  }
}

TEST_CASE("expert: at 256x160 it still finds the bus and people"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto ex = expert::load(test::pretrained_archive());
  CHECK(ex->options().input_width == 256);
  auto img = to_image(cv::imread(data + "/images/bus.jpg"));
  auto boxes = ex->detect({img, img})[1];
  CHECK(count(boxes, 5, 0.4f) >= 1);
  CHECK(count(boxes, 0, 0.3f) >= 2);
  for (auto& b : boxes) {
    CHECK(b.x1 <= img.width);
    CHECK(b.y1 <= img.height);
    CHECK(std::find(default_classes().begin(), default_classes().end(), b.cls)
          != default_classes().end());
  }
}

TEST_CASE("expert: serialisation to bytes is bit-exact"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto ex = expert::load(test::pretrained_archive());
  auto bytes = ex->to_bytes();
  CHECK(bytes.size() > 3000000);
  auto back = expert::from_bytes(bytes);
  CHECK(back->to_bytes() == bytes);
  auto copy = ex->clone();
  CHECK(copy->to_bytes() == bytes);
  auto img = to_image(cv::imread(data + "/images/dog.jpg"));
  auto a = ex->detect({img})[0];
  auto b = back->detect({img})[0];
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].score == b[i].score);
    CHECK(a[i].x0 == b[i].x0);
    CHECK(a[i].cls == b[i].cls);
  }
}

TEST_CASE("expert: bad weights and settings fail clearly") {
  CHECK_THROWS_AS(expert::from_bytes("not an archive"), std::runtime_error);
  CHECK_THROWS_AS(expert::load("/nonexistent.pt"), std::runtime_error);
  expert_options o;
  o.input_width = 250;
  CHECK_THROWS_AS(expert::from_bytes("", o), std::invalid_argument);
  auto r = test::run(test::bin("recl-convert"),
                     {"--onnx", "/nonexistent.onnx", "--out", "/tmp/x.pt"});
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot parse /nonexistent.onnx") != std::string::npos);
}

TEST_CASE("expert: scoring detections extend the operating point's"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto ex = expert::load(test::pretrained_archive());
  teacher_options to;
  to.spec = "yolox:" + data + "/models/yolox_nano.onnx";
  auto t = make_teacher(to);
  std::vector<image> imgs;
  std::vector<std::vector<box>> truth;
  for (auto name : {"bus.jpg", "street.png", "dog.jpg"}) {
    auto mat = cv::imread(data + "/images/" + name);
    REQUIRE_FALSE(mat.empty());
    imgs.push_back(to_image(mat));
    truth.push_back(t->detect(mat));
  }
  auto op = ex->detect(imgs);
  auto all = ex->detect_for_scoring(imgs);
  REQUIRE(all.size() == op.size());
  size_t more = 0;
  for (size_t i = 0; i < op.size(); ++i) {
    CHECK(all[i].size() <= scoring_max_per_frame);
    for (auto& b : all[i])
      CHECK(b.score >= scoring_score_threshold);
    // Greedy NMS never lets a lower-scored box suppress a higher one, so
    // every box at the operating point is among the scoring detections.
    for (auto& b : op[i]) {
      bool found = false;
      for (auto& c : all[i])
        found = found
                || (c.cls == b.cls && c.score == b.score && c.x0 == b.x0
                    && c.y1 == b.y1);
      CHECK_MESSAGE(found, "frame " << i << " class " << b.cls);
    }
    more += all[i].size() - std::min(all[i].size(), op[i].size());
  }
  CHECK(more > 0);
  // The whole precision-recall curve can only add area.
  auto cut = mean_ap(op, truth);
  auto full = mean_ap(all, truth);
  REQUIRE_FALSE(full.sparse);
  CHECK(full.map >= cut.map);
}
