#include "gpu/teacher.hpp"

#include "common/log.hpp"

#include <cmath>
#include <cstring>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <stdexcept>

namespace recl {

teacher::~teacher() = default;

cv::Mat letterbox_top_left(const cv::Mat& bgr, int w, int h, float& scale) {
  scale = std::min(static_cast<float>(w) / bgr.cols,
                   static_cast<float>(h) / bgr.rows);
  int rw = std::max(1, static_cast<int>(std::round(bgr.cols * scale)));
  int rh = std::max(1, static_cast<int>(std::round(bgr.rows * scale)));
  rw = std::min(rw, w);
  rh = std::min(rh, h);
  cv::Mat canvas(h, w, CV_8UC3, cv::Scalar(114, 114, 114));
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(rw, rh), 0, 0, cv::INTER_LINEAR);
  resized.copyTo(canvas(cv::Rect(0, 0, rw, rh)));
  return canvas;
}

image to_image(const cv::Mat& bgr) {
  if (bgr.type() != CV_8UC3)
    throw std::invalid_argument("to_image: not an 8-bit BGR frame");
  image out;
  out.width = bgr.cols;
  out.height = bgr.rows;
  out.bgr.resize(static_cast<size_t>(bgr.cols) * bgr.rows * 3);
  for (int y = 0; y < bgr.rows; ++y)
    std::memcpy(out.bgr.data() + static_cast<size_t>(y) * bgr.cols * 3,
                bgr.ptr(y), static_cast<size_t>(bgr.cols) * 3);
  return out;
}

namespace {

/// YOLOX-Nano as exported by Megvii: raw BGR 0..255 input, output
/// [1, cells, 5 + 80] with sigmoid already applied to objectness and classes
/// but the grid not yet decoded.
class yolox_teacher : public teacher {
public:
  yolox_teacher(std::string path, const teacher_options& opts)
    : path_(std::move(path)), opts_(opts) {
    net_ = cv::dnn::readNet(path_);
    if (net_.empty())
      throw std::runtime_error("cannot load YOLOX model " + path_);
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    keep_.assign(80, false);
    for (auto c : opts_.classes)
      if (c >= 0 && c < 80)
        keep_[static_cast<size_t>(c)] = true;
  }

  std::vector<box> detect(const cv::Mat& bgr) override {
    const int w = opts_.input_width;
    const int h = opts_.input_height;
    float r = 1;
    auto input = letterbox_top_left(bgr, w, h, r);
    auto blob = cv::dnn::blobFromImage(input, 1.0, cv::Size(), cv::Scalar(),
                                       false, false, CV_32F);
    net_.setInput(blob);
    cv::Mat out = net_.forward();
    // out: [1, cells, 85]
    const int cells = out.size[1];
    const int dims = out.size[2];
    if (dims != 85)
      throw std::runtime_error("unexpected YOLOX output width "
                               + std::to_string(dims));
    const float* p = out.ptr<float>();
    std::vector<box> candidates;
    int cell = 0;
    for (int stride : {8, 16, 32}) {
      const int gw = w / stride;
      const int gh = h / stride;
      for (int gy = 0; gy < gh; ++gy) {
        for (int gx = 0; gx < gw; ++gx, ++cell) {
          if (cell >= cells)
            throw std::runtime_error("YOLOX output has fewer cells than its "
                                     "input size implies");
          const float* row = p + static_cast<size_t>(cell) * dims;
          float obj = row[4];
          if (obj < opts_.score_threshold)
            continue;
          float cx = (row[0] + gx) * stride;
          float cy = (row[1] + gy) * stride;
          float bw = std::exp(row[2]) * stride;
          float bh = std::exp(row[3]) * stride;
          for (int c = 0; c < 80; ++c) {
            if (!keep_[static_cast<size_t>(c)])
              continue;
            float score = obj * row[5 + c];
            if (score < opts_.score_threshold)
              continue;
            box b;
            b.x0 = std::max(0.f, (cx - bw / 2) / r);
            b.y0 = std::max(0.f, (cy - bh / 2) / r);
            b.x1 = std::min(static_cast<float>(bgr.cols), (cx + bw / 2) / r);
            b.y1 = std::min(static_cast<float>(bgr.rows), (cy + bh / 2) / r);
            b.score = score;
            b.cls = c;
            if (b.x1 > b.x0 && b.y1 > b.y0)
              candidates.push_back(b);
          }
        }
      }
    }
    return nms_per_class(std::move(candidates), opts_.nms_threshold);
  }

  std::string describe() const override {
    return "yolox-nano " + std::to_string(opts_.input_width) + "x"
           + std::to_string(opts_.input_height) + " (" + path_ + ")";
  }

private:
  std::string path_;
  teacher_options opts_;
  cv::dnn::Net net_;
  std::vector<bool> keep_;
};

/// OpenCV's built-in HOG + linear SVM people detector: needs no file.
class hog_teacher : public teacher {
public:
  explicit hog_teacher(const teacher_options& opts) : opts_(opts) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
    for (auto c : opts_.classes)
      if (c == 0)
        finds_people_ = true;
    if (!finds_people_)
      log::warning("teacher", "the HOG teacher finds only persons, which the "
                              "class set leaves out: it will label nothing");
  }

  std::vector<box> detect(const cv::Mat& bgr) override {
    if (!finds_people_)
      return {};
    // HOG is slow on large frames: work on at most 640 px wide.
    float r = 1;
    cv::Mat img = bgr;
    if (bgr.cols > 640) {
      r = 640.f / bgr.cols;
      cv::resize(bgr, img, cv::Size(), r, r, cv::INTER_AREA);
    }
    std::vector<cv::Rect> rects;
    std::vector<double> weights;
    if (img.cols >= 64 && img.rows >= 128)
      hog_.detectMultiScale(img, rects, weights, 0, cv::Size(8, 8),
                            cv::Size(8, 8), 1.05, 2);
    std::vector<box> out;
    for (size_t i = 0; i < rects.size(); ++i) {
      auto margin = i < weights.size() ? weights[i] : 0.0;
      box b;
      b.x0 = std::max(0.f, rects[i].x / r);
      b.y0 = std::max(0.f, rects[i].y / r);
      b.x1 = std::min<float>(bgr.cols, (rects[i].x + rects[i].width) / r);
      b.y1 = std::min<float>(bgr.rows, (rects[i].y + rects[i].height) / r);
      // The SVM margin mapped to (0, 1): 0.5 at the decision boundary.
      b.score = static_cast<float>(1.0 / (1.0 + std::exp(-2.0 * margin)));
      b.cls = 0;
      if (b.score >= opts_.score_threshold)
        out.push_back(b);
    }
    return nms_per_class(std::move(out), opts_.nms_threshold);
  }

  std::string describe() const override {
    return "hog-people (OpenCV built-in)";
  }

private:
  teacher_options opts_;
  cv::HOGDescriptor hog_;
  bool finds_people_ = false;
};

/// Runs a teacher on the whole frame and on four overlapping tiles (each 60 %
/// of the frame's width and height, in the corners), then merges the boxes
/// with per-class NMS.
class tiled_teacher : public teacher {
public:
  /// `whole` labels the whole frame, `inner` each tile (they may be the
  /// same detector: one network loaded, not two).
  tiled_teacher(std::shared_ptr<teacher> whole, std::shared_ptr<teacher> inner,
                const teacher_options& opts)
    : whole_(std::move(whole)), inner_(std::move(inner)), opts_(opts) {}

  bool tile(const cv::Mat& bgr) const {
    if (opts_.tiling == "on")
      return true;
    if (opts_.tiling != "auto")
      return false;
    return bgr.cols <= opts_.auto_tile_width || bgr.cols >= 2.5 * bgr.rows;
  }

  std::vector<box> detect(const cv::Mat& bgr) override {
    auto boxes = whole_->detect(bgr);
    if (!tile(bgr))
      return boxes;
    int tw = std::max(1, static_cast<int>(bgr.cols * 0.6));
    int th = std::max(1, static_cast<int>(bgr.rows * 0.6));
    for (int y : {0, bgr.rows - th})
      for (int x : {0, bgr.cols - tw}) {
        cv::Mat sub = bgr(cv::Rect(x, y, tw, th)).clone();
        for (auto b : inner_->detect(sub)) {
          // Boxes cut by a tile's inner edge are partial: drop them, the
          // whole frame or a neighbouring tile sees the object whole.
          const float margin = 2;
          bool cut = (b.x0 < margin && x > 0) || (b.y0 < margin && y > 0)
                     || (b.x1 > tw - margin && x + tw < bgr.cols)
                     || (b.y1 > th - margin && y + th < bgr.rows);
          if (cut)
            continue;
          b.x0 += x;
          b.x1 += x;
          b.y0 += y;
          b.y1 += y;
          boxes.push_back(b);
        }
      }
    return nms_per_class(std::move(boxes), opts_.nms_threshold);
  }

  std::string describe() const override {
    return whole_->describe() + ", tiling " + opts_.tiling;
  }

private:
  std::shared_ptr<teacher> whole_;
  std::shared_ptr<teacher> inner_;
  teacher_options opts_;
};

/// The overlap at which boxes of two views are one object (the value
/// weighted box fusion's authors use).
constexpr float fusion_iou = 0.55f;

/// Runs a teacher on the frame and on its mirror image and fuses the two
/// views' boxes: what either view finds is kept, and an object both find
/// gets their score-weighted mean box.
class flip_teacher : public teacher {
public:
  flip_teacher(std::unique_ptr<teacher> inner, const teacher_options& opts)
    : inner_(std::move(inner)), opts_(opts) {}

  std::vector<box> detect(const cv::Mat& bgr) override {
    auto direct = inner_->detect(bgr);
    cv::Mat mirror;
    cv::flip(bgr, mirror, 1);
    auto mirrored = inner_->detect(mirror);
    const auto w = static_cast<float>(bgr.cols);
    for (auto& b : mirrored) {
      auto x0 = w - b.x1;
      b.x1 = w - b.x0;
      b.x0 = x0;
    }
    return fuse_boxes({direct, mirrored}, fusion_iou);
  }

  std::string describe() const override {
    return inner_->describe() + ", flip";
  }

private:
  std::unique_ptr<teacher> inner_;
  teacher_options opts_;
};

/// Two teachers on the same frame, their boxes fused: e.g. the detector at
/// two input sizes, since each finds objects the other misses.
class union_teacher : public teacher {
public:
  union_teacher(std::shared_ptr<teacher> a, std::shared_ptr<teacher> b)
    : a_(std::move(a)), b_(std::move(b)) {}

  std::vector<box> detect(const cv::Mat& bgr) override {
    return fuse_boxes({a_->detect(bgr), b_->detect(bgr)}, fusion_iou);
  }

  std::string describe() const override {
    return a_->describe() + " + " + b_->describe();
  }

private:
  std::shared_ptr<teacher> a_, b_;
};

std::unique_ptr<teacher> make_plain_teacher(const teacher_options& opts);

/// The detector at `opts`' input, with its mirror view when asked.
std::unique_ptr<teacher> make_view(const teacher_options& opts) {
  auto t = make_plain_teacher(opts);
  if (opts.flip)
    t = std::make_unique<flip_teacher>(std::move(t), opts);
  return t;
}

} // namespace

teacher_options strong_teacher(teacher_options base) {
  base.extra_input = base.input_width;
  base.input_width = 640;
  base.input_height = 640;
  base.tiling = "on";
  base.flip = true;
  return base;
}

struct class_teacher::impl {
  std::string path;
  cv::dnn::Net net;
};

class_teacher::class_teacher(const std::string& onnx_path)
  : impl_(std::make_unique<impl>()) {
  impl_->path = onnx_path;
  try {
    impl_->net = cv::dnn::readNet(onnx_path);
  } catch (const cv::Exception& e) {
    throw std::runtime_error("cannot load classifier " + onnx_path + ": "
                             + e.what());
  }
  if (impl_->net.empty())
    throw std::runtime_error("cannot load classifier " + onnx_path);
}

class_teacher::~class_teacher() = default;

int class_teacher::classify(const cv::Mat& bgr) {
  // RGB / 255, resized to 224x224, then ImageNet's mean and std.
  auto blob = cv::dnn::blobFromImage(bgr, 1.0 / 255, cv::Size(224, 224),
                                     cv::Scalar(), true, false, CV_32F);
  const float mean[3] = {0.485f, 0.456f, 0.406f};
  const float sd[3] = {0.229f, 0.224f, 0.225f};
  float* p = blob.ptr<float>();
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 224 * 224; ++i, ++p)
      *p = (*p - mean[c]) / sd[c];
  impl_->net.setInput(blob);
  cv::Mat out = impl_->net.forward();
  cv::Point best;
  cv::minMaxLoc(out.reshape(1, 1), nullptr, nullptr, nullptr, &best);
  return best.x;
}

std::string class_teacher::describe() const {
  return "mobilenetv2-int8 224x224 (" + impl_->path + ")";
}

std::string parse_tiling(const std::string& x) {
  if (x == "off" || x == "on" || x == "auto")
    return x;
  throw std::invalid_argument("'" + x
                              + "' is not a tiling mode (off, on, auto)");
}

std::unique_ptr<teacher> make_teacher(const teacher_options& opts) {
  parse_tiling(opts.tiling);
  auto extra = opts; // the second whole-frame pass, if any
  extra.input_width = extra.input_height = opts.extra_input;
  if (opts.tiling == "off") {
    if (opts.extra_input <= 0)
      return make_view(opts);
    return std::make_unique<union_teacher>(make_view(opts), make_view(extra));
  }
  std::shared_ptr<teacher> view = make_view(opts);
  std::shared_ptr<teacher> whole = view;
  if (opts.extra_input > 0)
    whole = std::make_shared<union_teacher>(view, make_view(extra));
  // The tiles use the whole frame's detector: one network loaded, not two.
  return std::make_unique<tiled_teacher>(whole, view, opts);
}

namespace {

std::unique_ptr<teacher> make_plain_teacher(const teacher_options& opts) {
  if (opts.input_width <= 0 || opts.input_height <= 0
      || opts.input_width % 32 != 0 || opts.input_height % 32 != 0)
    throw std::invalid_argument("teacher input must be multiples of 32, got "
                                + std::to_string(opts.input_width) + "x"
                                + std::to_string(opts.input_height));
  if (!(opts.score_threshold > 0 && opts.score_threshold < 1))
    throw std::invalid_argument("teacher score threshold must be in (0, 1)");
  if (opts.spec == "hog")
    return std::make_unique<hog_teacher>(opts);
  if (opts.spec.rfind("yolox:", 0) == 0) {
    auto path = opts.spec.substr(6);
    if (path.empty())
      throw std::invalid_argument("teacher 'yolox:' needs a model path");
    try {
      return std::make_unique<yolox_teacher>(path, opts);
    } catch (const cv::Exception& e) {
      throw std::runtime_error("cannot load YOLOX model " + path + ": "
                               + e.what());
    }
  }
  throw std::invalid_argument("unknown teacher '" + opts.spec
                              + "' (use yolox:PATH or hog)");
}

} // namespace

} // namespace recl
