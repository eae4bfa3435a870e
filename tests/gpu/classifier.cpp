// The classification task: MobileNetV2's ImageNet weights dequantised from
// the int8 ONNX model, against the int8 model itself as the teacher.

#include "gpu/classifier.hpp"

#include "edge/frame_source.hpp"
#include "gpu/metrics.hpp"
#include "gpu/teacher.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

using namespace recl;

TEST_CASE("classifier: dequantised MobileNetV2 agrees with the int8 teacher"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  class_teacher t{data + "/models/mobilenetv2-12-int8.onnx"};
  classifier_options full;
  full.input_size = 224;
  auto c = classifier::load(test::pretrained_classifier(), full);
  CHECK(c->parameter_count() > 3000000);
  std::vector<int> ref, ours;
  std::vector<image> imgs;
  for (auto name : {"bus.jpg", "dog.jpg", "eagle.jpg", "giraffe.jpg",
                    "horses.jpg", "person.jpg", "street.png"}) {
    auto m = cv::imread(data + "/images/" + name);
    REQUIRE_FALSE(m.empty());
    ref.push_back(t.classify(m));
    imgs.push_back(to_image(m));
  }
  ours = c->classify(imgs);
  auto agree = top1_agreement(ours, ref);
  MESSAGE("top-1 agreement at 224 px on 7 pictures: " << agree);
  CHECK(agree >= 5.0 / 7);
  auto back = classifier::from_bytes(c->to_bytes(), full);
  CHECK(back->classify(imgs) == ours);
  CHECK_THROWS_AS(classifier::from_bytes("junk"), std::runtime_error);
  CHECK_THROWS_AS(class_teacher("/nonexistent.onnx"), std::runtime_error);
}

TEST_CASE("classifier: fine-tuning at 160 px raises agreement on a stream"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  class_teacher t{data + "/models/mobilenetv2-12-int8.onnx"};
  auto src = frame_source::open("catalog:udacity-lanes-day", data);
  std::vector<image> frames;
  std::vector<int> labels;
  cv::Mat m;
  double ts;
  for (int i = 0; src->next(m, ts) && frames.size() < 16; ++i)
    if (i % 12 == 0) {
      frames.push_back(to_image(m));
      labels.push_back(t.classify(m));
    }
  auto c = classifier::load(test::pretrained_classifier());
  auto before = top1_agreement(c->classify(frames), labels);
  c->train(frames, labels, 4);
  auto after = top1_agreement(c->classify(frames), labels);
  MESSAGE("top-1 agreement at 160 px: " << before << " -> " << after);
  CHECK(after >= before);
  CHECK(after >= 0.9);
  CHECK_THROWS_AS(c->train(frames, {1}, 1), std::invalid_argument);
}
