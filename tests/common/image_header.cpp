#include "common/image_header.hpp"
#include "tests/common/bomb.hpp"

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

using namespace recl;

namespace {

std::vector<uint8_t> encoded(const char* ext, int w, int h) {
  std::vector<uint8_t> out;
  cv::imencode(ext, cv::Mat(h, w, CV_8UC3, cv::Scalar(10, 200, 30)), out);
  return out;
}

} // namespace

TEST_CASE("image header: JPEG and PNG sizes are read without decoding") {
  auto j = encoded(".jpg", 320, 240);
  auto h = read_image_header(j.data(), j.size());
  REQUIRE(h);
  CHECK(h->format == "jpeg");
  CHECK(h->width == 320);
  CHECK(h->height == 240);
  auto p = encoded(".png", 17, 5);
  h = read_image_header(p.data(), p.size());
  REQUIRE(h);
  CHECK(h->format == "png");
  CHECK(h->width == 17);
  CHECK(h->height == 5);
  auto bomb = test::jpeg_claiming(32000, 32000);
  h = read_image_header(bomb.data(), bomb.size());
  REQUIRE(h);
  CHECK(h->width * h->height == 1024000000);
}

TEST_CASE("image header: junk, truncation and other formats say nothing") {
  std::string junk = "GIF89a but not really";
  CHECK_FALSE(read_image_header(reinterpret_cast<const uint8_t*>(junk.data()),
                                junk.size()));
  auto j = encoded(".jpg", 320, 240);
  for (size_t n : {0, 1, 2, 3, 4, 10, 20})
    CHECK_FALSE(read_image_header(j.data(), std::min(n, j.size())));
  auto p = encoded(".png", 8, 8);
  CHECK_FALSE(read_image_header(p.data(), 20));
  auto bmp = encoded(".bmp", 8, 8);
  CHECK_FALSE(read_image_header(bmp.data(), bmp.size()));
  // A marker segment whose length runs past the end.
  std::vector<uint8_t> cut{0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0, 0};
  CHECK_FALSE(read_image_header(cut.data(), cut.size()));
}
