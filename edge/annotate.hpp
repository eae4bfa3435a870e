#pragma once
// recl-edge --annotate OUT.mp4: the frames the edge's model ran on, with its
// boxes drawn (class, score) and the model's id in the corner. The video
// plays at --infer-fps; when the model runs on every frame, at the rate the
// stream times of the first two frames give.

#include "gpu/detection.hpp"

#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

namespace recl {

class annotator {
public:
  /// Checks that `path` can be written (throws std::runtime_error if not);
  /// the video itself is opened once its rate is known (`fps`, or with 0
  /// from the first two frames).
  annotator(std::string path, double fps);
  ~annotator();

  annotator(const annotator&) = delete;
  annotator& operator=(const annotator&) = delete;

  /// Draws `boxes` and `model` on a copy of `frame` (stream time `t`) and
  /// writes it.
  void add(const cv::Mat& frame, double t, const std::vector<box>& boxes,
           const std::string& model);

  /// Frames written so far.
  size_t frames() const { return frames_; }

private:
  void open(double fps, cv::Size size);

  std::string path_;
  cv::VideoWriter out_;
  cv::Size size_;
  cv::Mat first_; ///< held until the second frame gives the rate
  double first_t_ = 0;
  double fps_;
  size_t frames_ = 0;
};

} // namespace recl
