#pragma once
// The teacher: the large, accurate detector whose boxes are the ground truth
// for experts. YOLOX-Nano through OpenCV dnn, or OpenCV's built-in HOG people
// detector when no model file is at hand. It needs OpenCV, so it lives apart
// from the LibTorch-only model library.

#include "gpu/detection.hpp"
#include "gpu/image.hpp"
#include "gpu/teacher_options.hpp"

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace recl {

/// The strong teacher: `base` (its model, classes and thresholds) at
/// 640x640 and at `base`'s input on the whole frame, plus 2x2 tiles at 640,
/// each pass with its mirror, the boxes fused. About 20x the cost of the
/// 416 default per frame, for labels that keep what `base` finds and add
/// the small and partly hidden objects it misses.
teacher_options strong_teacher(teacher_options base);

/// Parses "off", "on" or "auto"; throws std::invalid_argument.
std::string parse_tiling(const std::string& x);

/// A detector that labels frames. Not thread-safe: one per labeler.
class teacher {
public:
  virtual ~teacher();

  /// Detects objects in a BGR frame; boxes are in the frame's pixels.
  virtual std::vector<box> detect(const cv::Mat& bgr) = 0;

  /// E.g. "yolox-nano 416x416 (PATH)".
  virtual std::string describe() const = 0;
};

/// Builds a teacher; throws std::invalid_argument for a bad spec and
/// std::runtime_error when the model file cannot be loaded.
std::unique_ptr<teacher> make_teacher(const teacher_options& opts);

/// Resizes `bgr` by r = min(w/W, h/H) into the top-left corner of a w x h
/// canvas filled with 114 (YOLOX's letterbox). Returns the canvas; `scale`
/// receives r.
cv::Mat letterbox_top_left(const cv::Mat& bgr, int w, int h, float& scale);

/// The classification task's teacher: MobileNetV2 int8 (ONNX model zoo)
/// through OpenCV dnn at 224x224. Not thread-safe.
class class_teacher {
public:
  /// Loads the model; throws std::runtime_error naming the file.
  explicit class_teacher(const std::string& onnx_path);
  ~class_teacher();

  /// The top-1 ImageNet class of a BGR frame.
  int classify(const cv::Mat& bgr);

  std::string describe() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

/// Copies a BGR cv::Mat into the model library's image type.
image to_image(const cv::Mat& bgr);

} // namespace recl
