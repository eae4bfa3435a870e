#pragma once
// Where an edge's frames come from: a video file, a folder of images, a
// sequence of catalog clips played back to back, or a live stream.

#include <memory>
#include <opencv2/core.hpp>
#include <string>

namespace recl {

/// A stream of frames with their time in the stream.
class frame_source {
public:
  virtual ~frame_source();

  /// The next frame and its time in seconds; false at the end.
  virtual bool next(cv::Mat& bgr, double& t_s) = 0;

  /// A human description, e.g. "video.avi (25 fps)".
  virtual std::string describe() const = 0;

  /// Whether frames come at the wall clock's pace (a live stream).
  virtual bool live() const { return false; }

  /// Opens `spec`: a video file, a folder of images (in name order),
  /// "catalog:ID[,ID...]" resolved in `data_dir`'s catalog, or a live
  /// stream (rtsp://, http://, https:// or /dev/videoN, timed by the wall
  /// clock; one that fails is opened again with backoff, at most
  /// `live_retries` times in a row, 0: for ever). `folder_fps` times a
  /// folder's frames. Throws std::runtime_error with a clear reason.
  static std::unique_ptr<frame_source> open(const std::string& spec,
                                            const std::string& data_dir,
                                            double folder_fps = 1.0,
                                            int live_retries = 0);
};

/// Encodes a frame as JPEG at `quality`, first shrinking it to at most
/// `max_width` pixels wide (aspect kept; never enlarged).
std::vector<uint8_t> encode_jpeg(const cv::Mat& bgr, int max_width,
                                 int quality = 90);

} // namespace recl
