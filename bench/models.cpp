// recl-bench-models: the model library's costs on this machine, measured in
// one run so that ratios hold even on a noisy machine: teacher vs expert
// ms/frame, serialized expert size, peak RSS.

#include "bench/data.hpp"
#include "common/settings.hpp"
#include "bench/stats.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/frame_source.hpp"
#include "gpu/device.hpp"
#include "gpu/expert.hpp"
#include "gpu/frames_file.hpp"
#include "gpu/gating.hpp"
#include "gpu/trainer.hpp"
#include "gpu/teacher.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <map>
#include <opencv2/core.hpp>
#include <cstdio>
#include <iostream>
#include <set>
#include <sys/resource.h>

using namespace recl;
using bench::median;

namespace {

std::vector<cv::Mat> frames_of(const std::string& data, const std::string& id,
                               size_t n) {
  auto cat = catalog::load(data);
  auto& c = cat.find(id);
  auto src = frame_source::open("catalog:" + id, data);
  auto step = std::max(1, c.frames / static_cast<int>(n));
  std::vector<cv::Mat> out;
  cv::Mat img;
  double t;
  for (int i = 0; src->next(img, t) && out.size() < n; ++i)
    if (i % step == 0)
      out.push_back(img.clone());
  return out;
}

/// The teacher's milliseconds per frame on `mats` (after one warm-up).
std::vector<double> time_teacher(teacher& t, const std::vector<cv::Mat>& mats) {
  t.detect(mats[0]);
  std::vector<double> t_ms;
  for (auto& m : mats) {
    auto s = now_ms();
    t.detect(m);
    t_ms.push_back(now_ms() - s);
  }
  std::printf("teacher  YOLOX-Nano 416x416, OpenCV dnn, 1 frame:  %7.2f "
              "ms/frame\n",
              median(t_ms));
  return t_ms;
}

/// The expert at several inputs and batches against the teacher.
void time_experts(const std::string& archive, const std::vector<image>& imgs,
                  const std::vector<double>& t_ms) {
  struct variant {
    int w, h;
    size_t batch;
  };
  for (auto v : {variant{256, 160, 1}, variant{256, 160, 16},
                 variant{320, 192, 1}, variant{416, 416, 1}}) {
    expert_options eo;
    eo.input_width = v.w;
    eo.input_height = v.h;
    auto ex = expert::load(archive, eo);
    ex->detect({imgs[0]});
    std::vector<double> ms;
    for (size_t i = 0; i < imgs.size(); i += v.batch) {
      std::vector<image> chunk(
        imgs.begin() + static_cast<long>(i),
        imgs.begin() + static_cast<long>(std::min(imgs.size(), i + v.batch)));
      auto s = now_ms();
      ex->detect(chunk, v.batch);
      ms.push_back((now_ms() - s) / chunk.size());
    }
    // Same fully convolutional network: its multiply-adds scale with the
    // input's pixels, whatever the runtime or batch.
    std::printf("expert   YOLOX-Nano %dx%d, LibTorch, batch %2zu:   %7.2f "
                "ms/frame  (teacher/expert = %.2fx; compute %.2f of the "
                "teacher's)\n",
                v.w, v.h, v.batch, median(ms), median(t_ms) / median(ms),
                double(v.w) * v.h / (416.0 * 416.0));
  }
}

/// Training: a micro-window (one epoch) over 32 labelled frames.
void time_training(const std::string& archive, const options& o,
                   const std::vector<cv::Mat>& mats,
                   const std::vector<image>& imgs, teacher& t) {
  labelled_frames window;
  for (size_t i = 0; i < mats.size() && window.frames.size() < 32; ++i) {
    window.frames.push_back(imgs[i]);
    window.labels.push_back(t.detect(mats[i]));
  }
  if (o.given("export")) {
    write_frames_file(o.get("export"), window);
    std::printf("wrote %zu labelled frames to %s\n", window.frames.size(),
                o.get("export").c_str());
  }
  labelled_frames holdout;
  for (size_t i = 0; i < 8 && i < window.frames.size(); ++i) {
    holdout.frames.push_back(window.frames[i]);
    holdout.labels.push_back(window.labels[i]);
  }
  train_options topts;
  topts.batch = static_cast<size_t>(o.get_int("train-batch", 1, 1024));
  trainer job{expert::load(archive), window, holdout, topts};
  job.micro_window(); // warm-up
  std::vector<double> train_s, total_s;
  for (int i = 0; i < 3; ++i) {
    auto t0 = now_ms();
    auto r = job.micro_window();
    total_s.push_back((now_ms() - t0) / 1000);
    train_s.push_back(r.seconds);
  }
  std::printf("training at 256x160, batch %zu: %.1f img/s; micro-window of %zu "
              "frames: %.2f s training + %.2f s evaluating 8 held-out frames\n",
              topts.batch, window.frames.size() / median(train_s),
              window.frames.size(), median(train_s),
              median(total_s) - median(train_s));
}

/// Gating: cost of scoring 32 frames as the zoo grows.
std::map<size_t, double> time_gating(const std::vector<image>& imgs) {
  std::map<size_t, double> gating_ms;
  {
    std::vector<image> g32(
      imgs.begin(),
      imgs.begin() + static_cast<long>(std::min<size_t>(32, imgs.size())));
    gating g{10};
    double base_ms = 0;
    for (size_t zoo : {10, 100, 1000}) {
      if (g.experts() < zoo)
        g.grow(zoo - g.experts());
      g.predict(g32);
      std::vector<double> ms;
      for (int i = 0; i < 5; ++i) {
        auto t0 = now_ms();
        g.top_k(g32, 10);
        ms.push_back(now_ms() - t0);
      }
      if (zoo == 10)
        base_ms = median(ms);
      gating_ms[zoo] = median(ms);
      std::printf("gating top-10 over %zu frames, zoo of %4zu: %7.2f ms  "
                  "(%.2fx the zoo of 10)\n",
                  g32.size(), zoo, median(ms), median(ms) / base_ms);
    }
  }
  return gating_ms;
}

/// The oracle selector: every zoo expert, restored from its bytes as from
/// the store, scored on the window against the teacher's labels.
void time_oracle(const std::string& archive, const std::vector<image>& imgs,
                 const std::vector<cv::Mat>& mats, teacher& t,
                 const std::vector<size_t>& oracle_sizes,
                 const std::map<size_t, double>& gating_ms) {
  size_t n32 = std::min<size_t>(32, imgs.size());
  std::vector<image> w(imgs.begin(), imgs.begin() + static_cast<long>(n32));
  std::vector<std::vector<box>> truth;
  for (size_t i = 0; i < n32; ++i)
    truth.push_back(t.detect(mats[i]));
  auto bytes = expert::load(archive)->to_bytes();
  for (auto zoo : oracle_sizes) {
    auto t0 = now_ms();
    double best = -1;
    for (size_t i = 0; i < zoo; ++i) {
      auto x = expert::from_bytes(bytes);
      best
        = std::max(best, detection_accuracy(x->detect_for_scoring(w), truth));
    }
    double ms = now_ms() - t0;
    auto g = gating_ms.find(zoo);
    std::printf(
      "oracle over %zu frames, zoo of %4zu: %9.0f ms  (%s)\n", n32, zoo, ms,
      g == gating_ms.end()
        ? "no gating figure at this size"
        : cv::format("%.0fx gating's top-10", ms / g->second).c_str());
    std::fflush(stdout);
  }
}

/// Tiled teacher on Caltrans CCTV: boxes found and cost.
void tiled_teacher_cost(const std::string& data, const teacher_options& to,
                        teacher& t) {
  auto cat = catalog::load(data);
  std::vector<cv::Mat> cctv;
  std::set<std::string> places;
  for (auto& c : cat.clips())
    if (c.place.rfind("caltrans-", 0) == 0 && places.insert(c.place).second)
      for (auto& m : frames_of(data, c.id, 3))
        cctv.push_back(m);
  auto tiled_opts = to;
  tiled_opts.tiling = "on";
  auto tiled = make_teacher(tiled_opts);
  size_t n_plain = 0, n_tiled = 0;
  double ms_plain = 0, ms_tiled = 0;
  for (auto& m : cctv) {
    auto t0 = now_ms();
    n_plain += t.detect(m).size();
    auto t1 = now_ms();
    n_tiled += tiled->detect(m).size();
    ms_plain += t1 - t0;
    ms_tiled += now_ms() - t1;
  }
  std::printf("tiled teacher on %zu Caltrans frames (%zu cameras): %.1f -> "
              "%.1f boxes/frame (%.2fx), %.0f -> %.0f ms/frame (%.2fx)\n",
              cctv.size(), places.size(), double(n_plain) / cctv.size(),
              double(n_tiled) / cctv.size(), double(n_tiled) / n_plain,
              ms_plain / cctv.size(), ms_tiled / cctv.size(),
              ms_tiled / ms_plain);
}

options make_options() {
  options o{"recl-bench-models", "[options]",
            "Teacher vs expert cost per frame, expert size, peak memory."};
  bench::add_data_option(o)
    .add("clips", "IDS", "catalog clips to take frames from",
         "bgs-highway-02,udacity-lanes-day")
    .add("frames", "N", "frames per clip", "16")
    .add("threads", "N", "LibTorch threads (0 = auto)", "0")
    .add("train-batch", "N", "training batch size", "8")
    .add("oracle-zoo", "LIST",
         "zoo sizes at which to time the oracle "
         "selector (1000 takes ~8 min on 2 cores)",
         "10,100")
    .add("export", "FILE",
         "also write the 32 labelled frames for "
         "recl-bench-device");
  return o;
}

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  return run_command(o, argc, argv, [&] {
    auto data = bench::data_folder(o);
    std::vector<size_t> oracle_sizes;
    for (auto& item : split(o.get("oracle-zoo"), ',')) {
      char* end = nullptr;
      auto v = std::strtoul(trim(item).c_str(), &end, 10);
      if (trim(item).empty() || *end != 0 || v < 1 || v > 100000)
        o.fail("oracle-zoo", "'" + item + "' is not a zoo size (1-100000)");
      oracle_sizes.push_back(v);
    }
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 64)));
    std::vector<cv::Mat> mats;
    for (auto& id : split(o.get("clips"), ','))
      for (auto& m : frames_of(
             data, trim(id), static_cast<size_t>(o.get_int("frames", 1, 1000))))
        mats.push_back(m);
    std::vector<image> imgs;
    for (auto& m : mats)
      imgs.push_back(to_image(m));
    std::printf("device %s, %zu frames from %s\n", gpu::device_name().c_str(),
                mats.size(), o.get("clips").c_str());
    teacher_options to;
    to.spec = "yolox:" + data + "/models/yolox_nano.onnx";
    auto teacher = make_teacher(to);
    auto t_ms = time_teacher(*teacher, mats);
    auto archive = test::pretrained_archive();
    time_experts(archive, imgs, t_ms);
    time_training(archive, o, mats, imgs, *teacher);
    auto gating_ms = time_gating(imgs);
    time_oracle(archive, imgs, mats, *teacher, oracle_sizes, gating_ms);
    tiled_teacher_cost(data, to, *teacher);
    auto ex = expert::load(archive);
    std::printf("expert parameters: %lld, serialized: %s\n",
                static_cast<long long>(ex->parameter_count()),
                human_bytes(ex->to_bytes().size()).c_str());
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
      "peak RSS: %s\n",
      human_bytes(static_cast<uint64_t>(ru.ru_maxrss) * 1024).c_str());
    return 0;
  });
}
