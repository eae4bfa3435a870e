// recl-bench-reuse: is an expert trained on a place better on a later clip of
// that place than experts trained elsewhere? Trains one expert per place on a
// window of one clip, scores every expert on a later clip of every place
// (place x place car AP), counts how often the own-place expert wins, and
// compares with a generalist fine-tuned on all windows at the same compute.
// Pretraining clips (recl-pretrain's split) are never used.

#include "bench/data.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "bench/samples.hpp"
#include "gpu/device.hpp"
#include "gpu/gating.hpp"
#include "gpu/metrics.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <cstdio>
#include <iostream>

using namespace recl;

namespace {

double car_ap(expert& ex, const labelled_frames& test) {
  auto m = mean_ap(ex.detect_for_scoring(test.frames), test.labels);
  return m.car_ap < 0 ? 0 : m.car_ap;
}

} // namespace

int main(int argc, char** argv) {
  options o{
    "recl-bench-reuse", "[options]",
    "Place x place accuracy of per-place experts, and the zoo against a "
    "generalist."};
  bench::add_data_option(o)
    .add("base", "FILE", "expert to start from (default: the COCO weights)")
    .add("places", "LIST", "places (each needs 3+ clips)",
         "caltrans-n280-at-indiana-st,caltrans-s101-nof-84-woodside-rd,"
         "caltrans-w92-at-el-camino-real,caltrans-n101-jso-e-hillsdale-bl,"
         "caltrans-s101-at-whipple-av,caltrans-s101-at-280-split,"
         "camvid-cambridge")
    .add("train-frames", "N", "frames in each place's window", "32")
    .add("test-frames", "N", "frames scored per place", "16")
    .add("epochs", "N", "epochs per expert", "10")
    .add("threads", "N", "LibTorch threads (0 = auto)", "2")
    .add("cache", "DIR", "label cache (default: $RECL_CACHE or ~/.cache/recl)");
  std::string data;
  return run_command(o, argc, argv, [&] {
    data = bench::data_folder(o);
    auto started = now_ms();
    gpu::configure_threads(static_cast<int>(o.get_int("threads", 0, 64)));
    auto cat = catalog::load(data);
    auto labels = make_labeller(data_teacher(data, false), o.get("cache"));
    auto base = expert::load(o.given("base") ? o.get("base")
                                             : test::pretrained_archive());
    auto epochs = static_cast<int>(o.get_int("epochs", 1, 1000));
    auto places = split(o.get("places"), ',');
    std::vector<labelled_frames> windows, tests;
    for (auto& p : places) {
      std::vector<clip> clips;
      for (auto& c : cat.clips())
        if (c.place == p && !is_pretraining_clip(cat, c.id))
          clips.push_back(c);
      if (clips.size() < 2) {
        std::fprintf(stderr,
                     "place %s has fewer than 2 clips outside the "
                     "pretraining split\n",
                     p.c_str());
        return 2;
      }
      sampled_frames w, te;
      sample_clip(clips[0], data, 0, clips[0].frames,
                  static_cast<size_t>(o.get_int("train-frames", 1, 10000)), w);
      sample_clip(clips.back(), data, 0, clips.back().frames,
                  static_cast<size_t>(o.get_int("test-frames", 1, 10000)), te);
      windows.push_back(label(w, labels));
      tests.push_back(label(te, labels));
    }
    std::printf("%zu places; window from each place's first held-out clip, "
                "scored on its last clip; %d epochs per expert\n",
                places.size(), epochs);
    std::vector<std::unique_ptr<expert>> experts;
    labelled_frames all;
    for (size_t i = 0; i < places.size(); ++i) {
      trainer job{base->clone(), windows[i], {}, {}};
      job.train_epochs(epochs);
      experts.push_back(job.release());
      append(all, windows[i]);
      std::printf("trained the expert of %s\n", places[i].c_str());
      std::fflush(stdout);
    }
    // The generalist: one model on all windows, the same number of images.
    trainer gen_job{base->clone(), all, {}, {}};
    gen_job.train_epochs(epochs);
    auto generalist = gen_job.release();

    std::printf(
      "\ncar AP, rows: expert of place, columns: later clip of place\n%-34s",
      "");
    for (size_t j = 0; j < places.size(); ++j)
      std::printf(" %6zu", j);
    std::printf("\n");
    std::vector<std::vector<double>> m(places.size(),
                                       std::vector<double>(places.size()));
    for (size_t i = 0; i < places.size(); ++i) {
      std::printf("%zu %-32s", i, places[i].substr(0, 32).c_str());
      for (size_t j = 0; j < places.size(); ++j) {
        m[i][j] = car_ap(*experts[i], tests[j]);
        std::printf(" %6.2f", m[i][j]);
      }
      std::printf("\n");
    }
    int wins = 0;
    double own = 0, other = 0, gen = 0, b = 0;
    std::printf("%-34s", "base");
    std::vector<double> base_row, gen_row;
    for (size_t j = 0; j < places.size(); ++j) {
      base_row.push_back(car_ap(*base, tests[j]));
      std::printf(" %6.2f", base_row.back());
    }
    std::printf("\n%-34s", "generalist");
    for (size_t j = 0; j < places.size(); ++j) {
      gen_row.push_back(car_ap(*generalist, tests[j]));
      std::printf(" %6.2f", gen_row.back());
    }
    std::printf("\n");
    for (size_t j = 0; j < places.size(); ++j) {
      double best_other = 0, sum_other = 0;
      for (size_t i = 0; i < places.size(); ++i)
        if (i != j) {
          best_other = std::max(best_other, m[i][j]);
          sum_other += m[i][j];
        }
      wins += m[j][j] >= best_other;
      own += m[j][j];
      other += sum_other / (places.size() - 1);
      gen += gen_row[j];
      b += base_row[j];
    }
    auto n = static_cast<double>(places.size());

    // The gating network, trained as RECL's selector is: per-frame scores of
    // every expert on the windows' frames; then asked for the top-K experts
    // of each later clip. A hit: the expert that really scores best on that
    // clip is among them.
    std::vector<std::vector<float>> targets(all.frames.size());
    for (auto& ex : experts) {
      auto dets = ex->detect(all.frames);
      for (size_t f = 0; f < all.frames.size(); ++f)
        targets[f].push_back(
          static_cast<float>(frame_score(dets[f], all.labels[f])));
    }
    gating g{experts.size()};
    g.train(all.frames, targets, 30);
    int hit1 = 0, hit3 = 0;
    double picked = 0, oracle = 0;
    for (size_t j = 0; j < places.size(); ++j) {
      size_t best = 0;
      for (size_t i = 0; i < places.size(); ++i)
        if (m[i][j] > m[best][j])
          best = i;
      auto top = g.top_k(tests[j].frames, 3);
      hit1 += top[0] == best;
      hit3 += std::find(top.begin(), top.end(), best) != top.end();
      picked += m[top[0]][j];
      oracle += m[best][j];
    }
    std::printf("gating (trained on %zu window frames): best expert ranked "
                "first on %d of %zu clips (chance %.0f%%), in the top 3 on %d "
                "(chance %.0f%%); car AP of its first pick %.3f, of the best "
                "expert %.3f\n",
                all.frames.size(), hit1, places.size(), 100.0 / n, hit3,
                100.0 * std::min(3.0, n) / n, picked / n, oracle / n);
    std::printf("\nown-place expert is the best of %zu on %d of %zu places "
                "(chance %.0f%%)\n",
                places.size(), wins, places.size(), 100.0 / n);
    std::printf("mean car AP: own-place expert %.3f, other-place experts %.3f, "
                "generalist %.3f, base %.3f\n",
                own / n, other / n, gen / n, b / n);
    std::printf("total %.0f s\n", (now_ms() - started) / 1000);
    return 0;
  });
}
