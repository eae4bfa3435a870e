#pragma once
// A decompression bomb for tests: a real, small JPEG whose frame header
// claims a huge size.

#include <cstdint>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>
#include <vector>

namespace recl::test {

inline std::vector<uint8_t> jpeg_claiming(int w, int h) {
  std::vector<uint8_t> b;
  cv::imencode(".jpg", cv::Mat(48, 64, CV_8UC3, cv::Scalar(10, 200, 30)), b);
  for (size_t i = 2; i + 9 < b.size(); ++i)
    if (b[i] == 0xff && b[i + 1] == 0xc0) { // baseline start of frame
      b[i + 5] = static_cast<uint8_t>(h >> 8);
      b[i + 6] = static_cast<uint8_t>(h & 0xff);
      b[i + 7] = static_cast<uint8_t>(w >> 8);
      b[i + 8] = static_cast<uint8_t>(w & 0xff);
      return b;
    }
  throw std::runtime_error("no baseline frame marker in OpenCV's JPEG");
}

} // namespace recl::test
