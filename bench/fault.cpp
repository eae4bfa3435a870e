// recl-bench-fault: kill -9 under traffic, again and again, and check that
// the store stays whole. Each round starts recld on the same data directory,
// lets edges send windows (real frames, retraining on with the replay clock,
// so models are written and admitted), kills recld with SIGKILL at a random
// moment, and then reads the store directly:
//  - every model a camera record names exists (its retrained model in the
//    store, or a zoo expert's weights), and every zoo expert has weights;
//  - each camera's window count is at least what its edge was told was saved
//    and at most one more (a window saved whose reply the kill cut off).
// Prints one line per round and "N/N rounds whole", or what broke.

#include "actors/records.hpp"
#include "bench/data.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>

using namespace recl;

namespace {

const std::string token = "fault-bench-token";

/// Per camera: windows its edge was told were saved.
struct told {
  std::mutex mtx;
  std::map<std::string, uint64_t> saved;
};

/// One edge: windows back to back until the connection breaks.
void edge(const std::string& address, const std::string& camera,
          const std::vector<frame>& frames, told& t) {
  try {
    client c{address};
    c.register_camera(camera, token);
    for (uint32_t w = 0;; ++w) {
      auto r = c.update(w, frames, 2);
      if (r.saved) {
        std::lock_guard<std::mutex> guard{t.mtx};
        ++t.saved[camera];
      }
    }
  } catch (const std::exception&) {
    // recld was killed.
  }
}

/// What is wrong with the store in `dir` ("" = nothing).
std::string check_store(const std::string& dir, told& t) {
  auto db = store::open(dir);
  std::string wrong;
  auto has_model = [&](const std::string& id) {
    return id.empty() || id == "base"
           || db->get(family::experts, keys::model(id))
           || db->get(family::experts, keys::weights(id));
  };
  std::lock_guard<std::mutex> guard{t.mtx};
  for (auto& kv : t.saved) {
    auto rec = db->get(family::cameras, kv.first);
    auto info = rec ? decode_camera_info(kv.first, *rec) : camera_info{};
    if (info.windows < kv.second || info.windows > kv.second + 1)
      wrong += kv.first + ": " + std::to_string(info.windows)
               + " windows on disk, edge told " + std::to_string(kv.second)
               + "; ";
    for (auto& id : {info.model_id, info.last_retrained_id})
      if (!has_model(id))
        wrong += kv.first + " names missing model " + id + "; ";
    kv.second = info.windows; // the next round counts from what is on disk
  }
  db->scan(family::experts, keys::info_prefix,
           [&](std::string_view k, std::string_view) {
             auto id = std::string{k.substr(keys::info_prefix.size())};
             if (!db->get(family::experts, keys::weights(id)))
               wrong += "expert " + id + " has no weights; ";
             return true;
           });
  return wrong;
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-fault", "[options]",
            "Kills recld with SIGKILL at random moments under traffic and "
            "checks the store after each kill."};
  bench::add_data_option(o)
    .add("rounds", "N", "kills", "20")
    .add("cameras", "N", "edges sending at once", "3")
    .add("max-seconds", "S", "longest time before a kill", "12")
    .add("seed", "N", "seed of the kill times", "1")
    .add("clip", "ID", "catalog clip the frames come from",
         "udacity-lanes-day");
  return run_command(o, argc, argv, [&] {
    auto data = bench::data_folder(o);
    if (data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    auto rounds = static_cast<int>(o.get_int("rounds", 1, 10000));
    auto cameras = static_cast<int>(o.get_int("cameras", 1, 64));
    auto max_s = o.get_double("max-seconds", 1, 3600);
    std::mt19937 rng{static_cast<uint32_t>(o.get_int("seed", 0, 1 << 30))};
    std::uniform_real_distribution<double> when{1.0, max_s};
    auto frames = bench::sample_frames(data, o.get("clip"), 6, 640);
    test::temp_dir tmp;
    auto dir = tmp.path() + "/data";
    told t;
    int whole = 0;
    for (int round = 1; round <= rounds; ++round) {
      test::process d{test::bin("recld"),
                      {"--data-dir",    dir,
                       "--listen",      "127.0.0.1:0",
                       "--data",        data,
                       "--token",       token,
                       "--base-expert", test::pretrained_archive(),
                       "--clock",       "replay",
                       "--budget",      "2",
                       "--gamma",       "1",
                       "--alpha",       "0",
                       "--generalist",  "off",
                       "--log-level",   "warning"}};
      auto address = test::recld_address(d, 120);
      std::vector<std::thread> edges;
      for (int c = 0; c < cameras; ++c)
        edges.emplace_back(edge, address, "cam-" + std::to_string(c),
                           std::cref(frames), std::ref(t));
      auto after = when(rng);
      std::this_thread::sleep_for(std::chrono::duration<double>(after));
      d.signal(SIGKILL);
      d.wait(30);
      for (auto& e : edges)
        e.join();
      auto wrong = check_store(dir, t);
      whole += wrong.empty() ? 1 : 0;
      uint64_t windows = 0;
      for (auto& kv : t.saved)
        windows += kv.second;
      std::printf("round %2d: killed after %4.1f s, %llu windows on disk: "
                  "%s\n",
                  round, after, static_cast<unsigned long long>(windows),
                  wrong.empty() ? "whole" : wrong.c_str());
      std::fflush(stdout);
    }
    std::printf("%d/%d rounds whole\n", whole, rounds);
    return whole == rounds ? 0 : 1;
  });
}
