// recl-bench-device: the model library's costs where only LibTorch exists
// (the accelerator machines): expert inference, training, a micro-window and
// gating, on labelled frames prepared elsewhere (`recl-bench-models --export`)
// and weights converted elsewhere (`recl-convert`). Needs nothing but
// LibTorch; uses CUDA when the LibTorch in use has it.

#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "gpu/device.hpp"
#include "gpu/embedder.hpp"
#include "gpu/expert.hpp"
#include "gpu/frames_file.hpp"
#include "gpu/gating.hpp"
#include "gpu/trainer.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <execinfo.h>
#include <unistd.h>
#include <iostream>

using namespace recl;
using bench::median;

namespace {

// A crash on a lent machine must say where: the stack goes to stderr.
void on_crash(int sig) {
  void* frames[64];
  int n = backtrace(frames, 64);
  const char msg[] = "recl-bench-device: crashed; stack:\n";
  (void)!write(2, msg, sizeof msg - 1);
  backtrace_symbols_fd(frames, n, 2);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

/// The device checks' verdicts.
struct checks {
  int failures = 0;
  void verdict(bool ok, const char* what) {
    std::printf("check %-52s %s\n", what, ok ? "ok" : "FAILED");
    failures += ok ? 0 : 1;
  }
};

/// Expert inference time per frame at batch 1 and 16.
void time_inference(expert& ex, const labelled_frames& data) {
  for (size_t batch : {size_t{1}, size_t{16}}) {
    // Warm up at this batch size (CUDA plans kernels per shape).
    ex.detect(std::vector<image>(
                data.frames.begin(),
                data.frames.begin()
                  + static_cast<long>(std::min(batch, data.frames.size()))),
              batch);
    std::vector<double> ms;
    for (size_t i = 0; i < data.frames.size(); i += batch) {
      std::vector<image> chunk(
        data.frames.begin() + static_cast<long>(i),
        data.frames.begin()
          + static_cast<long>(std::min(data.frames.size(), i + batch)));
      auto t0 = now_ms();
      ex.detect(chunk, batch);
      ms.push_back((now_ms() - t0) / chunk.size());
    }
    std::printf("expert 256x160, batch %2zu: %7.2f ms/frame\n", batch,
                median(ms));
  }
}

/// The device's detections, and weights that round-trip bit-exact.
void check_round_trip(expert& ex, const labelled_frames& data, checks& c) {
  // What the device computes must be what the CPU computes: the accuracy
  // printed here is compared across RECL_DEVICE=cpu and CUDA runs.
  auto dets = ex.detect(data.frames);
  size_t boxes = 0;
  for (auto& d : dets)
    boxes += d.size();
  std::printf("base expert on the frames: %zu boxes, accuracy %.4f\n", boxes,
              detection_accuracy(dets, data.labels));
  {
    auto bytes = ex.to_bytes();
    auto back = expert::from_bytes(bytes);
    c.verdict(back->to_bytes() == bytes,
              "weights and buffers round-trip bit-exact");
    auto again = back->detect(data.frames);
    bool same = again.size() == dets.size();
    for (size_t i = 0; same && i < dets.size(); ++i) {
      same = again[i].size() == dets[i].size();
      for (size_t j = 0; same && j < dets[i].size(); ++j)
        same = again[i][j].x1 == dets[i][j].x1
               && again[i][j].score == dets[i][j].score;
    }
    c.verdict(same, "restored expert detects identically");
  }
}

/// A specialising job lowers its loss on the frames.
void check_training(expert& ex, const labelled_frames& train,
                    const labelled_frames& holdout, const train_options& topts,
                    checks& c) {
  trainer job{ex.clone(), train, holdout, topts};
  double first = job.evaluate(), best = first, early = 0, late = 0;
  std::printf("specialising on %zu frames, %zu held out: before %.4f\n",
              train.frames.size(), holdout.frames.size(), first);
  for (int w = 1; w <= 10; ++w) {
    auto r = job.micro_window();
    best = std::max(best, r.acc_after);
    (w <= 3 ? early : late) += w <= 3 || w >= 8 ? r.loss / 3 : 0;
    std::printf(
      "  micro-window %2d: loss %.3f, accuracy %.4f -> %.4f (%.3f s)\n", w,
      r.loss, r.acc_before, r.acc_after, r.seconds);
  }
  // Two scenes, 8 held-out frames: accuracy is noisy here (bench/
  // specialise measures it properly); the loss must fall.
  std::printf("best held-out accuracy %.4f (before %.4f)\n", best, first);
  c.verdict(late < early, "training lowers the loss (windows 8-10 vs 1-3)");
}

/// The same seed twice gives the same weights.
void check_determinism(expert& ex, const labelled_frames& train,
                       const labelled_frames& holdout,
                       const train_options& topts, checks& c) {
  // The same seed twice gives the same weights on the CPU; CUDA's
  // atomics may differ in the last bits, which is reported, not failed.
  auto run = [&] {
    trainer job{ex.clone(), train, holdout, topts};
    job.train_epochs(2);
    return job.release()->to_bytes();
  };
  bool same = run() == run();
  std::printf("check %-52s %s\n", "same seed, same weights after 2 epochs",
              same ? "ok"
                   : (gpu::on_cuda() ? "differs (CUDA, reported)" : "FAILED"));
  if (!same && !gpu::on_cuda())
    ++c.failures;
}

/// Training throughput and a micro-window's time.
void time_training(expert& ex, const labelled_frames& data,
                   const labelled_frames& holdout, const train_options& topts) {
  trainer job{ex.clone(), data, holdout, topts};
  job.micro_window();
  std::vector<double> train_s;
  for (int i = 0; i < 3; ++i)
    train_s.push_back(job.micro_window().seconds);
  std::printf("training batch %zu: %.1f img/s; micro-window over %zu frames "
              "%.3f s\n",
              topts.batch, data.frames.size() / median(train_s),
              data.frames.size(), median(train_s));
}

/// The gating network learns, and its top-K time against the zoo's size.
void check_gating(const labelled_frames& data, checks& c) {
  gating g{10};
  {
    std::vector<std::vector<float>> scores(data.frames.size(),
                                           std::vector<float>(10, 0.1f));
    for (auto& row : scores)
      row[3] = 0.9f;
    double first = g.train(data.frames, scores, 1);
    double last = g.train(data.frames, scores, 20);
    auto top = g.top_k(data.frames, 1);
    std::printf("gating training loss %.4f -> %.4f, top-1 %zu\n", first, last,
                top.empty() ? size_t{0} : top[0]);
    c.verdict(last < first && !top.empty() && top[0] == 3,
              "gating learns which expert is best");
  }
  double base = 0;
  for (size_t zoo : {10, 100, 1000}) {
    if (g.experts() < zoo)
      g.grow(zoo - g.experts());
    g.top_k(data.frames, 10);
    std::vector<double> ms;
    for (int i = 0; i < 5; ++i) {
      auto t0 = now_ms();
      g.top_k(data.frames, 10);
      ms.push_back(now_ms() - t0);
    }
    if (zoo == 10)
      base = median(ms);
    std::printf("gating top-10 over %zu frames, zoo %4zu: %7.2f ms (%.2fx)\n",
                data.frames.size(), zoo, median(ms), median(ms) / base);
  }
}

/// ODIN's autoencoder learns.
void check_odin(const labelled_frames& data, checks& c) {
  embedder odin;
  double before = odin.reconstruction_error(data.frames);
  odin.train(data.frames, 5);
  double after = odin.reconstruction_error(data.frames);
  std::printf("ODIN autoencoder reconstruction error %.5f -> %.5f\n", before,
              after);
  c.verdict(after < before, "ODIN autoencoder learns");
}

options make_options() {
  options o{"recl-bench-device", "--archive FILE --frames FILE [options]",
            "Expert, trainer and gating costs on this machine's device, from "
            "prepared files."};
  o.add("archive", "FILE", "expert weights (recl-convert's output)")
    .add("frames", "FILE", "labelled frames (recl-bench-models --export)")
    .add("threads", "N", "CPU threads for LibTorch (0 = auto)", "0")
    .add("batch", "N", "training batch", "8")
    .add("frozen", "N", "backbone stages not trained (0-4)", "2");
  return o;
}

} // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::signal(SIGSEGV, on_crash);
  std::signal(SIGABRT, on_crash);
  auto o = make_options();
  return run_command(o, argc, argv, [&] {
    if (!o.given("archive") || !o.given("frames"))
      throw usage_error("--archive and --frames are required (see --help)");
    auto data = read_frames_file(o.get("frames"));
    if (data.frames.empty())
      throw usage_error(o.get("frames") + " holds no frames");
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 256)));
    std::printf("device %s, %zu frames\n", gpu::device_name().c_str(),
                data.frames.size());
    checks c;
    auto ex = expert::load(o.get("archive"));
    time_inference(*ex, data);
    check_round_trip(*ex, data, c);
    train_options topts;
    topts.batch = static_cast<size_t>(o.get_int("batch", 1, 1024));
    topts.frozen_stages
      = static_cast<int>(o.get_int("frozen", 0, max_frozen_stages));
    // Training: three of every four frames; every fourth held out.
    labelled_frames train, holdout;
    for (size_t i = 0; i < data.frames.size(); ++i) {
      auto& to = i % 4 == 3 ? holdout : train;
      to.frames.push_back(data.frames[i]);
      to.labels.push_back(data.labels[i]);
    }
    check_training(*ex, train, holdout, topts, c);
    check_determinism(*ex, train, holdout, topts, c);
    time_training(*ex, data, holdout, topts);
    check_gating(data, c);
    check_odin(data, c);
    std::printf("%d check(s) failed\n", c.failures);
    return c.failures == 0 ? 0 : 1;
  });
}
