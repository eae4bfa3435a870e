#include "tests/gpu/frames.hpp"

#include "edge/frame_source.hpp"
#include "gpu/teacher.hpp"
#include "tests/system/process.hpp"

namespace recl::test {

std::vector<image> clip_frames(const std::string& clip, size_t n, size_t skip,
                               size_t offset) {
  auto src = frame_source::open("catalog:" + clip, data_dir());
  std::vector<image> out;
  cv::Mat img;
  double t;
  for (size_t i = 0; out.size() < n && src->next(img, t); ++i)
    if (i >= offset && (i - offset) % skip == 0)
      out.push_back(to_image(img));
  return out;
}

} // namespace recl::test
