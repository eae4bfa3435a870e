#include "common/image_header.hpp"

#include <cstring>

namespace recl {

namespace {

uint32_t be16(const uint8_t* p) {
  return (uint32_t{p[0]} << 8) | p[1];
}

uint32_t be32(const uint8_t* p) {
  return (be16(p) << 16) | be16(p + 2);
}

std::optional<image_header> png(const uint8_t* b, size_t n) {
  static constexpr uint8_t magic[]
    = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  // Signature, then the IHDR chunk: length, "IHDR", width, height.
  if (n < 24 || std::memcmp(b, magic, 8) != 0 || std::memcmp(b + 12, "IHDR", 4))
    return std::nullopt;
  return image_header{"png", be32(b + 16), be32(b + 20)};
}

/// Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
bool is_sof(uint8_t m) {
  return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

std::optional<image_header> jpeg(const uint8_t* b, size_t n) {
  if (n < 4 || b[0] != 0xff || b[1] != 0xd8)
    return std::nullopt;
  size_t i = 2;
  while (i + 4 <= n) {
    if (b[i] != 0xff)
      return std::nullopt; // not a marker where one must be
    auto m = b[i + 1];
    if (m == 0xff) { // fill byte
      ++i;
      continue;
    }
    if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) { // no payload
      i += 2;
      continue;
    }
    if (m == 0xd9 || m == 0xda) // end of image, or entropy-coded data first
      return std::nullopt;
    auto len = be16(b + i + 2);
    if (len < 2)
      return std::nullopt;
    if (is_sof(m)) {
      // Length, precision, height, width.
      if (i + 9 > n)
        return std::nullopt;
      return image_header{"jpeg", be16(b + i + 7), be16(b + i + 5)};
    }
    i += 2 + len;
  }
  return std::nullopt;
}

} // namespace

std::optional<image_header> read_image_header(const uint8_t* bytes,
                                              size_t size) {
  if (auto h = jpeg(bytes, size))
    return h;
  return png(bytes, size);
}

} // namespace recl
