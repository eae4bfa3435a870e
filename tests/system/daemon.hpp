#pragma once
// The system tests' recld: the real daemon on a fresh data directory, over
// loopback, and helpers to feed it (tests/system/daemon.cpp and
// tests/system/credentials.cpp).

#include "common/util.hpp"
#include "edge/client.hpp"
#include "tests/system/process.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

namespace recl::systest {

/// A running recld on a fresh data directory (or a given one).
struct recld_process {
  std::unique_ptr<test::temp_dir> own_dir;
  std::string dir;
  std::unique_ptr<test::process> proc;
  std::string address;
  std::string token;

  explicit recld_process(std::vector<std::string> extra = {},
                         std::string at = "") {
    if (at.empty()) {
      own_dir = std::make_unique<test::temp_dir>();
      dir = own_dir->path() + "/data";
    } else {
      dir = at;
    }
    // The platform's tests run without expert models, whatever the user's
    // cache holds (tests/system/adaptation.cpp runs them with models).
    std::vector<std::string> args{
      "--data-dir", dir, "--listen", "127.0.0.1:0", "--base-expert", "none"};
    auto data = test::data_dir();
    if (data.empty())
      args.insert(args.end(), {"--teacher", "hog"});
    else
      args.insert(args.end(), {"--data", data});
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<test::process>(test::bin("recld"), args);
    address = test::recld_address(*proc);
    if (std::ifstream{dir + "/auth-token"})
      token = trim(read_file(dir + "/auth-token"));
  }

  /// The port of the metrics endpoint (started with --metrics-listen).
  std::string metrics_port() {
    auto line = proc->wait_for_line("recld metrics on", 10);
    REQUIRE_MESSAGE(!line.empty(), "no metrics line: " << proc->err());
    auto port = line.substr(line.rfind(':') + 1);
    return port.substr(0, port.find('/'));
  }

  /// SIGTERM and the exit code.
  int stop(int sig = SIGTERM) {
    proc->signal(sig);
    return proc->wait(30);
  }
};

inline std::vector<uint8_t> picture() {
  auto data = test::data_dir();
  if (!data.empty()) {
    auto s = read_file(data + "/images/bus.jpg");
    return {s.begin(), s.end()};
  }
  std::vector<uint8_t> out;
  cv::imencode(".jpg", cv::Mat(240, 320, CV_8UC3, cv::Scalar(90, 90, 90)), out);
  return out;
}

inline std::vector<frame> frames(size_t n) {
  std::vector<frame> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(frame{picture(), i * 1000});
  return out;
}

template <class F>
inline std::string rpc_failure(F&& f) {
  try {
    f();
  } catch (const rpc_error& e) {
    return e.what();
  }
  return "(no error)";
}

using test::contains;

inline uint64_t windows_of(const status_info& s, const std::string& id) {
  for (auto& c : s.cameras)
    if (c.id == id)
      return c.windows;
  return 0;
}

} // namespace recl::systest
