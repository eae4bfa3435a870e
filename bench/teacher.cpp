// recl-bench-teacher: what the strong teacher costs and how much room it
// leaves the student. On frames spread over every catalog clip it labels
// with the standard teacher (YOLOX-Nano at 416) and the strong one (640,
// 2x2 tiles, mirror, fused boxes), times both on uncached frames, and scores
// the base student against each, paired per clip with a 95% bootstrap
// interval.

#include "bench/data.hpp"
#include "bench/samples.hpp"
#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "gpu/device.hpp"
#include "gpu/expert.hpp"
#include "gpu/metrics.hpp"
#include "tests/gpu/weights.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

using namespace recl;
namespace fs = std::filesystem;

namespace {

/// One teacher's side of the comparison.
struct side {
  std::string name;
  labeller lab;
  std::vector<double> ms; ///< per uncached frame
  size_t boxes = 0;
  std::vector<std::vector<box>> all; ///< labels of every frame, in order
};

/// Milliseconds per frame of a fresh `opts` teacher on `frames` (no cache).
std::vector<double> time_teacher(const teacher_options& opts,
                                 const std::vector<cv::Mat>& frames) {
  auto t = make_teacher(opts);
  std::vector<double> ms;
  for (auto& f : frames) {
    auto t0 = now_ms();
    t->detect(f);
    ms.push_back(now_ms() - t0);
  }
  return ms;
}

std::string ci_text(const bench::paired_ci& c) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%+.3f (%+.3f..%+.3f)", c.mean, c.lo, c.hi);
  return buf;
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-teacher", "[options]",
            "The strong teacher's cost, and the base student's mAP@0.5 "
            "against it and against\nthe standard teacher, paired per "
            "catalog clip."};
  o.add("data", "DIR", "shared data folder (default: $RECL_DATA or "
                       "../shared/data)")
    .add("frames", "N", "frames per clip, spread over it", "2")
    .add("timing-frames", "N", "frames each teacher is timed on, uncached",
         "6")
    .add("base-expert", "FILE", "the student (default: YOLOX-Nano's COCO "
                                "weights at 256x160)")
    .add("cache", "DIR", "label cache (default: $RECL_CACHE or "
                         "~/.cache/recl)")
    .add("out", "DIR", "also write report.md and clips.csv there")
    .add("draw", "N", "with --out: N frames with both teachers' boxes "
                      "(standard green, strong red) in DIR/frames", "0");
  std::string data;
  size_t per_clip = 2, timing = 6;
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    data = bench::data_folder(o);
    per_clip = static_cast<size_t>(o.get_int("frames", 1, 100));
    timing = static_cast<size_t>(o.get_int("timing-frames", 1, 1000));
  } catch (const usage_error& e) {
    std::cerr << "recl-bench-teacher: " << e.what() << "\n";
    return 2;
  }
  auto base_path = o.given("base-expert") ? o.get("base-expert")
                                          : test::pretrained_archive();
  auto student = expert::load(base_path);
  auto cache = o.given("cache") ? o.get("cache") : "";
  side sides[2] = {
    {"standard", make_labeller(data_teacher(data, false), cache), {}, 0, {}},
    {"strong", make_labeller(data_teacher(data, true), cache), {}, 0, {}}};
  auto cat = catalog::load(data);
  sampled_frames frames;
  std::vector<size_t> clip_of; // frame -> clip's index in `clips`
  std::vector<std::string> clips;
  for (auto& c : cat.clips()) {
    auto before = frames.mats.size();
    sample_clip(c, data, 0, c.frames, per_clip, frames);
    for (auto i = before; i < frames.mats.size(); ++i)
      clip_of.push_back(clips.size());
    clips.push_back(c.id);
  }
  std::printf("%zu frames from %zu clips; labelling (cached labels are "
              "reused)\n", frames.mats.size(), clips.size());
  for (auto& s : sides) {
    auto t0 = now_ms();
    for (size_t i = 0; i < frames.mats.size(); ++i) {
      s.all.push_back(s.lab.cache->get(frames.clip[i], frames.index[i],
                                       frames.mats[i], *s.lab.model));
      s.boxes += s.all.back().size();
      if ((i + 1) % 50 == 0)
        std::printf("  %s: %zu/%zu frames (%.0f s)\n", s.name.c_str(), i + 1,
                    frames.mats.size(), (now_ms() - t0) / 1000);
      std::fflush(stdout);
    }
    std::vector<cv::Mat> sample;
    auto step = std::max<size_t>(1, frames.mats.size() / timing);
    for (size_t i = 0; i < frames.mats.size() && sample.size() < timing;
         i += step)
      sample.push_back(frames.mats[i]);
    s.ms = time_teacher(s.lab.opts, sample);
  }
  // The student's detections, once; scored per clip against each teacher.
  std::vector<image> imgs;
  for (auto& m : frames.mats)
    imgs.push_back(to_image(m));
  auto dets = student->detect_for_scoring(imgs);
  std::vector<double> diff, agree;
  double sum[2] = {0, 0};
  std::ostringstream csv;
  csv << "clip,frames,student_vs_standard,student_vs_strong,"
         "standard_vs_strong\n";
  for (size_t c = 0; c < clips.size(); ++c) {
    std::vector<std::vector<box>> d, truth[2];
    for (size_t i = 0; i < clip_of.size(); ++i)
      if (clip_of[i] == c) {
        d.push_back(dets[i]);
        for (int k = 0; k < 2; ++k)
          truth[k].push_back(sides[k].all[i]);
      }
    auto a = mean_ap(d, truth[0]);
    auto b = mean_ap(d, truth[1]);
    // The standard teacher's boxes scored as detections against the strong.
    auto t = mean_ap(truth[0], truth[1]);
    if (a.sparse || b.sparse || t.sparse)
      continue; // too few boxes to score this clip under one of them
    diff.push_back(b.map - a.map);
    agree.push_back(t.map);
    sum[0] += a.map;
    sum[1] += b.map;
    csv << clips[c] << "," << d.size() << "," << a.map << "," << b.map << ","
        << t.map << "\n";
  }
  auto n = static_cast<double>(std::max<size_t>(1, diff.size()));
  auto gap = bench::bootstrap_mean(diff);
  auto agreement = bench::bootstrap_mean(agree);
  std::ostringstream rep;
  rep << "# recl-bench-teacher\n\n"
      << frames.mats.size() << " frames (" << per_clip << " per clip, spread "
      << "over it) from " << clips.size() << " catalog clips of " << data
      << "; " << diff.size() << " clips have enough boxes under both "
      << "teachers to score. Student: " << base_path << " at 256x160. "
      << "Machine: " << std::thread::hardware_concurrency() << " cores, "
      << gpu::device_name() << ".\n\n"
      << "| teacher | what | ms/frame (median of " << timing
      << ", uncached) | boxes/frame | student mAP@0.5 (mean over clips) |\n"
      << "|---|---|---|---|---|\n";
  for (int k = 0; k < 2; ++k) {
    char row[512];
    std::snprintf(row, sizeof row, "| %s | %s | %.0f | %.2f | %.3f |\n",
                  sides[k].name.c_str(),
                  sides[k].lab.model->describe().c_str(),
                  bench::median(sides[k].ms),
                  double(sides[k].boxes) / frames.mats.size(), sum[k] / n);
    rep << row;
  }
  rep << "\nStudent's mAP against the strong teacher minus against the "
         "standard, paired per clip: "
      << ci_text(gap)
      << (gap.measurable() ? "" : " (no measurable difference)")
      << ".\nThe standard teacher's boxes scored against the strong "
         "teacher's (how far the two teachers agree): mAP@0.5 "
      << ci_text(agreement) << ".\n";
  std::cout << "\n" << rep.str();
  if (o.given("out")) {
    fs::create_directories(o.get("out"));
    std::ofstream{o.get("out") + "/report.md"} << rep.str();
    std::ofstream{o.get("out") + "/clips.csv"} << csv.str();
    auto n_draw = static_cast<size_t>(o.get_int("draw", 0, 1000));
    if (n_draw > 0)
      fs::create_directories(o.get("out") + "/frames");
    auto step = std::max<size_t>(1, frames.mats.size() / std::max<size_t>(1, n_draw));
    for (size_t i = 0, k = 0; k < n_draw && i < frames.mats.size(); i += step, ++k) {
      auto img = frames.mats[i].clone();
      for (int t = 0; t < 2; ++t)
        for (auto& b : sides[t].all[i])
          cv::rectangle(img, cv::Point(int(b.x0), int(b.y0)),
                        cv::Point(int(b.x1), int(b.y1)),
                        t == 0 ? cv::Scalar(0, 255, 0) : cv::Scalar(0, 0, 255),
                        t == 0 ? 3 : 1);
      cv::imwrite(o.get("out") + "/frames/" + frames.clip[i] + "-"
                    + std::to_string(frames.index[i]) + ".png", img);
    }
  }
  return 0;
}
