#include "common/record.hpp"

#include <cstring>
#include <stdexcept>

namespace recl {

namespace {

[[noreturn]] void damaged(const std::string& why) {
  throw std::runtime_error("damaged record: " + why);
}

} // namespace

record_writer::record_writer(std::string_view tag) : out_(tag) {}

void record_writer::u32(uint32_t x) {
  for (int i = 0; i < 4; ++i)
    out_.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

void record_writer::u64(uint64_t x) {
  u32(static_cast<uint32_t>(x));
  u32(static_cast<uint32_t>(x >> 32));
}

void record_writer::f32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  u32(bits);
}

void record_writer::f64(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  u64(bits);
}

void record_writer::str(std::string_view x) {
  u32(static_cast<uint32_t>(x.size()));
  out_.append(x);
}

void record_writer::bytes(const std::vector<uint8_t>& x) {
  str(std::string_view{reinterpret_cast<const char*>(x.data()), x.size()});
}

record_reader::record_reader(std::string_view data, std::string_view tag)
  : data_(data) {
  if (data.substr(0, tag.size()) != tag)
    damaged("not a '" + std::string{tag}
            + "' record (written by another version?)");
  at_ = tag.size();
}

std::string_view record_reader::take(size_t n) {
  if (n > data_.size() - at_)
    damaged("needs " + std::to_string(n) + " more bytes, has "
            + std::to_string(data_.size() - at_));
  auto out = data_.substr(at_, n);
  at_ += n;
  return out;
}

uint32_t record_reader::u32() {
  auto b = take(4);
  uint32_t x = 0;
  for (int i = 3; i >= 0; --i)
    x = (x << 8) | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
  return x;
}

uint64_t record_reader::u64() {
  uint64_t lo = u32();
  uint64_t hi = u32();
  return lo | (hi << 32);
}

float record_reader::f32() {
  auto bits = u32();
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

double record_reader::f64() {
  auto bits = u64();
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

std::string record_reader::str() {
  auto n = u32();
  return std::string{take(n)};
}

std::vector<uint8_t> record_reader::bytes() {
  auto s = take(u32());
  return {s.begin(), s.end()};
}

uint32_t record_reader::count(size_t min_bytes) {
  auto n = u32();
  if (min_bytes > 0 && n > (data_.size() - at_) / min_bytes)
    damaged(std::to_string(n) + " elements cannot fit in "
            + std::to_string(data_.size() - at_) + " bytes");
  return n;
}

void record_reader::done() const {
  if (at_ != data_.size())
    damaged(std::to_string(data_.size() - at_) + " trailing bytes");
}

} // namespace recl
