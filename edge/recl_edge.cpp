// recl-edge: plays a camera against recld. Reads a video, a folder of frames
// or catalog clips, samples frames, sends one window every --window-seconds
// of stream time, and prints a line per window.

#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/catalog.hpp"
#include "edge/client.hpp"
#include "edge/frame_source.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

using namespace recl;

namespace {

options make_options() {
  options o{"recl-edge", "--server HOST:PORT --camera ID --source PATH [options]",
            "An edge camera client: samples frames from PATH (a video file, a "
            "folder of\nframes, or catalog:ID[,ID...]) and queries recld every "
            "model-update window."};
  o.add("server", "HOST:PORT", "recld's address", "127.0.0.1:7450")
    .add("camera", "ID", "this camera's id (1-64 of A-Z a-z 0-9 . _ -)")
    .add("source", "PATH", "video file, folder of frames, or catalog:ID,...")
    .add("windows", "N", "stop after N windows (0 = until the source ends)",
         "0")
    .add("window-seconds", "T", "model-update window in stream seconds", "30")
    .add("sample-fps", "F", "frames sampled per stream second (the server may "
                            "change it)",
         "1")
    .add("frame-width", "PX", "shrink frames wider than this before sending",
         "640")
    .add("jpeg-quality", "Q", "JPEG quality", "90")
    .add("folder-fps", "F", "frame rate of a folder of frames", "1")
    .add("data", "DIR", "shared data folder for catalog: sources "
                        "(default: $RECL_DATA, else ../shared/data)")
    .add("token", "SECRET", "the server's token (default: $RECL_TOKEN)")
    .add("token-file", "FILE", "read the token from FILE")
    .add_flag("realtime", "pace windows at stream speed instead of as fast as "
                          "the server answers");
  return o;
}

struct run_stats {
  uint32_t windows = 0;
  double reply_ms = 0;
  double boxes = 0;
  uint64_t frames = 0;
  double acc_sum = 0;
  uint32_t acc_n = 0;
};

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  std::string server, camera, source, data, token;
  int64_t max_windows = 0, frame_width = 640, quality = 90;
  double window_s = 30, sample_fps = 1, folder_fps = 1;
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    if (!o.positional().empty())
      throw usage_error("unexpected argument '" + o.positional()[0] + "'");
    for (auto req : {"camera", "source"})
      if (!o.given(req))
        throw usage_error(std::string{"--"} + req + " is required (see --help)");
    server = o.get("server");
    try {
      parse_endpoint(server);
    } catch (const std::invalid_argument& e) {
      o.fail("server", e.what());
    }
    camera = o.get("camera");
    if (!valid_camera_id(camera))
      o.fail("camera", "'" + camera + "' is not 1-64 of A-Z a-z 0-9 . _ -");
    source = o.get("source");
    max_windows = o.get_int("windows", 0, 1000000000);
    window_s = o.get_double("window-seconds", 0.1, 86400);
    sample_fps = o.get_double("sample-fps", 0.01, 120);
    frame_width = o.get_int("frame-width", 16, 8192);
    quality = o.get_int("jpeg-quality", 1, 100);
    folder_fps = o.get_double("folder-fps", 0.01, 1000);
    data = o.given("data") ? o.get("data") : find_data_dir();
    token = load_token(o.get("token"), o.get("token-file"));
  } catch (const usage_error& e) {
    std::cerr << "recl-edge: " << e.what() << "\n";
    return 2;
  } catch (const rpc_error& e) {
    std::cerr << "recl-edge: " << e.what() << "\n";
    return 2;
  }
  try {
    auto src = frame_source::open(source, data, folder_fps);
    client c{server};
    auto limits = c.register_camera(camera, token);
    std::printf("[%s] connected to %s, playing %s (window %.0f s, %.2f fps "
                "sampled, server takes up to %u frames)\n",
                camera.c_str(), server.c_str(), src->describe().c_str(),
                window_s, sample_fps, limits.max_frames);
    std::fflush(stdout);
    run_stats stats;
    std::vector<frame> pending;
    std::string model_id;
    double window_start = 0, next_sample = 0;
    uint32_t index = 0;
    auto started = std::chrono::steady_clock::now();
    auto send = [&]() {
      if (pending.size() > limits.max_frames)
        pending.resize(limits.max_frames);
      if (o.flag("realtime"))
        std::this_thread::sleep_until(
          started + std::chrono::duration<double>(window_start + window_s));
      auto r = c.update(index, pending, static_cast<float>(sample_fps),
                        model_id);
      size_t nboxes = 0;
      for (auto& l : r.labels)
        nboxes += l.boxes.size();
      double per_frame = r.labels.empty() ? 0 : double(nboxes) / r.labels.size();
      auto transfer = std::max(0.0, r.round_trip_ms - r.time.total_ms);
      auto other = std::max(0.0, r.time.total_ms - r.time.queue_ms
                                   - r.time.decode_ms - r.time.teacher_ms
                                   - r.time.select_ms - r.time.check_ms);
      std::string served;
      if (r.swap)
        served = "swap to " + r.model_id + " (" + r.source + ")";
      else
        served = "kept " + (model_id.empty() ? std::string{"(none)"} : model_id);
      char acc[96] = "";
      if (r.accuracy >= 0 && r.current_accuracy >= 0 && r.swap)
        std::snprintf(acc, sizeof acc, ", accuracy %.3f (was %.3f)",
                      r.accuracy, r.current_accuracy);
      else if (r.accuracy >= 0)
        std::snprintf(acc, sizeof acc, ", accuracy %.3f", r.accuracy);
      std::printf("[%s] window %u: %zu frames (%s), teacher %.1f boxes/frame "
                  "| %s%s | zoo %u, %u candidates | reply %.0f ms = transfer "
                  "%.0f + queue %.0f + decode %.0f + teacher %.0f + select "
                  "%.0f + check %.0f + other %.0f\n",
                  camera.c_str(), index, pending.size(),
                  human_bytes(r.request_bytes).c_str(), per_frame,
                  served.c_str(), acc, r.zoo_size, r.candidates,
                  r.round_trip_ms, transfer, r.time.queue_ms,
                  r.time.decode_ms, r.time.teacher_ms,
                  r.time.select_ms, r.time.check_ms, other);
      if (r.compare.oracle >= 0) // the server compares selectors
        std::printf("[%s] window %u: same zoo: gating's pick %.3f, ODIN's "
                    "%.3f, best expert %.3f\n",
                    camera.c_str(), index, r.compare.gating, r.compare.odin,
                    r.compare.oracle);
      std::fflush(stdout);
      if (r.swap)
        model_id = r.model_id;
      if (r.next_sample_fps > 0)
        sample_fps = r.next_sample_fps;
      stats.windows += 1;
      stats.reply_ms += r.round_trip_ms;
      stats.boxes += per_frame;
      stats.frames += pending.size();
      if (r.accuracy >= 0) {
        stats.acc_sum += r.accuracy;
        stats.acc_n += 1;
      }
      pending.clear();
      ++index;
    };
    cv::Mat img;
    double t = 0;
    bool done = false;
    while (!done && src->next(img, t)) {
      while (t >= window_start + window_s) {
        if (!pending.empty())
          send();
        window_start += window_s;
        if (max_windows > 0 && index >= max_windows) {
          done = true;
          break;
        }
      }
      if (done)
        break;
      if (t + 1e-9 >= next_sample) {
        pending.push_back(frame{
          encode_jpeg(img, static_cast<int>(frame_width),
                      static_cast<int>(quality)),
          static_cast<uint64_t>(t * 1000)});
        next_sample = std::max(next_sample + 1.0 / sample_fps, t + 0.5 / sample_fps);
      }
    }
    if (!done && !pending.empty() && (max_windows == 0 || index < max_windows))
      send();
    c.close_session();
    if (stats.windows == 0) {
      std::cerr << "recl-edge: the source gave no frames to send\n";
      return 1;
    }
    std::printf("[%s] done: %u windows, %llu frames, mean reply %.0f ms, "
                "%.1f teacher boxes/frame",
                camera.c_str(), stats.windows,
                static_cast<unsigned long long>(stats.frames),
                stats.reply_ms / stats.windows, stats.boxes / stats.windows);
    if (stats.acc_n > 0)
      std::printf(", mean accuracy of the served model %.3f over %u windows",
                  stats.acc_sum / stats.acc_n, stats.acc_n);
    std::printf("\n");
    return 0;
  } catch (const rpc_error& e) {
    std::cerr << "recl-edge: " << camera << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "recl-edge: " << e.what() << "\n";
    return 1;
  }
}
