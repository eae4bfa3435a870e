#include "bench/samples.hpp"

#include "edge/frame_source.hpp"

namespace recl {

void sample_clip(const clip& c, const std::string& data, int from, int to,
                 size_t n, sampled_frames& out) {
  auto src = frame_source::open("catalog:" + c.id, data);
  auto span = std::max(1, to - from);
  auto step = std::max(1, span / static_cast<int>(std::max<size_t>(1, n)));
  cv::Mat img;
  double t;
  size_t taken = 0;
  for (int i = 0; taken < n && i < to && src->next(img, t); ++i)
    if (i >= from && (i - from) % step == 0) {
      out.mats.push_back(img.clone());
      out.clip.push_back(c.id);
      out.index.push_back(i);
      ++taken;
    }
}

labelled_frames label(const sampled_frames& s, label_cache& cache, teacher& t) {
  labelled_frames out;
  for (size_t i = 0; i < s.mats.size(); ++i) {
    out.frames.push_back(to_image(s.mats[i]));
    out.labels.push_back(cache.get(s.clip[i], s.index[i], s.mats[i], t));
  }
  return out;
}

teacher_options data_teacher(const std::string& data, bool strong) {
  teacher_options o;
  o.spec = "yolox:" + data + "/models/yolox_nano.onnx";
  return strong ? strong_teacher(o) : o;
}

labeller make_labeller(const teacher_options& opts,
                       const std::string& cache_dir) {
  labeller l;
  l.opts = opts;
  l.model = make_teacher(l.opts);
  l.cache = std::make_unique<label_cache>(
    cache_dir.empty() ? default_cache_dir() : cache_dir, teacher_key(l.opts));
  return l;
}

labelled_frames label(const sampled_frames& s, labeller& l) {
  return label(s, *l.cache, *l.model);
}

void append(labelled_frames& to, const labelled_frames& from) {
  to.frames.insert(to.frames.end(), from.frames.begin(), from.frames.end());
  to.labels.insert(to.labels.end(), from.labels.begin(), from.labels.end());
}

} // namespace recl
