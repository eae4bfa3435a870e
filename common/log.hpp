#pragma once
// A small thread-safe logger. Debian's CAF is built with its logger compiled
// out, so the project carries its own: one line per event on stderr, with a
// UTC timestamp, the level and the component that speaks.

#include <sstream>
#include <string>
#include <string_view>

namespace recl::log {

/// Severity, from most to least important.
enum class level { error = 0, warning = 1, info = 2, debug = 3 };

/// Sets the most verbose level that is written (default: info).
void set_level(level x);

/// Parses "error", "warning", "info" or "debug"; throws std::invalid_argument.
level parse_level(std::string_view x);

/// Whether messages of level `x` are written.
bool enabled(level x);

/// Writes one line.
void write(level x, std::string_view component, const std::string& msg);

namespace detail {
template <class... Ts>
std::string concat(const Ts&... xs) {
  std::ostringstream out;
  (out << ... << xs);
  return out.str();
}
} // namespace detail

template <class... Ts>
void error(std::string_view component, const Ts&... xs) {
  if (enabled(level::error))
    write(level::error, component, detail::concat(xs...));
}

template <class... Ts>
void warning(std::string_view component, const Ts&... xs) {
  if (enabled(level::warning))
    write(level::warning, component, detail::concat(xs...));
}

template <class... Ts>
void info(std::string_view component, const Ts&... xs) {
  if (enabled(level::info))
    write(level::info, component, detail::concat(xs...));
}

template <class... Ts>
void debug(std::string_view component, const Ts&... xs) {
  if (enabled(level::debug))
    write(level::debug, component, detail::concat(xs...));
}

} // namespace recl::log
