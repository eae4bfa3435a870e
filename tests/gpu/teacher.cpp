#include "gpu/label_cache.hpp"
#include "gpu/teacher.hpp"

#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

using namespace recl;

namespace {

int count(const std::vector<box>& xs, int cls, float min_score) {
  int n = 0;
  for (auto& b : xs)
    if (b.cls == cls && b.score >= min_score)
      ++n;
  return n;
}

teacher_options yolox(const std::string& data) {
  teacher_options o;
  o.spec = "yolox:" + data + "/models/yolox_nano.onnx";
  return o;
}

} // namespace

TEST_CASE("detection: class sets, IoU and per-class NMS") {
  CHECK(coco_class("car") == 2);
  CHECK(coco_class("stop sign") == 11);
  CHECK(coco_class("spaceship") == -1);
  CHECK(parse_class_set("car, person,car") == std::vector<int>{2, 0});
  CHECK_THROWS_AS(parse_class_set("car,spaceship"), std::invalid_argument);
  CHECK_THROWS_AS(parse_class_set(" , "), std::invalid_argument);
  box a{0, 0, 10, 10, 0.9f, 2};
  box b{5, 0, 15, 10, 0.8f, 2};
  CHECK(iou(a, b) == doctest::Approx(50.0 / 150.0));
  CHECK(iou(a, a) == doctest::Approx(1.0));
  box c{1, 0, 11, 10, 0.7f, 2};  // overlaps a strongly, same class
  box d{1, 0, 11, 10, 0.95f, 0}; // same place, other class
  auto kept = nms_per_class({a, b, c, d}, 0.45f);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].cls == 0);
  CHECK(kept[1].score == doctest::Approx(0.9f));
  CHECK(kept[2].score == doctest::Approx(0.8f));
}

TEST_CASE(
  "detection: weighted box fusion averages views' boxes of one object") {
  // Both views see the same car, slightly shifted; only view 1 sees a
  // person, and view 2 alone a second car.
  box car1{0, 0, 10, 10, 0.9f, 2};
  box car2{2, 0, 12, 10, 0.3f, 2};
  box person{50, 50, 60, 70, 0.8f, 0};
  box other{80, 0, 90, 10, 0.4f, 2};
  auto fused = fuse_boxes({{car1, person}, {car2, other}}, 0.55f);
  REQUIRE(fused.size() == 3);
  // The car: score-weighted coordinates, the higher score.
  CHECK(fused[0].cls == 2);
  CHECK(fused[0].score == doctest::Approx(0.9f));
  CHECK(fused[0].x0 == doctest::Approx(0.5f));  // (0.9*0 + 0.3*2) / 1.2
  CHECK(fused[0].x1 == doctest::Approx(10.5f)); // (0.9*10 + 0.3*12) / 1.2
  // What one view alone sees is kept as it was.
  CHECK(fused[1].cls == 0);
  CHECK(fused[1].score == doctest::Approx(0.8f));
  CHECK(fused[1].y1 == doctest::Approx(70.f));
  CHECK(fused[2].x0 == doctest::Approx(80.f));
  // Boxes of another class never fuse, however they overlap.
  box bus{0, 0, 10, 10, 0.9f, 5};
  CHECK(fuse_boxes({{car1}, {bus}}, 0.55f).size() == 2);
  CHECK(fuse_boxes({}, 0.55f).empty());
}

TEST_CASE("teacher: letterbox keeps the aspect in the top-left corner") {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(0, 0, 255));
  float r = 0;
  auto out = letterbox_top_left(img, 416, 416, r);
  CHECK(r == doctest::Approx(2.08f));
  CHECK(out.cols == 416);
  CHECK(out.rows == 416);
  CHECK(out.at<cv::Vec3b>(10, 10) == cv::Vec3b(0, 0, 255));
  CHECK(out.at<cv::Vec3b>(300, 10) == cv::Vec3b(114, 114, 114));
}

TEST_CASE("teacher: bad specs fail clearly") {
  teacher_options o;
  o.spec = "resnet";
  CHECK_THROWS_AS(make_teacher(o), std::invalid_argument);
  o.spec = "yolox:/nonexistent/model.onnx";
  CHECK_THROWS_AS(make_teacher(o), std::runtime_error);
  o.spec = "hog";
  o.input_width = 100;
  CHECK_THROWS_AS(make_teacher(o), std::invalid_argument);
}

TEST_CASE("teacher: YOLOX-Nano finds the bus and its passengers"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto img = cv::imread(data + "/images/bus.jpg");
  REQUIRE_FALSE(img.empty());
  auto t = make_teacher(yolox(data));
  auto boxes = t->detect(img);
  CHECK(count(boxes, 5, 0.5f) >= 1); // bus
  CHECK(count(boxes, 0, 0.5f) >= 3); // persons
  for (auto& b : boxes) {
    CHECK(b.x0 >= 0);
    CHECK(b.y0 >= 0);
    CHECK(b.x1 <= img.cols);
    CHECK(b.y1 <= img.rows);
    CHECK(b.x1 > b.x0);
  }
  // The bus box covers most of the picture's width (checks the decode and
  // the letterbox scale, not just the class).
  for (auto& b : boxes)
    if (b.cls == 5 && b.score >= 0.5f)
      CHECK(b.x1 - b.x0 > 0.6f * img.cols);
  // A non-square input size works too and finds the same objects.
  auto o = yolox(data);
  o.input_width = 320;
  o.input_height = 416;
  auto narrow = make_teacher(o)->detect(img);
  CHECK(count(narrow, 5, 0.5f) >= 1);
  CHECK(count(narrow, 0, 0.5f) >= 3);
}

TEST_CASE("teacher: the class set filters what YOLOX reports"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto img = cv::imread(data + "/images/bus.jpg");
  auto o = yolox(data);
  o.classes = {5};
  auto boxes = make_teacher(o)->detect(img);
  REQUIRE_FALSE(boxes.empty());
  for (auto& b : boxes)
    CHECK(b.cls == 5);
  // dog.jpg holds a dog, a bicycle and a car: the default (road) set keeps
  // the bicycle and the car but not the dog.
  auto dog
    = make_teacher(yolox(data))->detect(cv::imread(data + "/images/dog.jpg"));
  CHECK(count(dog, 1, 0.5f) >= 1);
  CHECK(count(dog, 16, 0.0f) == 0);
}

TEST_CASE("teacher: the HOG fallback finds people without any file") {
  auto data = test::data_dir();
  cv::Mat img;
  if (!data.empty())
    img = cv::imread(data + "/images/person.jpg");
  if (img.empty()) {
    MESSAGE("SKIPPED: no shared data (set RECL_DATA) for person.jpg");
    return;
  }
  teacher_options o;
  o.spec = "hog";
  auto t = make_teacher(o);
  CHECK(t->describe().find("hog") != std::string::npos);
  auto boxes = t->detect(img);
  CHECK(count(boxes, 0, 0.5f) >= 1);
  // A blank frame has nobody in it.
  CHECK(t->detect(cv::Mat(240, 320, CV_8UC3, cv::Scalar(40, 40, 40))).empty());
}

TEST_CASE("teacher: tiling finds more of the small cars of CCTV frames"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto o = yolox(data);
  auto plain = make_teacher(o);
  o.tiling = "on";
  auto tiled = make_teacher(o);
  CHECK(tiled->describe().find("tiling on") != std::string::npos);
  o.tiling = "auto";
  auto automatic = make_teacher(o);
  o.tiling = "sideways";
  CHECK_THROWS_AS(make_teacher(o), std::invalid_argument);
  // Caltrans CCTV at 352x240: small, dense cars.
  auto src = cv::VideoCapture(data
                              + "/video/caltrans/n280-at-indiana-st/"
                                "2c0bb445-2d09-45ed-a494-79ecb13a23b4.mp4");
  size_t n_plain = 0, n_tiled = 0, n_auto = 0;
  cv::Mat img;
  for (int i = 0; i < 60 && src.read(img); ++i) {
    if (i % 20)
      continue;
    auto p = plain->detect(img);
    auto t = tiled->detect(img);
    n_plain += p.size();
    n_tiled += t.size();
    n_auto += automatic->detect(img).size();
    for (auto& b : t) {
      CHECK(b.x0 >= 0);
      CHECK(b.x1 <= img.cols);
    }
  }
  MESSAGE("boxes on 3 frames: whole frame " << n_plain << ", tiled "
                                            << n_tiled);
  CHECK(n_tiled > n_plain);
  CHECK(n_auto == n_tiled); // 352 px wide: auto tiles
  // A large frame is not tiled in auto mode.
  auto bus = cv::imread(data + "/images/bus.jpg");
  CHECK(automatic->detect(bus).size() == plain->detect(bus).size());
}

TEST_CASE("teacher: the mirror view and the strong teacher"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  auto o = yolox(data);
  auto plain = make_teacher(o);
  o.flip = true;
  auto flipped = make_teacher(o);
  CHECK(flipped->describe().find("flip") != std::string::npos);
  // The flip is part of a label cache's key; the default's key is unchanged.
  auto o_plain = yolox(data);
  CHECK(teacher_key(o) != teacher_key(o_plain));
  CHECK(teacher_key(o).find("-flip-") != std::string::npos);
  CHECK(teacher_key(o_plain).find("flip") == std::string::npos);
  // The bus picture: the mirror view finds the same bus and people, with
  // boxes where the plain teacher puts them (mapped back, not mirrored).
  auto bus = cv::imread(data + "/images/bus.jpg");
  auto a = plain->detect(bus);
  auto b = flipped->detect(bus);
  CHECK(count(b, 5, 0.5f) >= 1);
  CHECK(count(b, 0, 0.5f) >= 3);
  for (auto& x : b) {
    if (x.score < 0.5f)
      continue;
    float best = 0;
    for (auto& y : a)
      if (y.cls == x.cls)
        best = std::max(best, iou(x, y));
    CHECK(best > 0.7f);
  }
  // The strong preset: 640, tiles and the mirror, on a small CCTV frame
  // with dense cars; it finds at least as many as the 416 default.
  auto strong = strong_teacher(yolox(data));
  CHECK(strong.input_width == 640);
  CHECK(strong.extra_input == 416);
  CHECK(strong.tiling == "on");
  CHECK(strong.flip);
  CHECK(strong.spec == yolox(data).spec);
  auto src = cv::VideoCapture(data
                              + "/video/caltrans/n280-at-indiana-st/"
                                "2c0bb445-2d09-45ed-a494-79ecb13a23b4.mp4");
  cv::Mat img;
  REQUIRE(src.read(img));
  auto standard = plain->detect(img);
  auto strong_boxes = make_teacher(strong)->detect(img);
  MESSAGE("Caltrans frame: 416 teacher " << standard.size() << " boxes, strong "
                                         << strong_boxes.size());
  CHECK(strong_boxes.size() > standard.size());
  // It keeps what the 416 teacher finds: every such box has a strong box of
  // its class on it.
  for (auto& x : standard) {
    float best = 0;
    for (auto& y : strong_boxes)
      if (y.cls == x.cls)
        best = std::max(best, iou(x, y));
    CHECK(best > 0.5f);
  }
}
