#pragma once
// An image's size read from its header, before anything is decoded: a few
// hundred bytes can claim gigapixels (a decompression bomb), and decoding
// would allocate them before any check after the fact could refuse.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace recl {

/// What an image header says.
struct image_header {
  std::string format; ///< "jpeg" or "png"
  int64_t width = 0;
  int64_t height = 0;
};

/// The header of a JPEG (its first frame marker) or PNG (its IHDR chunk),
/// or nothing when `bytes` is neither or too short to tell.
std::optional<image_header> read_image_header(const uint8_t* bytes,
                                              size_t size);

} // namespace recl
