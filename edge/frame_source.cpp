#include "edge/frame_source.hpp"

#include "common/util.hpp"
#include "edge/catalog.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <chrono>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <stdexcept>

namespace fs = std::filesystem;

namespace recl {

frame_source::~frame_source() = default;

namespace {

class video_source : public frame_source {
public:
  explicit video_source(std::string path) : path_(std::move(path)) {
    if (!fs::is_regular_file(path_))
      throw std::runtime_error("no video file " + path_);
    cap_.open(path_);
    if (!cap_.isOpened())
      throw std::runtime_error("cannot open video " + path_
                               + " (not a video OpenCV can decode)");
    fps_ = cap_.get(cv::CAP_PROP_FPS);
    if (!(fps_ > 0 && fps_ < 1000))
      fps_ = 25;
  }

  bool next(cv::Mat& bgr, double& t_s) override {
    if (!cap_.read(bgr) || bgr.empty())
      return false;
    t_s = n_++ / fps_;
    return true;
  }

  std::string describe() const override {
    char buf[32];
    std::snprintf(buf, sizeof(buf), " (%.2f fps)", fps_);
    return path_ + buf;
  }

private:
  std::string path_;
  cv::VideoCapture cap_;
  double fps_ = 25;
  long n_ = 0;
};

/// A live stream (RTSP or HTTP URL, /dev/videoN): stream time is the wall
/// time since the first frame; a stream that fails is opened again after a
/// delay that doubles from 1 s to 30 s, at most `retries` times in a row
/// (0: for ever).
class live_source : public frame_source {
public:
  live_source(std::string spec, int retries)
    : spec_(std::move(spec)), retries_(retries) {
    cap_.open(spec_);
    if (!cap_.isOpened())
      throw std::runtime_error("cannot open the live source " + spec_);
  }

  bool next(cv::Mat& bgr, double& t_s) override {
    double wait_s = 1;
    for (int failures = 0; !cap_.read(bgr) || bgr.empty(); ++failures) {
      if (retries_ > 0 && failures >= retries_) {
        std::fprintf(stderr, "recl-edge: %s: gave up after %d attempts\n",
                     spec_.c_str(), failures);
        return false;
      }
      std::fprintf(stderr,
                   "recl-edge: %s: no frame; opening it again in %.0f s\n",
                   spec_.c_str(), wait_s);
      std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
      wait_s = std::min(30.0, wait_s * 2);
      cap_.release();
      cap_.open(spec_);
    }
    auto now = std::chrono::steady_clock::now();
    if (!started_)
      start_ = now;
    started_ = true;
    t_s = std::chrono::duration<double>(now - start_).count();
    return true;
  }

  std::string describe() const override { return spec_ + " (live)"; }

  bool live() const override { return true; }

private:
  std::string spec_;
  int retries_;
  cv::VideoCapture cap_;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_;
};

class folder_source : public frame_source {
public:
  folder_source(std::string dir, double fps) : dir_(std::move(dir)), fps_(fps) {
    for (auto& e : fs::directory_iterator(dir_)) {
      auto ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp")
        files_.push_back(e.path().string());
    }
    std::sort(files_.begin(), files_.end());
    if (files_.empty())
      throw std::runtime_error("no images (jpg, png, bmp) in " + dir_);
  }

  bool next(cv::Mat& bgr, double& t_s) override {
    while (i_ < files_.size()) {
      auto& f = files_[i_++];
      bgr = cv::imread(f, cv::IMREAD_COLOR);
      if (bgr.empty())
        throw std::runtime_error("cannot decode image " + f);
      t_s = (i_ - 1) / fps_;
      return true;
    }
    return false;
  }

  std::string describe() const override {
    return dir_ + " (" + std::to_string(files_.size()) + " images)";
  }

private:
  std::string dir_;
  double fps_;
  std::vector<std::string> files_;
  size_t i_ = 0;
};

/// Clips back to back; time continues across clips.
class sequence_source : public frame_source {
public:
  sequence_source(std::vector<clip> clips) : clips_(std::move(clips)) {}

  bool next(cv::Mat& bgr, double& t_s) override {
    for (;;) {
      if (!cur_) {
        if (k_ >= clips_.size())
          return false;
        auto& c = clips_[k_++];
        cur_ = c.kind == "frames" ? std::unique_ptr<frame_source>(
                 std::make_unique<folder_source>(c.path, c.fps))
                                  : std::make_unique<video_source>(c.path);
        offset_ = end_;
      }
      double t = 0;
      if (cur_->next(bgr, t)) {
        t_s = offset_ + t;
        end_ = std::max(end_, t_s + 1e-6);
        return true;
      }
      cur_.reset();
    }
  }

  std::string describe() const override {
    std::string out = "catalog:";
    for (size_t i = 0; i < clips_.size(); ++i)
      out += (i ? "," : "") + clips_[i].id;
    return out;
  }

private:
  std::vector<clip> clips_;
  std::unique_ptr<frame_source> cur_;
  size_t k_ = 0;
  double offset_ = 0;
  double end_ = 0;
};

} // namespace

std::unique_ptr<frame_source> frame_source::open(const std::string& spec,
                                                 const std::string& data_dir,
                                                 double folder_fps,
                                                 int live_retries) {
  if (spec.rfind("catalog:", 0) == 0) {
    if (data_dir.empty())
      throw std::runtime_error("'" + spec
                               + "' needs the shared data folder: set "
                                 "RECL_DATA or --data");
    auto cat = catalog::load(data_dir);
    std::vector<clip> clips;
    for (auto& id : split(spec.substr(8), ',')) {
      auto t = trim(id);
      if (t.empty())
        continue;
      try {
        clips.push_back(cat.find(t));
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
      }
    }
    if (clips.empty())
      throw std::runtime_error("'" + spec + "' names no clip");
    return std::make_unique<sequence_source>(std::move(clips));
  }
  for (auto scheme : {"rtsp://", "http://", "https://", "/dev/video"})
    if (spec.rfind(scheme, 0) == 0)
      return std::make_unique<live_source>(spec, live_retries);
  if (!(folder_fps > 0))
    throw std::runtime_error("folder fps must be positive");
  if (fs::is_directory(spec))
    return std::make_unique<folder_source>(spec, folder_fps);
  return std::make_unique<video_source>(spec);
}

std::vector<uint8_t> encode_jpeg(const cv::Mat& bgr, int max_width,
                                 int quality) {
  cv::Mat img = bgr;
  if (max_width > 0 && bgr.cols > max_width) {
    double r = static_cast<double>(max_width) / bgr.cols;
    cv::resize(bgr, img, cv::Size(), r, r, cv::INTER_AREA);
  }
  std::vector<uint8_t> out;
  cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_QUALITY, quality});
  return out;
}

} // namespace recl
