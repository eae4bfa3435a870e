// Training on real frames with the teacher's labels.

#include "gpu/trainer.hpp"

#include "edge/frame_source.hpp"
#include "gpu/teacher.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <cmath>
#include <doctest/doctest.h>

using namespace recl;

namespace {

/// `n` frames of bgs-highway-02 (a fixed highway camera) with YOLOX labels.
labelled_frames highway(size_t n, size_t stride = 20) {
  auto data = test::data_dir();
  auto src = frame_source::open("catalog:bgs-highway-02", data);
  teacher_options to;
  to.spec = "yolox:" + data + "/models/yolox_nano.onnx";
  auto t = make_teacher(to);
  labelled_frames out;
  cv::Mat img;
  double ts;
  for (size_t i = 0; src->next(img, ts) && out.frames.size() < n; ++i)
    if (i % stride == 0) {
      out.frames.push_back(to_image(img));
      out.labels.push_back(t->detect(img));
    }
  return out;
}

} // namespace

TEST_CASE("trainer: a micro-window raises accuracy on the window's frames"
          * doctest::skip(test::data_dir().empty())) {
  auto frames = highway(8);
  train_options opts;
  opts.batch = 4;
  opts.seed = 7;
  opts.warmup_steps = 2; // 2 steps an epoch: the default warm-up is 10 epochs
  trainer job{expert::load(test::pretrained_archive()), frames, frames, opts};
  auto before = job.evaluate();
  auto r = job.micro_window();
  CHECK(r.acc_before == doctest::Approx(before));
  CHECK(r.images == 8);
  CHECK(r.seconds > 0);
  CHECK(r.loss > 0);
  CHECK(r.gain_per_s
        == doctest::Approx((r.acc_after - r.acc_before) / r.seconds));
  job.train_epochs(4);
  auto after = job.evaluate();
  MESSAGE("accuracy on the window: " << before << " -> " << after);
  CHECK(after > before + 0.05);
  // The trained model is a normal expert: it serialises and detects.
  auto model = job.release();
  CHECK(expert::from_bytes(model->to_bytes())->detect({frames.frames[0]}).size()
        == 1);
}

TEST_CASE("trainer: deterministic under a seed"
          * doctest::skip(test::data_dir().empty())) {
  auto frames = highway(4, 50);
  auto run = [&](uint64_t seed) {
    train_options opts;
    opts.batch = 2;
    opts.seed = seed;
    trainer job{expert::load(test::pretrained_archive()), frames, {}, opts};
    job.train_epochs(1);
    return job.model().to_bytes();
  };
  auto a = run(3);
  CHECK(a == run(3));
  CHECK(a != run(4));
}

TEST_CASE("trainer: bad input is refused"
          * doctest::skip(test::data_dir().empty())) {
  auto model = [] { return expert::load(test::pretrained_archive()); };
  CHECK_THROWS_AS(trainer(model(), {}, {}), std::invalid_argument);
  labelled_frames odd;
  odd.frames.push_back(image{2, 2, std::vector<uint8_t>(12, 0)});
  CHECK_THROWS_AS(trainer(model(), odd, {}), std::invalid_argument);
  odd.labels.resize(1);
  odd.frames[0].bgr.resize(5);
  CHECK_THROWS_AS(trainer(model(), odd, {}), std::invalid_argument);
  CHECK_THROWS_AS(trainer(nullptr, odd, {}), std::invalid_argument);
  train_options bad;
  bad.frozen_stages = max_frozen_stages + 1;
  CHECK_THROWS_AS(trainer(model(), highway(1), {}, bad), std::invalid_argument);
}

TEST_CASE("trainer: frozen stages are left out of training, and a later job "
          "trains them again"
          * doctest::skip(test::data_dir().empty())) {
  auto frames = highway(2);
  std::vector<size_t> counts;
  std::unique_ptr<expert> model = expert::load(test::pretrained_archive());
  for (int f : {4, 3, 2, 1, 0}) {
    train_options opts;
    opts.frozen_stages = f;
    trainer job{std::move(model), frames, {}, opts};
    counts.push_back(job.trainable_parameters());
    job.train_epochs(1);
    model = job.release(); // the same model goes on to the next job
  }
  MESSAGE("trainable parameters with 4/3/2/1/0 frozen stages: "
          << counts[0] << " / " << counts[1] << " / " << counts[2] << " / "
          << counts[3] << " / " << counts[4]);
  for (size_t i = 1; i < counts.size(); ++i)
    CHECK(counts[i - 1] < counts[i]);
  CHECK(counts[4] == 904463); // every parameter of YOLOX-Nano
}

TEST_CASE("trainer: accuracy falls back to frame scores on sparse truth") {
  std::vector<std::vector<box>> truth{{box{0, 0, 10, 10, 1, 2}}, {}};
  std::vector<std::vector<box>> dets{{box{0, 0, 10, 10, .9f, 2}}, {}};
  CHECK(detection_accuracy(dets, truth) == doctest::Approx(1.0));
  dets[1].push_back(box{50, 50, 60, 60, .9f, 2});
  CHECK(detection_accuracy(dets, truth) == doctest::Approx(0.5));
}

TEST_CASE("expert: blending weights interpolates between two experts"
          * doctest::skip(test::data_dir().empty())) {
  auto frames = highway(4, 50);
  auto coco = expert::load(test::pretrained_archive());
  train_options opts;
  opts.batch = 2;
  opts.frozen_stages = 0; // every layer moves
  trainer job{coco->clone(), frames, {}, opts};
  job.train_epochs(2);
  auto tuned = job.release();
  REQUIRE(tuned->to_bytes() != coco->to_bytes());

  auto none = tuned->clone();
  none->blend(*coco, 0);
  CHECK(none->to_bytes() == tuned->to_bytes());

  auto all = tuned->clone();
  all->blend(*coco, 1);
  auto want = coco->detect_for_scoring(frames.frames);
  auto got = all->detect_for_scoring(frames.frames);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].size() == want[i].size());
    for (size_t j = 0; j < got[i].size(); ++j)
      CHECK(got[i][j].score == want[i][j].score);
  }

  // Halfway is the mean of the two, whichever side it starts from.
  auto a = tuned->clone();
  a->blend(*coco, 0.5);
  auto b = coco->clone();
  b->blend(*tuned, 0.5);
  CHECK(a->to_bytes() == b->to_bytes());
  CHECK(a->to_bytes() != tuned->to_bytes());
  CHECK(a->to_bytes() != coco->to_bytes());

  CHECK_THROWS_AS(a->blend(*coco, -0.1), std::invalid_argument);
  CHECK_THROWS_AS(a->blend(*coco, 1.5), std::invalid_argument);
  CHECK_THROWS_AS(a->blend(*coco, std::nan("")), std::invalid_argument);
  CHECK(a->to_bytes() == b->to_bytes()); // a refused blend changes nothing
}

TEST_CASE("trainer: with a moving average of the weights, the average is what "
          "is scored and released"
          * doctest::skip(test::data_dir().empty())) {
  auto frames = highway(4, 50);
  auto holdout = highway(2, 37);
  auto run = [&](double decay, double* acc) {
    train_options opts;
    opts.batch = 2;
    opts.average_decay = decay;
    trainer job{expert::load(test::pretrained_archive()), frames, holdout,
                opts};
    job.train_epochs(2);
    *acc = job.evaluate();
    return job.release();
  };
  double acc_last = 0, acc_avg = 0;
  auto last = run(0, &acc_last);
  auto avg = run(0.9, &acc_avg);
  CHECK(last->to_bytes() != avg->to_bytes());
  CHECK(acc_avg
        == doctest::Approx(detection_accuracy(
          avg->detect_for_scoring(holdout.frames), holdout.labels)));
  CHECK(acc_last
        == doctest::Approx(detection_accuracy(
          last->detect_for_scoring(holdout.frames), holdout.labels)));
  for (double bad : {-0.1, 1.0}) {
    train_options opts;
    opts.average_decay = bad;
    CHECK_THROWS_AS(
      trainer(expert::load(test::pretrained_archive()), frames, {}, opts),
      std::invalid_argument);
  }
}
