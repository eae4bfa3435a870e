// Fuzzes the image header reader that runs before any frame is decoded
// (common/image_header.cpp): any bytes give a size or "not an image", never
// a read out of bounds (AddressSanitizer watches).

#include "common/image_header.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recl::read_image_header(data, size);
  return 0;
}
