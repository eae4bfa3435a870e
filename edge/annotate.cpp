#include "edge/annotate.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace recl {

namespace {

cv::Scalar colour_of(int cls) {
  static const cv::Scalar palette[]
    = {{0, 200, 255},  {255, 120, 0}, {80, 220, 80},
       {200, 80, 255}, {255, 255, 0}, {0, 80, 255}};
  return palette[static_cast<size_t>(std::max(0, cls)) % 6];
}

cv::Mat drawn(const cv::Mat& frame, const std::vector<box>& boxes,
              const std::string& model) {
  auto out = frame.clone();
  auto& names = coco_names();
  for (auto& b : boxes) {
    auto colour = colour_of(b.cls);
    cv::rectangle(out, cv::Point(int(b.x0), int(b.y0)),
                  cv::Point(int(b.x1), int(b.y1)), colour, 2);
    char label[64];
    std::snprintf(label, sizeof label, "%s %.2f",
                  b.cls >= 0 && size_t(b.cls) < names.size()
                    ? names[size_t(b.cls)].c_str()
                    : "?",
                  b.score);
    cv::putText(out, label, cv::Point(int(b.x0), std::max(12, int(b.y0) - 4)),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv::LINE_AA);
  }
  cv::putText(out, model.empty() ? "(no model)" : model, cv::Point(8, 22),
              cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(255, 255, 255), 2,
              cv::LINE_AA);
  return out;
}

} // namespace

annotator::annotator(std::string path, double fps)
  : path_(std::move(path)), fps_(fps) {
  if (!std::ofstream{path_})
    throw std::runtime_error("cannot write the annotated video " + path_);
}

annotator::~annotator() {
  if (first_.empty())
    return;
  try { // a single frame: one second of it
    open(1, first_.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recl-edge: %s\n", e.what());
  }
}

void annotator::open(double fps, cv::Size size) {
  out_.open(path_, cv::VideoWriter::fourcc('m', 'p', '4', 'v'),
            std::clamp(fps, 0.5, 120.0), size);
  size_ = size;
  if (!out_.isOpened())
    throw std::runtime_error("OpenCV cannot write the video " + path_);
  out_.write(first_);
  first_.release();
  ++frames_;
}

void annotator::add(const cv::Mat& frame, double t,
                    const std::vector<box>& boxes, const std::string& model) {
  auto img = drawn(frame, boxes, model);
  if (!out_.isOpened() && first_.empty() && fps_ <= 0) {
    first_ = img;
    first_t_ = t;
    return;
  }
  if (!out_.isOpened() && first_.empty()) {
    first_ = img;
    open(fps_, img.size());
    return;
  }
  if (!out_.isOpened())
    open(t > first_t_ ? 1 / (t - first_t_) : 25, first_.size());
  if (img.size() != size_) // a live source that changed its resolution
    cv::resize(img, img, size_);
  out_.write(img);
  ++frames_;
}

} // namespace recl
