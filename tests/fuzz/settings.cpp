// Fuzzes settings parsing (common/settings.cpp): the bytes as a config file
// and as a command line. Every bad input must be a usage_error (or
// std::exception), never a crash.

#include "common/settings.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

using namespace recl;

namespace {

options make() {
  options o{"fuzz", "[options]", "fuzz target"};
  o.add("count", "N", "an integer", "3")
    .add("rate", "F", "a number", "0.5")
    .add("size", "WxH", "a size", "256x160")
    .add("name", "TEXT", "a string")
    .add_flag("on", "a flag");
  return o;
}

void read_all(options& o) {
  o.get_int("count", -1000, 1000);
  o.get_double("rate", 0, 1e6);
  o.get_size("size", 4096);
  o.get("name");
  o.flag("on");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // As a config file.
  static const std::string path
    = "/tmp/recl-fuzz-settings-" + std::to_string(::getpid());
  if (auto* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    try {
      auto o = make();
      o.load_file(path);
      read_all(o);
    } catch (const std::exception&) {
    }
  }
  // As a command line, one argument per line.
  std::vector<std::string> args{"fuzz"};
  size_t at = 0;
  while (at <= text.size() && args.size() < 64) {
    auto end = text.find('\n', at);
    args.push_back(text.substr(at, end == std::string::npos ? end : end - at));
    if (end == std::string::npos)
      break;
    at = end + 1;
  }
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  try {
    auto o = make();
    if (o.parse(static_cast<int>(argv.size()), argv.data()))
      read_all(o);
  } catch (const std::exception&) {
  }
  return 0;
}
