#pragma once
// The adaptation tests' recld: the real daemon with expert models (the
// shipped weights as the base expert), on the replay clock so that what is
// trained does not depend on this machine's speed, and real recl-edge
// processes to feed it (tests/system/adaptation.cpp, tests/system/edge.cpp).

#include "common/util.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace recl::systest {

using test::bin;

using test::contains;

/// Clip ids of a place, in catalog order.
inline std::vector<std::string> clips_of(const std::string& data,
                                         const std::string& place) {
  std::vector<std::string> out;
  std::ifstream in{data + "/catalog.tsv"};
  std::string line;
  while (std::getline(in, line)) {
    auto cols = split(line, '\t');
    if (cols.size() > 8 && cols[8] == place)
      out.push_back(cols[0]);
  }
  return out;
}

/// What the adaptation tests start from (TEST_CASE_FIXTURE): the shared
/// data, the clips of one place in catalog order, and a fresh directory.
struct one_place {
  std::string data = test::data_dir();
  std::vector<std::string> place
    = clips_of(data, "caltrans-n280-at-indiana-st");
  test::temp_dir tmp;
};

struct live_daemon {
  std::string dir;
  std::unique_ptr<test::process> proc;
  std::string address;
  std::string token = "adaptation-test";

  /// What the learning side runs with (a worker node takes it from the
  /// coordinator).
  static std::vector<std::string> learning_args(const std::string& data) {
    return {
      "--data",       data,     "--base-expert", test::pretrained_archive(),
      "--clock",      "replay", "--budget",      "3",
      "--gamma",      "1",      "--alpha",       "0",
      "--generalist", "off",    "--threads",     "2"};
  }

  live_daemon(const std::string& data_dir, const std::string& data,
              std::vector<std::string> extra = {}) {
    dir = data_dir;
    std::vector<std::string> args{"--data-dir",  dir,       "--listen",
                                  "127.0.0.1:0", "--token", token};
    for (auto& x : learning_args(data))
      args.push_back(x);
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<test::process>(bin("recld"), args);
    address = test::recld_address(*proc);
  }

  /// recl-edge's arguments to play `clips` (5 s windows, 2 frames/s) for
  /// this daemon, then `extra`.
  std::vector<std::string> edge_args(const std::string& camera,
                                     const std::vector<std::string>& clips,
                                     const std::string& data,
                                     std::vector<std::string> extra = {}) {
    std::string src = "catalog:";
    for (size_t i = 0; i < clips.size(); ++i)
      src += (i ? "," : "") + clips[i];
    std::vector<std::string> args{
      "--server",         address, "--camera",     camera, "--source", src,
      "--window-seconds", "5",     "--sample-fps", "2",    "--token",  token,
      "--data",           data};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  /// Runs recl-edge on `clips` to the end (at most `windows`, 0: all).
  test::run_result edge(const std::string& camera,
                        const std::vector<std::string>& clips,
                        const std::string& data, int windows = 0,
                        std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--windows", std::to_string(windows)});
    return test::run(bin("recl-edge"),
                     edge_args(camera, clips, data, std::move(extra)), 300);
  }

  nlohmann::json admin(const std::string& cmd) {
    auto r = test::run(bin("recl-admin"),
                       {"--server", address, "--token", token, cmd, "--json"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return nlohmann::json::parse(r.out);
  }

  /// Polls the scheduler until no job is live (or `timeout_s` passes).
  bool await_idle(double timeout_s) {
    auto until = now_ms() + timeout_s * 1000;
    while (now_ms() < until) {
      if (admin("scheduler")["jobs"].empty())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }

  /// Polls the zoo until it holds `n` experts or `timeout_s` passes.
  nlohmann::json await_zoo(size_t n, double timeout_s) {
    auto until = now_ms() + timeout_s * 1000;
    auto z = admin("zoo");
    while (z["size"].get<size_t>() < n && now_ms() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      z = admin("zoo");
    }
    return z;
  }
};

} // namespace recl::systest
