#pragma once
// Small helpers shared by every layer: time, text, files, addresses.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// Milliseconds on a monotonic clock, as a double (for timing).
double now_ms();

/// Milliseconds since the Unix epoch (for stored timestamps).
int64_t unix_ms();

/// `n` random bytes from the OS as lower-case hex (2n characters).
std::string random_hex(size_t n);

/// "1.2 MiB", "830 KiB", "12 B".
std::string human_bytes(uint64_t n);

/// Strips leading and trailing white space.
std::string trim(std::string_view x);

/// Splits at `sep`, keeping empty fields.
std::vector<std::string> split(std::string_view x, char sep);

/// Reads a whole file; throws std::runtime_error naming the path on failure.
std::string read_file(const std::string& path);

/// Writes a file atomically (temp file, fsync, rename) with `mode` bits.
void write_file_atomic(const std::string& path, std::string_view content,
                       unsigned mode = 0644);

/// A parsed "HOST:PORT".
struct endpoint {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const;
};

/// Parses "HOST:PORT" (PORT 0..65535); throws std::invalid_argument.
endpoint parse_endpoint(std::string_view x);

/// Compares two secrets in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Whether `x` is a valid camera id: 1-64 of [A-Za-z0-9._-].
bool valid_camera_id(std::string_view x);

/// This machine's host name, kept to 1-40 of [A-Za-z0-9.-] (others become
/// '_'); "node" if it has none.
std::string host_name();

} // namespace recl
