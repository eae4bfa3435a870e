// recl-bench-specialise: does fine-tuning on one window help later frames of
// the same stream? For each place: train on the first clip (or the first half
// of a single clip), test on the next clip (or the second half), and report
// car AP and mAP against the teacher after 0/1/3/10/30 epochs.

#include "bench/data.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/frame_source.hpp"
#include "bench/samples.hpp"
#include "gpu/device.hpp"
#include "gpu/label_cache.hpp"
#include "gpu/metrics.hpp"
#include "gpu/trainer.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <cstdio>
#include <iostream>

using namespace recl;

namespace {

struct score {
  double map = 0;
  double car = -1;
  bool sparse = false;
};

score evaluate(expert& ex, const labelled_frames& test) {
  auto m = mean_ap(ex.detect_for_scoring(test.frames), test.labels);
  return {m.map, m.car_ap, m.sparse};
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-specialise", "[options]",
            "Fine-tunes the expert on one window per place and scores it on "
            "later frames."};
  bench::add_data_option(o)
    .add("places", "LIST", "places to try",
         "bgs-highway-02,bgs-highway-03,caltrans-n280-at-indiana-st,"
         "caltrans-s101-nof-84-woodside-rd,us-suburban-street,"
         "autostrade-a14-km411.78")
    .add("train-frames", "N", "frames in the training window", "32")
    .add("test-frames", "N", "frames scored", "24")
    .add("epochs", "LIST", "epoch counts to report (cumulative)", "1,3,10,30")
    .add("lr", "X", "learning rate", "1e-4")
    .add("optimizer", "NAME", "adam or sgd", "adam")
    .add("warmup", "N", "warm-up steps", "20")
    .add("replay", "X", "replay share (no base data here: 0)", "0")
    .add("frozen", "N", "backbone stages not trained (0-4)", "2")
    .add("threads", "N", "LibTorch threads (0 = auto)", "2")
    .add("cache", "DIR", "label cache (default: $RECL_CACHE or ~/.cache/recl)");
  std::string data;
  return run_command(o, argc, argv, [&] {
    data = bench::data_folder(o);
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 64)));
    auto cat = catalog::load(data);
    auto labels = make_labeller(data_teacher(data, false), o.get("cache"));
    auto base = expert::load(test::pretrained_archive());
    std::vector<int> epochs;
    for (auto& e : split(o.get("epochs"), ','))
      epochs.push_back(std::stoi(e));
    train_options topts;
    topts.lr = o.get_double("lr", 1e-7, 1);
    topts.optimizer = o.get("optimizer");
    topts.warmup_steps = static_cast<int>(o.get_int("warmup", 0, 100000));
    topts.replay_share = o.get_double("replay", 0, 10);
    topts.frozen_stages
      = static_cast<int>(o.get_int("frozen", 0, max_frozen_stages));
    auto ntrain = static_cast<size_t>(o.get_int("train-frames", 1, 10000));
    auto ntest = static_cast<size_t>(o.get_int("test-frames", 1, 10000));
    std::printf("%-34s %6s %13s", "place", "boxes", "base car/mAP");
    for (auto e : epochs)
      std::printf("   %2d ep car/mAP", e);
    std::printf("  img/s\n");
    std::vector<double> gains(epochs.size(), 0);
    int counted = 0;
    for (auto& place : split(o.get("places"), ',')) {
      std::vector<clip> clips;
      for (auto& c : cat.clips())
        if (c.place == place)
          clips.push_back(c);
      if (clips.empty()) {
        std::fprintf(stderr, "no clips of place '%s'\n", place.c_str());
        return 2;
      }
      sampled_frames train, test;
      if (clips.size() == 1) {
        auto& c = clips[0];
        sample_clip(c, data, 0, c.frames / 2, ntrain, train);
        sample_clip(c, data, c.frames / 2, c.frames, ntest, test);
      } else {
        sample_clip(clips[0], data, 0, clips[0].frames, ntrain, train);
        sample_clip(clips[1], data, 0, clips[1].frames, ntest, test);
      }
      auto tr = label(train, labels);
      auto te = label(test, labels);
      size_t boxes = 0;
      for (auto& l : te.labels)
        boxes += l.size();
      auto b = evaluate(*base, te);
      std::printf("%-34s %6.1f   %5.2f / %4.2f", place.c_str(),
                  double(boxes) / te.labels.size(), b.car, b.map);
      std::fflush(stdout);
      trainer job{base->clone(), tr, {}, topts};
      int done = 0;
      double train_s = 0;
      size_t imgs = 0;
      for (size_t k = 0; k < epochs.size(); ++k) {
        auto t0 = now_ms();
        job.train_epochs(epochs[k] - done);
        train_s += (now_ms() - t0) / 1000;
        imgs += tr.frames.size() * static_cast<size_t>(epochs[k] - done);
        done = epochs[k];
        auto s = evaluate(job.model(), te);
        std::printf("   %5.2f / %4.2f", s.car, s.map);
        std::fflush(stdout);
        if (b.car >= 0 && s.car >= 0)
          gains[k] += s.car - b.car;
      }
      if (b.car >= 0)
        ++counted;
      std::printf("  %5.1f\n", imgs / train_s);
    }
    std::printf("mean car AP gain over %d places:", counted);
    for (size_t k = 0; k < epochs.size(); ++k)
      std::printf("  %d ep %+.3f", epochs[k],
                  counted ? gains[k] / counted : 0.0);
    std::printf("\nlabels computed by the teacher this run: %zu (the rest from "
                "the cache)\n",
                labels.cache->computed());
    return 0;
  });
}
