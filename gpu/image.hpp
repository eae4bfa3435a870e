#pragma once
// A decoded frame as the model library takes it: 8-bit BGR, row-major,
// height x width x 3. No OpenCV here: the model library needs LibTorch alone.

#include <cstdint>
#include <vector>

namespace recl {

/// One BGR frame.
struct image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> bgr; ///< height * width * 3 bytes
};

} // namespace recl
