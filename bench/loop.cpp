// recl-bench-loop: what the adaptation loop costs on this machine.
//
//  1. Reply latency of a 32-frame window at zoo sizes 10 and 100 (a real
//     recld over loopback, the zoo and its gating network written into the
//     store beforehand), with its breakdown: queue, decode, teacher,
//     selection (gating top-K), safety check (K + 3 candidates evaluated).
//  2. The GPU owner under load: two cameras send windows back to back (wall
//     clock); from its scheduler report: the switch cost between jobs
//     (choosing the job and reaching its resident trainer) and the share of
//     the time the device was idle while jobs were live.

#include "bench/data.hpp"
#include "actors/records.hpp"
#include "bench/stats.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "gpu/device.hpp"
#include "gpu/expert.hpp"
#include "gpu/gating.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

using namespace recl;
using bench::median;
using bench::sample_frames;

namespace {

/// Writes a zoo of `n` experts (copies of the base) and a gating network
/// over them into a fresh store at `dir`, as an admission would.
void seed_zoo(const std::string& dir, const std::string& base, size_t n) {
  auto db = store::open(dir);
  auto weights = expert::load(base)->to_bytes();
  write_batch b;
  gating_index index{1, {}};
  for (size_t i = 0; i < n; ++i) {
    expert_info x;
    x.id = "e-seed-" + std::to_string(i);
    x.origin_camera = "seed";
    x.origin_window = static_cast<uint32_t>(i);
    x.weight_bytes = weights.size();
    b.put(family::experts, keys::info(x.id), encode(x));
    b.put(family::experts, keys::weights(x.id), weights);
    index.experts.push_back(x.id);
  }
  b.put(family::gating, keys::gating_checkpoint, gating{n}.to_bytes());
  b.put(family::gating, keys::gating_index, encode(index));
  db->write(b);
}

struct bench_daemon {
  test::temp_dir dir;
  std::unique_ptr<test::process> proc;
  std::string address, token = "bench-loop-token";

  bench_daemon(const std::string& data, const std::string& base, size_t zoo,
               std::vector<std::string> extra) {
    auto d = dir.path() + "/data";
    if (zoo > 0)
      seed_zoo(d, base, zoo);
    std::vector<std::string> args{
      "--data-dir",    d,    "--listen",    "127.0.0.1:0",
      "--data",        data, "--token",     token,
      "--base-expert", base, "--log-level", "warning"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<test::process>(test::bin("recld"), args);
    address = test::recld_address(*proc);
  }

  ~bench_daemon() {
    proc->signal(SIGTERM);
    proc->wait(60);
  }
};

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-loop", "[options]",
            "Measures the adaptation loop: reply latency at zoo sizes, the "
            "GPU owner's\nswitch cost and idle share."};
  bench::add_data_option(o)
    .add("clip", "ID", "catalog clip for the frames", "udacity-lanes-day")
    .add("frames", "N", "frames per window", "32")
    .add("windows", "N", "windows timed per zoo size", "3")
    .add("zoo-sizes", "LIST", "zoo sizes, comma-separated", "10,100")
    .add("load-windows", "N", "windows per camera in the load phase", "4");
  std::string data;
  int64_t nframes = 32, nwindows = 3, load_windows = 4;
  std::vector<size_t> sizes;
  return run_command(o, argc, argv, [&] {
    data = bench::data_folder(o);
    if (data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    nframes = o.get_int("frames", 1, 1024);
    nwindows = o.get_int("windows", 1, 100);
    load_windows = o.get_int("load-windows", 1, 100);
    for (auto& s : split(o.get("zoo-sizes"), ','))
      try {
        sizes.push_back(static_cast<size_t>(std::stoul(s)));
      } catch (const std::exception&) {
        o.fail("zoo-sizes", "'" + s + "' is not a number");
      }
    auto base = test::pretrained_archive();
    auto frames
      = sample_frames(data, o.get("clip"), static_cast<size_t>(nframes), 640);
    std::printf("frames: %zu from %s; base expert %s\n", frames.size(),
                o.get("clip").c_str(), base.c_str());

    // 1. Reply latency by zoo size.
    std::printf("\n%-6s %9s %8s %8s %9s %8s %8s %8s %6s\n", "zoo", "reply ms",
                "queue", "decode", "teacher", "select", "check", "other",
                "cands");
    for (auto n : sizes) {
      bench_daemon d{
        data, base, n, {"--retrain", "off", "--generalist", "off"}};
      client c{d.address};
      c.register_camera("bench", d.token);
      c.update(0, {frames[0]}, 1); // warm-up
      std::vector<double> rtt, q, de, te, se, ch, ot;
      uint32_t cands = 0;
      for (int64_t w = 0; w < nwindows; ++w) {
        // The edge runs nothing: every window is a fresh selection.
        auto r = c.update(static_cast<uint32_t>(w + 1), frames, 1, "");
        rtt.push_back(r.round_trip_ms);
        q.push_back(r.time.queue_ms);
        de.push_back(r.time.decode_ms);
        te.push_back(r.time.teacher_ms);
        se.push_back(r.time.select_ms);
        ch.push_back(r.time.check_ms);
        ot.push_back(r.round_trip_ms - r.time.queue_ms - r.time.decode_ms
                     - r.time.teacher_ms - r.time.select_ms - r.time.check_ms);
        cands = r.candidates;
      }
      c.close_session();
      std::printf("%-6zu %9.0f %8.0f %8.0f %9.0f %8.0f %8.0f %8.0f %6u\n", n,
                  median(rtt), median(q), median(de), median(te), median(se),
                  median(ch), median(ot), cands);
      std::fflush(stdout);
    }

    // 2. Two cameras keep the GPU owner busy.
    std::printf("\nload: 2 cameras x %lld windows of %zu frames, wall clock, "
                "window budget 20 s\n",
                static_cast<long long>(load_windows), frames.size());
    bench_daemon d{data, base, 0, {"--window-seconds", "20"}};
    client admin{d.address};
    auto before = admin.scheduler(d.token);
    std::vector<std::thread> cams;
    auto t0 = now_ms();
    for (int i = 0; i < 2; ++i)
      cams.emplace_back([&, i] {
        client c{d.address};
        auto id = "load-" + std::to_string(i);
        c.register_camera(id, d.token);
        std::string model;
        for (int64_t w = 0; w < load_windows; ++w) {
          auto r = c.update(static_cast<uint32_t>(w), frames, 1, model);
          if (r.swap)
            model = r.model_id;
          std::this_thread::sleep_for(std::chrono::seconds(5));
        }
        c.close_session();
      });
    for (auto& t : cams)
      t.join();
    // Let the last jobs train a while.
    std::this_thread::sleep_for(std::chrono::seconds(10));
    auto r = admin.scheduler(d.token);
    std::vector<double> sw;
    for (auto& g : r.recent)
      sw.push_back(g.switch_ms);
    auto busy = r.busy_s - before.busy_s;
    auto span = r.elapsed_s - before.elapsed_s;
    std::printf("  %llu grants in %.0f s; device busy %.1f s = %.0f%%, idle "
                "%.0f%% (priority work and micro-windows both count as busy)\n",
                static_cast<unsigned long long>(r.grants - before.grants), span,
                busy, 100 * busy / span, 100 - 100 * busy / span);
    std::printf("  load phase %.0f s\n", (now_ms() - t0) / 1000);
    if (!sw.empty())
      std::printf(
        "  switch cost: median %.4f ms, max %.4f ms over %zu grants\n",
        median(sw), *std::max_element(sw.begin(), sw.end()), sw.size());
    return 0;
  });
}
