#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace recl::log {

namespace {

std::atomic<int> current_level{static_cast<int>(level::info)};
std::mutex write_mtx;

const char* level_name(level x) {
  switch (x) {
  case level::error:
    return "ERROR";
  case level::warning:
    return "WARN ";
  case level::info:
    return "INFO ";
  case level::debug:
    return "DEBUG";
  }
  return "?";
}

} // namespace

void set_level(level x) {
  current_level = static_cast<int>(x);
}

level parse_level(std::string_view x) {
  if (x == "error")
    return level::error;
  if (x == "warning" || x == "warn")
    return level::warning;
  if (x == "info")
    return level::info;
  if (x == "debug")
    return level::debug;
  throw std::invalid_argument("'" + std::string{x}
                              + "' is not a log level "
                                "(error, warning, info, debug)");
}

bool enabled(level x) {
  return static_cast<int>(x) <= current_level.load();
}

void write(level x, std::string_view component, const std::string& msg) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> guard{write_mtx};
  std::fprintf(stderr, "%s.%03dZ %s [%.*s] %s\n", stamp, static_cast<int>(ms),
               level_name(x), static_cast<int>(component.size()),
               component.data(), msg.c_str());
  std::fflush(stderr);
}

} // namespace recl::log
