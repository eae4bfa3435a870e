// recl-bench-device: the model library's costs where only LibTorch exists
// (the accelerator machines): expert inference, training, a micro-window and
// gating, on labelled frames prepared elsewhere (`recl-bench-models --export`)
// and weights converted elsewhere (`recl-convert`). Needs nothing but
// LibTorch; uses CUDA when the LibTorch in use has it.

#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "gpu/device.hpp"
#include "gpu/expert.hpp"
#include "gpu/frames_file.hpp"
#include "gpu/gating.hpp"
#include "gpu/trainer.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

using namespace recl;
using bench::median;

int main(int argc, char** argv) {
  options o{"recl-bench-device", "--archive FILE --frames FILE [options]",
            "Expert, trainer and gating costs on this machine's device, from "
            "prepared files."};
  o.add("archive", "FILE", "expert weights (recl-convert's output)")
    .add("frames", "FILE", "labelled frames (recl-bench-models --export)")
    .add("threads", "N", "CPU threads for LibTorch (0 = auto)", "0")
    .add("batch", "N", "training batch", "8");
  labelled_frames data;
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    if (!o.given("archive") || !o.given("frames"))
      throw usage_error("--archive and --frames are required (see --help)");
    data = read_frames_file(o.get("frames"));
    if (data.frames.empty())
      throw usage_error(o.get("frames") + " holds no frames");
  } catch (const std::exception& e) {
    std::cerr << "recl-bench-device: " << e.what() << "\n";
    return 2;
  }
  gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 256)));
  std::printf("device %s, %zu frames\n", gpu::device_name().c_str(),
              data.frames.size());
  auto ex = expert::load(o.get("archive"));
  for (size_t batch : {size_t{1}, size_t{16}}) {
    ex->detect({data.frames[0]});
    std::vector<double> ms;
    for (size_t i = 0; i < data.frames.size(); i += batch) {
      std::vector<image> chunk(data.frames.begin() + static_cast<long>(i),
                               data.frames.begin()
                                 + static_cast<long>(std::min(data.frames.size(), i + batch)));
      auto t0 = now_ms();
      ex->detect(chunk, batch);
      ms.push_back((now_ms() - t0) / chunk.size());
    }
    std::printf("expert 256x160, batch %2zu: %7.2f ms/frame\n", batch, median(ms));
  }
  train_options topts;
  topts.batch = static_cast<size_t>(o.get_int("batch", 1, 1024));
  labelled_frames holdout;
  for (size_t i = 0; i < std::min<size_t>(8, data.frames.size()); ++i) {
    holdout.frames.push_back(data.frames[i]);
    holdout.labels.push_back(data.labels[i]);
  }
  trainer job{ex->clone(), data, holdout, topts};
  job.micro_window();
  std::vector<double> train_s;
  for (int i = 0; i < 3; ++i)
    train_s.push_back(job.micro_window().seconds);
  std::printf("training batch %zu: %.1f img/s; micro-window over %zu frames "
              "%.3f s\n",
              topts.batch, data.frames.size() / median(train_s),
              data.frames.size(), median(train_s));
  gating g{10};
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
  return 0;
}
