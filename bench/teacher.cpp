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

/// Milliseconds per frame of teacher `t` on `frames`, the label cache
/// bypassed, after one warm-up pass.
std::vector<double> time_teacher(teacher& t,
                                 const std::vector<cv::Mat>& frames) {
  t.detect(frames.front());
  std::vector<double> ms;
  for (auto& f : frames) {
    auto t0 = now_ms();
    t.detect(f);
    ms.push_back(now_ms() - t0);
  }
  return ms;
}

/// Frames spread over every catalog clip, with the clip each came from.
struct clip_frames {
  sampled_frames frames;
  std::vector<size_t> clip_of; ///< frame -> index in `clips`
  std::vector<std::string> clips;
};

clip_frames sample_catalog(const std::string& data, size_t per_clip) {
  clip_frames out;
  auto cat = catalog::load(data);
  for (auto& c : cat.clips()) {
    auto before = out.frames.mats.size();
    sample_clip(c, data, 0, c.frames, per_clip, out.frames);
    for (auto i = before; i < out.frames.mats.size(); ++i)
      out.clip_of.push_back(out.clips.size());
    out.clips.push_back(c.id);
  }
  return out;
}

/// Labels every frame with `s`'s teacher (through its cache), then times a
/// fresh instance on `timing` frames spread over them.
void label_and_time(side& s, const sampled_frames& f, size_t timing) {
  auto t0 = now_ms();
  for (size_t i = 0; i < f.mats.size(); ++i) {
    s.all.push_back(
      s.lab.cache->get(f.clip[i], f.index[i], f.mats[i], *s.lab.model));
    s.boxes += s.all.back().size();
    if ((i + 1) % 50 == 0)
      std::printf("  %s: %zu/%zu frames (%.0f s)\n", s.name.c_str(), i + 1,
                  f.mats.size(), (now_ms() - t0) / 1000);
    std::fflush(stdout);
  }
  std::vector<cv::Mat> sample;
  auto step = std::max<size_t>(1, f.mats.size() / timing);
  for (size_t i = 0; i < f.mats.size() && sample.size() < timing; i += step)
    sample.push_back(f.mats[i]);
  s.ms = time_teacher(*s.lab.model, sample);
}

/// The student's mAP against each teacher per clip, paired.
struct scores {
  std::vector<double> diff;  ///< strong minus standard, per scored clip
  std::vector<double> agree; ///< standard's boxes against strong's
  double sum[2] = {0, 0};
  std::string csv;
};

scores score_student(expert& student, const clip_frames& cf,
                     const side (&sides)[2]) {
  std::vector<image> imgs;
  for (auto& m : cf.frames.mats)
    imgs.push_back(to_image(m));
  auto dets = student.detect_for_scoring(imgs);
  scores out;
  std::ostringstream csv;
  csv << "clip,frames,student_vs_standard,student_vs_strong,"
         "standard_vs_strong\n";
  for (size_t c = 0; c < cf.clips.size(); ++c) {
    std::vector<std::vector<box>> d, truth[2];
    for (size_t i = 0; i < cf.clip_of.size(); ++i)
      if (cf.clip_of[i] == c) {
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
    out.diff.push_back(b.map - a.map);
    out.agree.push_back(t.map);
    out.sum[0] += a.map;
    out.sum[1] += b.map;
    csv << cf.clips[c] << "," << d.size() << "," << a.map << "," << b.map << ","
        << t.map << "\n";
  }
  out.csv = csv.str();
  return out;
}

std::string report(const clip_frames& cf, const side (&sides)[2],
                   const scores& sc, size_t per_clip, size_t timing,
                   const std::string& data, const std::string& base_path) {
  auto n = static_cast<double>(std::max<size_t>(1, sc.diff.size()));
  auto gap = bench::bootstrap_mean(sc.diff);
  auto agreement = bench::bootstrap_mean(sc.agree);
  auto frames = cf.frames.mats.size();
  std::ostringstream rep;
  rep << "# recl-bench-teacher\n\n"
      << frames << " frames (" << per_clip << " per clip, spread "
      << "over it) from " << cf.clips.size() << " catalog clips of " << data
      << "; " << sc.diff.size() << " clips have enough boxes under both "
      << "teachers to score. Student: " << base_path << " at 256x160. "
      << "Machine: " << std::thread::hardware_concurrency() << " cores, "
      << gpu::device_name() << ".\n\n"
      << "| teacher | what | ms/frame (median of " << timing
      << ", uncached) | boxes/frame | student mAP@0.5 (mean over clips) |\n"
      << "|---|---|---|---|---|\n";
  for (int k = 0; k < 2; ++k) {
    char row[512];
    std::snprintf(row, sizeof row, "| %s | %s | %.0f | %.2f | %.3f |\n",
                  sides[k].name.c_str(), sides[k].lab.model->describe().c_str(),
                  bench::median(sides[k].ms), double(sides[k].boxes) / frames,
                  sc.sum[k] / n);
    rep << row;
  }
  rep << "\nStudent's mAP against the strong teacher minus against the "
         "standard, paired per clip: "
      << ci_text(gap) << (gap.measurable() ? "" : " (no measurable difference)")
      << ".\nThe standard teacher's boxes scored against the strong "
         "teacher's (how far the two teachers agree): mAP@0.5 "
      << ci_text(agreement) << ".\n";
  return rep.str();
}

/// `n` frames spread over the set with the standard teacher's boxes (thick
/// green) and the strong one's (thin red), as PNG files in `dir`.
void draw(const std::string& dir, const clip_frames& cf, const side (&sides)[2],
          size_t n) {
  if (n == 0)
    return;
  fs::create_directories(dir);
  auto& f = cf.frames;
  auto step = std::max<size_t>(1, f.mats.size() / n);
  for (size_t i = 0, k = 0; k < n && i < f.mats.size(); i += step, ++k) {
    auto img = f.mats[i].clone();
    for (int t = 0; t < 2; ++t)
      for (auto& b : sides[t].all[i])
        cv::rectangle(img, cv::Point(int(b.x0), int(b.y0)),
                      cv::Point(int(b.x1), int(b.y1)),
                      t == 0 ? cv::Scalar(0, 255, 0) : cv::Scalar(0, 0, 255),
                      t == 0 ? 3 : 1);
    cv::imwrite(
      dir + "/" + f.clip[i] + "-" + std::to_string(f.index[i]) + ".png", img);
  }
}

options make_options() {
  options o{"recl-bench-teacher", "[options]",
            "The strong teacher's cost, and the base student's mAP@0.5 "
            "against it and against\nthe standard teacher, paired per "
            "catalog clip."};
  bench::add_data_option(o)
    .add("frames", "N", "frames per clip, spread over it", "2")
    .add("timing-frames", "N", "frames each teacher is timed on, uncached", "6")
    .add("base-expert", "FILE",
         "the student (default: YOLOX-Nano's COCO "
         "weights at 256x160)")
    .add("cache", "DIR",
         "label cache (default: $RECL_CACHE or "
         "~/.cache/recl)")
    .add("out", "DIR", "also write report.md and clips.csv there")
    .add("draw", "N",
         "with --out: N frames with both teachers' boxes "
         "(standard green, strong red) in DIR/frames",
         "0");
  return o;
}

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  return run_command(o, argc, argv, [&] {
    auto data = bench::data_folder(o);
    auto per_clip = static_cast<size_t>(o.get_int("frames", 1, 100));
    auto timing = static_cast<size_t>(o.get_int("timing-frames", 1, 1000));
    auto n_draw = static_cast<size_t>(o.get_int("draw", 0, 1000));
    auto base_path = o.given("base-expert") ? o.get("base-expert")
                                            : test::pretrained_archive();
    auto student = expert::load(base_path);
    auto cache = o.given("cache") ? o.get("cache") : "";
    side sides[2] = {
      {"standard", make_labeller(data_teacher(data, false), cache), {}, 0, {}},
      {"strong", make_labeller(data_teacher(data, true), cache), {}, 0, {}}};
    auto cf = sample_catalog(data, per_clip);
    std::printf("%zu frames from %zu clips; labelling (cached labels are "
                "reused)\n",
                cf.frames.mats.size(), cf.clips.size());
    for (auto& s : sides)
      label_and_time(s, cf.frames, timing);
    auto sc = score_student(*student, cf, sides);
    auto text = report(cf, sides, sc, per_clip, timing, data, base_path);
    std::cout << "\n" << text;
    if (o.given("out")) {
      auto out = o.get("out");
      fs::create_directories(out);
      std::ofstream{out + "/report.md"} << text;
      std::ofstream{out + "/clips.csv"} << sc.csv;
      draw(out + "/frames", cf, sides, n_draw);
    }
    return 0;
  });
}
