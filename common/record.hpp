#pragma once
// A bounded binary codec for the records the store keeps (gating samples,
// queued candidates). A record starts with a 4-byte tag naming its kind and
// version; numbers are little-endian; every length is checked against the
// bytes that remain before anything is allocated, so a damaged record is a
// std::runtime_error, never a huge allocation (tests/fuzz/records.cpp).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

class record_writer {
public:
  /// `tag`: 4 characters, e.g. "GS01".
  explicit record_writer(std::string_view tag);

  void u32(uint32_t x);
  void u64(uint64_t x);
  void f32(float x);
  void f64(double x);
  void str(std::string_view x);
  void bytes(const std::vector<uint8_t>& x);

  /// The record.
  const std::string& out() const { return out_; }

private:
  std::string out_;
};

class record_reader {
public:
  /// Throws std::runtime_error unless `data` starts with `tag`.
  record_reader(std::string_view data, std::string_view tag);

  uint32_t u32();
  uint64_t u64();
  float f32();
  double f64();
  std::string str();
  std::vector<uint8_t> bytes();
  /// A count of elements that take at least `min_bytes` each: refused when
  /// the bytes left cannot hold that many.
  uint32_t count(size_t min_bytes);
  /// Throws unless every byte was read.
  void done() const;

private:
  std::string_view take(size_t n);

  std::string_view data_;
  size_t at_ = 0;
};

} // namespace recl
