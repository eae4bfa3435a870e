#include "common/util.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace recl {

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch())
    .count();
}

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::string random_hex(size_t n) {
  std::random_device rd; // reads the OS entropy source on Linux
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    auto b = static_cast<unsigned>(rd() & 0xff);
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30))
    std::snprintf(buf, sizeof(buf), "%.1f GiB", n / double(1ull << 30));
  else if (n >= (1ull << 20))
    std::snprintf(buf, sizeof(buf), "%.1f MiB", n / double(1ull << 20));
  else if (n >= (1ull << 10))
    std::snprintf(buf, sizeof(buf), "%.0f KiB", n / double(1ull << 10));
  else
    std::snprintf(buf, sizeof(buf), "%llu B",
                  static_cast<unsigned long long>(n));
  return buf;
}

std::string trim(std::string_view x) {
  auto ws
    = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!x.empty() && ws(x.front()))
    x.remove_prefix(1);
  while (!x.empty() && ws(x.back()))
    x.remove_suffix(1);
  return std::string{x};
}

std::vector<std::string> split(std::string_view x, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto pos = x.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(x.substr(start));
      return out;
    }
    out.emplace_back(x.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, std::string_view content,
                       unsigned mode) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw std::runtime_error("cannot write " + tmp);
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("write failed on " + tmp);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    throw std::runtime_error("fsync failed on " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

std::string endpoint::to_string() const {
  return host + ":" + std::to_string(port);
}

endpoint parse_endpoint(std::string_view x) {
  auto pos = x.rfind(':');
  if (pos == std::string_view::npos || pos == 0 || pos + 1 == x.size())
    throw std::invalid_argument("'" + std::string{x} + "' is not HOST:PORT");
  endpoint result;
  result.host = std::string{x.substr(0, pos)};
  auto port = std::string{x.substr(pos + 1)};
  if (port.find_first_not_of("0123456789") != std::string::npos
      || port.size() > 5 || std::stoul(port) > 65535)
    throw std::invalid_argument("'" + port + "' in '" + std::string{x}
                                + "' is not a port (0-65535)");
  result.port = static_cast<uint16_t>(std::stoul(port));
  return result;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  auto n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    auto ca = i < a.size() ? a[i] : 0;
    auto cb = i < b.size() ? b[i] : 0;
    diff |= static_cast<unsigned char>(ca ^ cb);
  }
  return diff == 0;
}

bool valid_camera_id(std::string_view x) {
  if (x.empty() || x.size() > 64)
    return false;
  for (char c : x) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0)
    return "node";
  std::string out;
  for (char* c = buf; *c && out.size() < 40; ++c) {
    bool ok
      = std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '-';
    out += ok ? *c : '_';
  }
  return out;
}

} // namespace recl
