// recl-pretrain: labels the pretraining split of the catalog with the teacher
// (cached on disk) and fine-tunes the COCO-pretrained expert on it into the
// base expert every other expert starts from. Then scores the COCO expert and
// the base expert on held-out clips.

#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/frame_source.hpp"
#include "bench/samples.hpp"
#include "gpu/device.hpp"
#include "gpu/label_cache.hpp"
#include "gpu/metrics.hpp"
#include "gpu/trainer.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

using namespace recl;

namespace {

/// `n` frames spread over a whole clip, labelled.
labelled_frames sample(const clip& c, const std::string& data, size_t n,
                       label_cache& cache, teacher& t) {
  sampled_frames s;
  sample_clip(c, data, 0, c.frames, n, s);
  return label(s, cache, t);
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-pretrain", "--onnx-archive FILE --out FILE [options]",
            "Trains the base expert on the catalog's pretraining split (the "
            "first clip of every\nplace with two or more clips) and scores it "
            "on held-out clips."};
  o.add("data", "DIR",
        "shared data folder (default: $RECL_DATA or ../shared/data)")
    .add("onnx-archive", "FILE", "COCO weights converted by recl-convert")
    .add("out", "FILE", "where to write the base expert")
    .add("frames-per-clip", "N",
         "frames sampled from each pretraining clip "
         "(at most its length)",
         "48")
    .add("epochs", "N", "training epochs", "10")
    .add("input", "WxH",
         "expert input size, multiples of 32 (recld's "
         "--expert-input must match)",
         "256x160")
    .add("frozen", "N",
         "backbone stages left untrained (0-4); with the "
         "blend, 1 scores best on held-out clips",
         "1")
    .add("lr", "X", "learning rate after warm-up", "0.0001")
    .add("weight-decay", "X", "weight decay", "0.0005")
    .add("blend", "T",
         "share of the COCO weights mixed back into the "
         "trained weights (0-1; WiSE-FT: forgets less on "
         "places outside the split)",
         "0.3")
    .add("average", "D", "decay of the weights' moving average (0 = off)",
         "0.99")
    .add("eval-frames", "N", "frames scored per held-out clip", "12")
    .add("eval-per-place", "N", "held-out clips scored per place (0 = all)",
         "2")
    .add("eval-skip", "N",
         "non-pretraining clips of each place skipped "
         "before scoring (2 scores a second, later set)",
         "0")
    .add("threads", "N", "LibTorch threads (0 = auto)", "2")
    .add("cache", "DIR", "label cache (default: $RECL_CACHE or ~/.cache/recl)")
    .add("seed", "N", "training seed", "1");
  std::string data;
  expert_options eopts;
  train_options topts;
  // Every setting is read and checked once, before any work.
  int64_t epochs = 0, limit = 0, skip = 0, threads = 0;
  size_t per_clip = 0, nev = 0;
  double blend = 0;
  return run_command(o, argc, argv, [&] {
    data = o.given("data") ? o.get("data") : find_data_dir();
    if (data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    if (!o.given("onnx-archive") || !o.given("out"))
      throw usage_error("--onnx-archive and --out are required (see --help)");
    auto [w, h] = o.get_size("input", 1024);
    eopts.input_width = w;
    eopts.input_height = h;
    topts.seed = static_cast<uint64_t>(o.get_int("seed", 0, 1ll << 40));
    topts.replay_share = 0;
    topts.frozen_stages
      = static_cast<int>(o.get_int("frozen", 0, max_frozen_stages));
    topts.lr = o.get_double("lr", 1e-7, 1);
    topts.weight_decay = o.get_double("weight-decay", 0, 1);
    epochs = o.get_int("epochs", 0, 1000);
    per_clip = static_cast<size_t>(o.get_int("frames-per-clip", 1, 10000));
    blend = o.get_double("blend", 0, 1);
    skip = o.get_int("eval-skip", 0, 100000);
    limit = o.get_int("eval-per-place", 0, 100000);
    nev = static_cast<size_t>(o.get_int("eval-frames", 1, 10000));
    threads = o.get_int("threads", 0, 64);
    topts.average_decay = o.get_double("average", 0, 0.9999);
    try {
      auto started = now_ms();
      gpu::configure_threads(static_cast<int>(threads));
      auto cat = catalog::load(data);
      // The weights first: a wrong path fails before minutes of labelling.
      auto coco = expert::load(o.get("onnx-archive"), eopts);
      auto labels = make_labeller(data_teacher(data, false), o.get("cache"));
      auto& cache = *labels.cache;
      auto& t = labels.model;
      labelled_frames train;
      auto split = pretraining_clips(cat);
      std::printf("pretraining split: %zu clips\n", split.size());
      for (auto& c : split) {
        append(train, sample(c, data, per_clip, cache, *t));
        std::printf("  %-44s %s\n", c.id.c_str(), c.place.c_str());
        std::fflush(stdout);
      }
      std::printf(
        "labelled %zu frames (%zu by the teacher now, the rest cached) "
        "in %.0f s\n",
        train.frames.size(), cache.computed(), (now_ms() - started) / 1000);
      trainer job{coco->clone(), train, {}, topts};
      for (int64_t e = 1; e <= epochs; ++e) {
        auto t0 = now_ms();
        auto loss = job.train_epochs(1);
        std::printf("epoch %lld/%lld: loss %.3f, %.0f s\n",
                    static_cast<long long>(e), static_cast<long long>(epochs),
                    loss, (now_ms() - t0) / 1000);
        std::fflush(stdout);
      }
      auto base = job.release();
      if (blend > 0) {
        base->blend(*coco, blend);
        std::printf("blended %.2f of the COCO weights back in\n", blend);
      }
      auto out = o.get("out");
      auto parent = std::filesystem::path{out}.parent_path();
      if (!parent.empty())
        std::filesystem::create_directories(parent);
      base->save(out + ".tmp");
      std::filesystem::rename(out + ".tmp", out);
      std::printf("base expert written to %s\n", out.c_str());

      // Held-out clips: the first few non-pretraining clips of every place.
      std::map<std::string, int> per_place, skipped;
      std::printf("\n%-44s %6s %14s %14s\n", "held-out clip", "boxes",
                  "COCO car/mAP", "base car/mAP");
      double sum_coco = 0, sum_base = 0;
      int dense = 0, scored = 0;
      for (auto& c : cat.clips()) {
        if (is_pretraining_clip(cat, c.id))
          continue;
        if (skipped[c.place] < skip) {
          ++skipped[c.place];
          continue;
        }
        if (limit > 0 && per_place[c.place] >= limit)
          continue;
        ++per_place[c.place];
        ++scored;
        auto test = sample(c, data, nev, cache, *t);
        size_t boxes = 0;
        for (auto& l : test.labels)
          boxes += l.size();
        auto per_frame
          = double(boxes) / std::max<size_t>(1, test.labels.size());
        auto a = mean_ap(coco->detect_for_scoring(test.frames), test.labels);
        auto b = mean_ap(base->detect_for_scoring(test.frames), test.labels);
        std::printf("%-44s %6.1f   %5.2f / %4.2f   %5.2f / %4.2f%s\n",
                    c.id.substr(0, 44).c_str(), per_frame, a.car_ap, a.map,
                    b.car_ap, b.map, a.sparse ? "  (sparse)" : "");
        std::fflush(stdout);
        if (per_frame >= 2 && a.car_ap >= 0 && b.car_ap >= 0) {
          sum_coco += a.car_ap;
          sum_base += b.car_ap;
          ++dense;
        }
      }
      if (dense > 0)
        std::printf("mean car AP on %d held-out clips with >= 2 teacher boxes "
                    "per frame: COCO expert %.3f, base expert %.3f\n",
                    dense, sum_coco / dense, sum_base / dense);
      std::printf("scored %d held-out clips; total %.0f s\n", scored,
                  (now_ms() - started) / 1000);
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "recl-pretrain: " << e.what() << "\n";
      return 1;
    }
    return 0;
  });
}
