// recl-bench-soak: many edges against one recld for a while, as an operator
// would run it. N edges (threads, one connection each) send windows of F real
// frames back to back for S seconds; recld serves at most
// --max-windows-in-flight at once and refuses the rest as busy, and the edges
// retry after the time it gives. Prints recld's memory and open files after
// warm-up and at the end (a leak shows as growth), the reply times of the
// windows answered (p50, p95), and the refusals.

#include "bench/data.hpp"
#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"
#include "tests/system/process.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

using namespace recl;

namespace {

struct tally {
  std::mutex mtx;
  std::vector<double> reply_ms; ///< answered windows, round trip
  uint64_t busy = 0;            ///< refused as busy (then sent again)
  uint64_t errors = 0;          ///< anything else
  std::string first_error;
};

size_t open_files(int pid) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(
         "/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

/// One edge: windows back to back until `until` (now_ms()).
void edge(const std::string& address, const std::string& token, int id,
          const std::vector<frame>& frames, double until, tally& t) {
  try {
    client c{address};
    c.register_camera("soak-" + std::to_string(id), token);
    for (uint32_t w = 0; now_ms() < until;) {
      try {
        auto r = c.update(w, frames, 1);
        std::lock_guard<std::mutex> guard{t.mtx};
        t.reply_ms.push_back(r.round_trip_ms);
        ++w;
      } catch (const rpc_error& e) {
        auto wait = retry_after_s(e);
        if (wait < 0)
          throw;
        {
          std::lock_guard<std::mutex> guard{t.mtx};
          ++t.busy;
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      }
    }
    c.close_session();
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> guard{t.mtx};
    if (t.errors++ == 0)
      t.first_error = e.what();
  }
}

void report(const char* when, int pid, tally& t, double t0) {
  std::lock_guard<std::mutex> guard{t.mtx};
  std::printf(
    "%-10s %6.0f s: recld RSS %7.1f MiB, %4zu open files; %6zu "
    "windows answered, reply p50 %6.0f ms, p95 %6.0f ms; %llu "
    "refused as busy, %llu errors\n",
    when, (now_ms() - t0) / 1000, test::rss_bytes(pid) / 1048576.0,
    open_files(pid), t.reply_ms.size(), bench::percentile(t.reply_ms, 50),
    bench::percentile(t.reply_ms, 95), static_cast<unsigned long long>(t.busy),
    static_cast<unsigned long long>(t.errors));
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-soak", "[options]",
            "Many edges against one recld for a while: memory, open files, "
            "reply times and refusals."};
  bench::add_data_option(o)
    .add("edges", "N", "edges sending at once", "64")
    .add("seconds", "S", "how long they send", "600")
    .add("warmup", "S", "seconds before the first measurement", "60")
    .add("frames", "N", "frames per window", "4")
    .add("clip", "ID", "catalog clip the frames come from", "udacity-lanes-day")
    .add("max-windows-in-flight", "N", "recld's limit", "32");
  return run_command(o, argc, argv, [&] {
    auto data = bench::data_folder(o);
    if (data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    auto n = static_cast<int>(o.get_int("edges", 1, 4096));
    auto seconds = o.get_double("seconds", 1, 86400);
    auto warmup = o.get_double("warmup", 0, seconds);
    auto frames = bench::sample_frames(
      data, o.get("clip"), static_cast<size_t>(o.get_int("frames", 1, 256)),
      640);
    test::temp_dir dir;
    test::process d{test::bin("recld"),
                    {"--data-dir", dir.path() + "/data", "--listen",
                     "127.0.0.1:0", "--data", data, "--base-expert", "none",
                     "--log-level", "warning", "--max-windows-in-flight",
                     o.get("max-windows-in-flight")}};
    auto address = test::recld_address(d);
    auto token = trim(read_file(dir.path() + "/data/auth-token"));
    std::printf("soak: %d edges, %zu frames per window, %.0f s (warm-up "
                "%.0f s), --max-windows-in-flight %s; recld pid %d\n",
                n, frames.size(), seconds, warmup,
                o.get("max-windows-in-flight").c_str(), d.pid());
    tally t;
    auto t0 = now_ms();
    std::vector<std::thread> edges;
    for (int i = 0; i < n; ++i)
      edges.emplace_back(edge, address, token, i, std::cref(frames),
                         t0 + seconds * 1000, std::ref(t));
    report("start", d.pid(), t, t0);
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
    report("warmed up", d.pid(), t, t0);
    for (auto& e : edges)
      e.join();
    report("end", d.pid(), t, t0);
    if (t.errors > 0)
      std::printf("first error: %s\n", t.first_error.c_str());
    d.signal(SIGTERM);
    int rc = d.wait(60);
    std::printf("recld exited %d\n", rc);
    return t.errors == 0 && rc == 0 ? 0 : 1;
  });
}
