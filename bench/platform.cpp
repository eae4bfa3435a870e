// recl-bench-platform: what one window costs on this machine.
//
//  1. the teacher alone, in process: JPEG decode and YOLOX-Nano (and HOG)
//     ms/frame on real 640 px frames;
//  2. a real recld over loopback RPC: round trip of a 32-frame window and its
//     breakdown (transfer, queue, decode, teacher, other), median of N.

#include "bench/data.hpp"
#include "common/settings.hpp"
#include "bench/stats.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "gpu/teacher.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <csignal>
#include <numeric>
#include <cstdio>
#include <iostream>
#include <opencv2/imgcodecs.hpp>

using namespace recl;
using bench::median;
using bench::sample_frames;

int main(int argc, char** argv) {
  options o{"recl-bench-platform", "[options]",
            "Measures the teacher per frame and a window's round trip through "
            "a real recld."};
  bench::add_data_option(o)
    .add("clip", "ID", "catalog clip to take frames from", "udacity-lanes-day")
    .add("frames", "N", "frames per window", "32")
    .add("width", "PX", "frame width sent", "640")
    .add("windows", "N", "windows to time through recld", "5");
  std::string data;
  int64_t nframes = 32, width = 640, nwindows = 5;
  return run_command(o, argc, argv, [&] {
    data = bench::data_folder(o);
    nframes = o.get_int("frames", 1, 1024);
    width = o.get_int("width", 32, 4096);
    nwindows = o.get_int("windows", 1, 1000);
    if (data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    auto frames
      = sample_frames(data, o.get("clip"), static_cast<size_t>(nframes),
                      static_cast<int>(width));
    uint64_t bytes = 0;
    for (auto& f : frames)
      bytes += f.bytes.size();
    std::printf("frames: %zu from %s, JPEG %d px wide, %s in all\n",
                frames.size(), o.get("clip").c_str(), static_cast<int>(width),
                human_bytes(bytes).c_str());

    // 1. The teacher in process.
    std::vector<cv::Mat> decoded;
    auto t0 = now_ms();
    for (auto& f : frames)
      decoded.push_back(cv::imdecode(f.bytes, cv::IMREAD_COLOR));
    auto decode_ms = (now_ms() - t0) / frames.size();
    std::printf("decode: %.2f ms/frame (%dx%d)\n", decode_ms, decoded[0].cols,
                decoded[0].rows);
    for (std::string spec :
         {"yolox:" + data + "/models/yolox_nano.onnx", std::string{"hog"}}) {
      teacher_options topts;
      topts.spec = spec;
      auto t = make_teacher(topts);
      t->detect(decoded[0]); // warm-up
      std::vector<double> ms;
      size_t boxes = 0;
      for (auto& img : decoded) {
        auto s = now_ms();
        boxes += t->detect(img).size();
        ms.push_back(now_ms() - s);
      }
      std::printf("teacher %-45s median %6.1f ms/frame, mean %6.1f, %.1f "
                  "boxes/frame\n",
                  t->describe().substr(0, 45).c_str(), median(ms),
                  std::accumulate(ms.begin(), ms.end(), 0.0) / ms.size(),
                  double(boxes) / decoded.size());
    }

    // 2. A real daemon over loopback.
    test::temp_dir dir;
    test::process d{test::bin("recld"),
                    {"--data-dir", dir.path() + "/data", "--listen",
                     "127.0.0.1:0", "--data", data, "--log-level", "warning"}};
    auto address = test::recld_address(d);
    auto token = trim(read_file(dir.path() + "/data/auth-token"));
    client c{address};
    c.register_camera("bench", token);
    c.update(0, {frames[0]}, 1); // warm-up
    std::vector<double> rtt, transfer, queue, dec, teach, other;
    for (int64_t w = 0; w < nwindows; ++w) {
      auto r = c.update(static_cast<uint32_t>(w + 1), frames, 1);
      rtt.push_back(r.round_trip_ms);
      transfer.push_back(r.round_trip_ms - r.time.total_ms);
      queue.push_back(r.time.queue_ms);
      dec.push_back(r.time.decode_ms);
      teach.push_back(r.time.teacher_ms);
      other.push_back(r.time.total_ms - r.time.queue_ms - r.time.decode_ms
                      - r.time.teacher_ms);
      std::printf("window %lld: round trip %.0f ms\n",
                  static_cast<long long>(w + 1), r.round_trip_ms);
      std::fflush(stdout);
    }
    c.close_session();
    d.signal(SIGTERM);
    auto rc = d.wait(30);
    std::printf("\nwindow of %zu frames (%s) through recld, median of %lld:\n",
                frames.size(), human_bytes(bytes).c_str(),
                static_cast<long long>(nwindows));
    std::printf("  round trip %8.1f ms\n", median(rtt));
    std::printf("  transfer   %8.1f ms  (client RTT minus server time: RPC, "
                "copies)\n",
                median(transfer));
    std::printf("  queue      %8.1f ms\n", median(queue));
    std::printf("  decode     %8.1f ms  (%.2f ms/frame)\n", median(dec),
                median(dec) / frames.size());
    std::printf("  teacher    %8.1f ms  (%.1f ms/frame)\n", median(teach),
                median(teach) / frames.size());
    std::printf("  other      %8.1f ms  (selection, store write, actors)\n",
                median(other));
    std::printf("recld exit code after SIGTERM: %d\n", rc);
    return rc == 0 ? 0 : 1;
  });
}
