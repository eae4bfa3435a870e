// System tests: the real recld process, real RocksDB in a temporary
// directory, real RPC over loopback, the real teacher.

#include "common/util.hpp"
#include "edge/client.hpp"
#include "schema/recl.capnp.h"
#include "tests/common/bomb.hpp"
#include "tests/system/daemon.hpp"
#include "tests/system/process.hpp"

#include <kj/async-io.h>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

using namespace recl;
using test::bin;

using namespace recl::systest;

TEST_CASE("recld: starts, serves status, and exits 0 on SIGTERM or SIGINT") {
  for (int sig : {SIGTERM, SIGINT}) {
    recld_process d;
    client c{d.address};
    auto s = c.status(d.token);
    CHECK(s.data_dir == d.dir);
    CHECK(s.cameras.empty());
    CHECK(s.store_bytes > 0);
    CHECK(d.stop(sig) == 0);
    CHECK(contains(d.proc->err(), "store closed"));
  }
}

TEST_CASE("recld: SIGTERM answers the windows in flight, refuses new ones, "
          "and exits 0") {
  recld_process d{{"--drain-seconds", "60"}};
  client c{d.address};
  c.register_camera("cam-drain", d.token);
  // The signal lands while a long window (32 frames for the teacher) is in
  // flight.
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    d.proc->signal(SIGTERM);
  });
  auto t0 = now_ms();
  auto r = c.update(0, frames(32), 1);
  stopper.join();
  MESSAGE("the window in flight was answered after " << now_ms() - t0 << " ms");
  CHECK(r.labels.size() == 32);
  CHECK(r.window == 0);
  // A window after the signal is refused (or finds the server gone).
  auto late = rpc_failure([&] { c.update(1, frames(1), 1); });
  CHECK((contains(late, "shutting_down") || contains(late, "disconnected")));
  CHECK(d.proc->wait(60) == 0);
  CHECK(contains(d.proc->err(), "finishing the windows in flight"));
}

TEST_CASE("recld: a first start makes the base expert from the shipped "
          "weights, or says how"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  test::temp_dir tmp;
  auto cache = tmp.path() + "/cache";
  test::process p{"/usr/bin/env",
                  {"RECL_CACHE=" + cache, bin("recld"), "--data-dir",
                   tmp.path() + "/data", "--listen", "127.0.0.1:0", "--data",
                   data}};
  auto line = p.wait_for_line("recld listening on", 180);
  REQUIRE_MESSAGE(!line.empty(), p.err());
  CHECK(std::filesystem::exists(cache + "/yolox_nano.pt"));
  p.signal(SIGTERM);
  CHECK(p.wait(60) == 0);
  CHECK(contains(p.err(), "no base expert yet: making"));
  CHECK(contains(p.err(), "base expert " + cache + "/yolox_nano.pt"));
  // Where it cannot be made, recld stops and prints the command.
  auto r = test::run("/usr/bin/env",
                     {"RECL_CACHE=/proc/no-such-place", bin("recld"),
                      "--data-dir", tmp.path() + "/data2", "--listen",
                      "127.0.0.1:0", "--data", data},
                     120);
  CHECK(r.code == 1);
  CHECK(contains(r.err, "recl-convert --onnx"));
}

TEST_CASE("recld: the data directory is closed to other users") {
  recld_process d;
  namespace fs = std::filesystem;
  CHECK((fs::status(d.dir).permissions() & fs::perms::all)
        == fs::perms::owner_all);
  for (auto& e : fs::recursive_directory_iterator(d.dir))
    if (e.is_regular_file())
      CHECK_MESSAGE((e.status().permissions()
                     & (fs::perms::group_all | fs::perms::others_all))
                      == fs::perms::none,
                    e.path());
  CHECK(d.stop() == 0);
}

TEST_CASE("recld: a second daemon on the same data directory is refused") {
  recld_process d;
  auto r = test::run(bin("recld"), {"--data-dir", d.dir, "--listen",
                                    "127.0.0.1:0", "--teacher", "hog"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "in use by another recld"));
  // The first one is unharmed.
  client c{d.address};
  CHECK(c.status(d.token).data_dir == d.dir);
  CHECK(d.stop() == 0);
}

TEST_CASE("commands: --help, and bad settings refused with one line") {
  for (auto name : {"recld", "recl-edge", "recl-admin"}) {
    auto r = test::run(bin(name), {"--help"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "usage: " + std::string{name}));
  }
  test::temp_dir tmp;
  auto dd = tmp.path() + "/d";
  auto conf0 = tmp.path() + "/ca.pem";
  write_file_atomic(conf0, "not read\n");
  auto bad
    = [&](std::vector<std::string> args, int code, const std::string& says) {
        auto r = test::run(bin("recld"), args);
        CHECK_MESSAGE(r.code == code, r.err);
        // The reason is the last line; a usage error is the only line.
        auto lines = split(trim(r.err), '\n');
        CHECK_MESSAGE(contains(lines.back(), says), r.err);
        CHECK(lines.back().rfind("recld: ", 0) == 0);
        if (code == 2)
          CHECK(lines.size() == 1);
      };
  bad({}, 2, "--data-dir is required");
  bad({"--data-dir", dd, "--listen", "nowhere"}, 2,
      "--listen: 'nowhere' is not HOST:PORT");
  bad({"--data-dir", dd, "--max-frames", "many"}, 2,
      "--max-frames: 'many' is not an integer");
  bad({"--data-dir", dd, "--top-k", "0"}, 2, "--top-k: 0 is out of range");
  bad({"--data-dir", dd, "--classes", "car,unicorn"}, 2,
      "'unicorn' is not a COCO class");
  bad({"--data-dir", dd, "--teacher-input", "400x400"}, 2, "--teacher-input");
  bad({"--data-dir", dd, "--teacher", "magic"}, 2, "--teacher");
  bad({"--data-dir", dd, "--teacher-flip", "maybe"}, 2,
      "--teacher-flip: 'maybe' is neither on nor off");
  bad({"--data-dir", dd, "--teacher-extra-input", "100"}, 2,
      "--teacher-extra-input: must be a multiple of 32");
  bad({"--data-dir", dd, "--teacher", "yolox:/nonexistent.onnx"}, 1,
      "cannot load");
  bad({"--data-dir", dd, "--bogus"}, 2, "unknown option '--bogus'");
  bad({"--join", "127.0.0.1:7460"}, 2,
      "--join needs --cluster-cert (node links are TLS with certificates)");
  bad({"--data-dir", dd, "--join", "a:1", "--cluster-listen", "b:2"}, 2,
      "either listens for workers (--cluster-listen) or joins");
  bad({"--data-dir", dd, "--cluster-ca", conf0}, 2,
      "--cluster-ca: needs --cluster-listen or --join");
  bad({"--data-dir", dd, "--labelers", "0"}, 2,
      "--labelers: 0 needs --cluster-listen");
  bad({"--data-dir", dd, "--devices", "none"}, 2,
      "--devices: none needs --cluster-listen");
  auto conf = tmp.path() + "/recld.conf";
  write_file_atomic(conf, "listen = 127.0.0.1:0\nmax-frames = lots\n");
  bad({"--data-dir", dd, "--config", conf}, 2,
      conf + ":2: max-frames: 'lots' is not an integer");
  write_file_atomic(conf, "colour = blue\n");
  bad({"--data-dir", dd, "--config", conf}, 2,
      conf + ":1: unknown setting 'colour'");
  auto edge = test::run(bin("recl-edge"), {"--camera", "c"});
  CHECK(edge.code == 2);
  CHECK(contains(edge.err, "--source is required"));
  auto admin = test::run(bin("recl-admin"), {"frobnicate"});
  CHECK(admin.code == 2);
  CHECK(contains(admin.err, "unknown command 'frobnicate'"));
}

TEST_CASE("recld: settings come from a config file") {
  test::temp_dir tmp;
  auto conf = tmp.path() + "/recld.conf";
  write_file_atomic(conf, "# test\nmax-frames = 3\ntoken = configured-secret\n"
                          "teacher-flip = on\n");
  recld_process d{{"--config", conf, "--token", "cli-wins-secret"}};
  client c{d.address};
  CHECK(contains(rpc_failure([&] { c.status("configured-secret"); }),
                 "unauthorized"));
  // The teacher runs on each frame and its mirror.
  CHECK(contains(c.status("cli-wins-secret").teacher, ", flip"));
  auto limits = c.register_camera("cfg", "cli-wins-secret");
  CHECK(limits.max_frames == 3);
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: wrong tokens and bad camera ids are refused") {
  recld_process d;
  client c{d.address};
  CHECK(contains(rpc_failure([&] { c.register_camera("cam", "wrong-token"); }),
                 "unauthorized: wrong token"));
  CHECK(contains(rpc_failure([&] { c.status(""); }), "unauthorized"));
  CHECK(contains(rpc_failure([&] { c.register_camera("no spaces!", d.token); }),
                 "bad_camera_id"));
  CHECK(contains(rpc_failure([&] { c.update(0, frames(1), 1); }),
                 "register first"));
  // Nothing was created by the refused calls.
  CHECK(c.status(d.token).cameras.empty());
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: bad windows get a clear error and the session goes on") {
  recld_process d{{"--max-frames", "4", "--max-frame-mib", "1"}};
  client c{d.address};
  c.register_camera("cam-bad", d.token);
  CHECK(contains(rpc_failure([&] { c.update(0, {}, 1); }),
                 "bad_window: camera cam-bad, window 0: no frames"));
  auto junk = frames(3);
  std::string text = "GIF89a but not really";
  junk[2].bytes.assign(text.begin(), text.end());
  CHECK(contains(rpc_failure([&] { c.update(1, junk, 1); }),
                 "bad_frame: camera cam-bad, window 1, frame 2: not a "
                 "decodable image"));
  CHECK(contains(rpc_failure([&] { c.update(2, frames(5), 1); }),
                 "limit_exceeded: camera cam-bad, window 2: 5 frames; the "
                 "limit is 4"));
  // A 32000x32000 bomb in a few hundred bytes: refused from its header at
  // once, never decoded.
  auto bomb = frames(2);
  bomb[1].bytes = test::jpeg_claiming(32000, 32000);
  auto t0 = now_ms();
  CHECK(contains(rpc_failure([&] { c.update(3, bomb, 1); }),
                 "limit_exceeded: camera cam-bad, window 3, frame 1: its jpeg "
                 "header says 32000x32000"));
  CHECK(now_ms() - t0 < 5000);
  auto big = frames(1);
  big[0].bytes.resize(1536 * 1024, 0xff);
  CHECK(contains(rpc_failure([&] { c.update(4, big, 1); }),
                 "limit_exceeded: camera cam-bad, window 4, frame 0"));
  // The same session still works, and only good windows were counted.
  auto r = c.update(5, frames(2), 1);
  CHECK(r.labels.size() == 2);
  CHECK(r.window == 5);
  auto s = c.status(d.token);
  CHECK(windows_of(s, "cam-bad") == 1);
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: a message over the size limit is refused, the server lives") {
  recld_process d{{"--max-message-mib", "1"}};
  {
    client big{d.address, 64ull << 20}; // this side allows large messages
    big.register_camera("cam-big", d.token);
    std::vector<frame> fat(3);
    for (auto& f : fat)
      f.bytes.assign(700 * 1024, 0x42);
    auto why = rpc_failure([&] { big.update(0, fat, 1); });
    CHECK(why != "(no error)");
    MESSAGE("oversized message: " << why);
  }
  CHECK(d.proc->running());
  client c{d.address};
  c.register_camera("cam-after", d.token);
  CHECK(c.update(0, frames(1), 1).labels.size() == 1);
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: closed and superseded sessions are refused") {
  recld_process d;
  client a{d.address};
  a.register_camera("cam-s", d.token);
  a.update(0, frames(1), 1);
  a.close_session();
  CHECK(contains(rpc_failure([&] { a.update(1, frames(1), 1); }),
                 "session_closed: camera cam-s: the session was closed"));
  client b{d.address};
  b.register_camera("cam-s", d.token);
  client b2{d.address};
  b2.register_camera("cam-s", d.token); // same camera again
  CHECK(contains(rpc_failure([&] { b.update(1, frames(1), 1); }),
                 "registered again"));
  CHECK(b2.update(1, frames(1), 1).window == 1);
  CHECK(windows_of(b2.status(d.token), "cam-s") == 2);
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: an edge killed mid-request does not hurt") {
  recld_process d;
  {
    // A real edge sends its first window and is killed before the reply.
    test::process edge{bin("recl-edge"),
                       {"--server", d.address, "--camera", "cam-gone",
                        "--token", d.token, "--source",
                        "/usr/share/doc/opencv-doc/examples/data/vtest.avi",
                        "--window-seconds", "4", "--sample-fps", "4"}};
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    edge.signal(SIGKILL);
    edge.wait(10);
  }
  CHECK(d.proc->running());
  client c{d.address};
  c.register_camera("cam-next", d.token);
  CHECK(c.update(0, frames(1), 1).labels.size() == 1);
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: before the token is shown, a peer gets a small limit, a "
          "deadline and a share of the connections") {
  recld_process d{
    {"--handshake-timeout", "1", "--max-connections-per-peer", "4"}};
  auto port = d.address.substr(d.address.rfind(':') + 1);
  auto rss0 = test::rss_bytes(d.proc->pid());
  {
    // A message that claims 256 MiB: closed at its header, nothing kept.
    std::vector<test::raw_socket> big;
    for (int i = 0; i < 4; ++i) {
      big.emplace_back("127.0.0.1", port);
      uint32_t header[2] = {0, 32u << 20}; // 1 segment of 32 Mi words
      big.back().send(header, sizeof header);
      std::vector<char> junk(1 << 20, 'j');
      big.back().send(junk.data(), junk.size());
    }
    for (auto& s : big)
      CHECK(s.closed_within(2.0));
  }
  CHECK(test::rss_bytes(d.proc->pid()) < rss0 + (64u << 20));
  {
    // Idle connections: closed after the handshake timeout; a fifth one
    // from the same address at once.
    std::vector<test::raw_socket> idle;
    for (int i = 0; i < 4; ++i)
      idle.emplace_back("127.0.0.1", port);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    test::raw_socket fifth{"127.0.0.1", port};
    CHECK(fifth.closed_within(0.5));
    CHECK_FALSE(idle[0].closed_within(0.3));
    for (auto& s : idle)
      CHECK(s.closed_within(2.0));
  }
  // Then real clients get in.
  client c{d.address};
  c.register_camera("cam-ok", d.token);
  CHECK(c.update(0, frames(1), 1).labels.size() == 1);
  CHECK(d.proc->running());
  CHECK(d.stop() == 0);
}

TEST_CASE("rpc: wrong tokens are answered ever more slowly and logged in "
          "aggregate") {
  recld_process d;
  auto t0 = now_ms();
  for (int i = 0; i < 7; ++i) {
    client bad{d.address};
    CHECK(contains(rpc_failure([&] { bad.status("wrong-token"); }),
                   "unauthorized: wrong token"));
  }
  auto took = now_ms() - t0;
  MESSAGE("7 wrong tokens took " << took << " ms");
  CHECK(took > 50 + 100 + 200 + 400 + 800 + 1600 + 3200 - 100);
  // The right token is not slowed down.
  t0 = now_ms();
  client good{d.address};
  CHECK(good.status(d.token).cameras.empty());
  CHECK(now_ms() - t0 < 2000);
  CHECK(d.stop() == 0);
  auto err = d.proc->err() + d.proc->out();
  size_t lines = 0;
  for (size_t p = 0;
       (p = err.find("wrong token(s) from", p)) != std::string::npos; ++p)
    ++lines;
  CHECK(lines == 1); // the 1st only; the 10th would be next
}

TEST_CASE(
  "end to end: recl-edge plays real video and state survives a restart") {
  auto data = test::data_dir();
  std::string source = data.empty()
                         ? "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
                         : "catalog:bgs-highway-02";
  if (data.empty() && !std::ifstream{source}) {
    MESSAGE("SKIPPED: neither shared data nor opencv-doc's vtest.avi");
    return;
  }
  test::temp_dir tmp;
  auto dir = tmp.path() + "/data";
  {
    recld_process d{{}, dir};
    auto r = test::run(bin("recl-edge"),
                       {"--server", d.address, "--camera", "edge-1", "--source",
                        source, "--windows", "2", "--window-seconds", "3",
                        "--sample-fps", "1", "--token-file",
                        dir + "/auth-token", "--data", data});
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(contains(r.out, "[edge-1] window 0: 3 frames"));
    CHECK(contains(r.out, "[edge-1] window 1: 3 frames"));
    CHECK(contains(r.out, "boxes/frame"));
    CHECK(contains(r.out, "done: 2 windows"));
    auto a
      = test::run(bin("recl-admin"), {"--server", d.address, "--token-file",
                                      dir + "/auth-token", "status", "--json"});
    REQUIRE_MESSAGE(a.code == 0, a.err);
    auto j = nlohmann::json::parse(a.out);
    REQUIRE(j["cameras"].size() == 1);
    CHECK(j["cameras"][0]["id"] == "edge-1");
    CHECK(j["cameras"][0]["windows"] == 2);
    CHECK(j["cameras"][0]["last_reply_ms"].get<double>() > 0);
    CHECK(j["store_bytes"].get<uint64_t>() > 0);
    CHECK(d.stop() == 0);
  }
  recld_process again{{}, dir};
  client c{again.address};
  auto s = c.status(again.token);
  CHECK(windows_of(s, "edge-1") == 2);
  CHECK(again.stop() == 0);
}

TEST_CASE("storage: a full disk is an error the edge sees, and recld lives and "
          "recovers"
          * doctest::skip(!test::small_disk{1}.mounted())) {
  test::small_disk disk{48};
  REQUIRE_MESSAGE(disk.mounted(), disk.why());
  recld_process d{
    {"--store-reserve-mib", "8", "--metrics-listen", "127.0.0.1:0"},
    disk.path() + "/data"};
  auto metrics = d.metrics_port();
  client c{d.address};
  c.register_camera("cam-disk", d.token);
  CHECK(c.update(0, frames(2), 1).saved);
  CHECK(contains(test::http(metrics, "GET", "/readyz"), "200 OK"));
  disk.fill(4 << 20); // less than the reserve
  for (uint32_t w = 1; w <= 3; ++w) {
    auto r = c.update(w, frames(2), 1);
    CHECK(r.labels.size() == 2); // the labels still come
    CHECK_FALSE(r.saved);
    CHECK(contains(r.note, "disk full"));
  }
  auto s = c.status(d.token);
  CHECK(contains(s.store_fault, "disk full"));
  CHECK(s.store_free_bytes < (8u << 20));
  CHECK(d.proc->running());
  // Load balancers see it: alive, not ready, and why.
  CHECK(contains(test::http(metrics, "GET", "/healthz"), "200 OK"));
  auto ready = test::http(metrics, "GET", "/readyz");
  CHECK(contains(ready, "503 Service Unavailable"));
  CHECK(contains(ready, "store not writable"));
  // Space returns: the next window is saved, with nothing lost before it.
  disk.unfill();
  CHECK(c.update(4, frames(2), 1).saved);
  s = c.status(d.token);
  CHECK(s.store_fault.empty());
  CHECK(windows_of(s, "cam-disk") == 5);
  CHECK(contains(test::http(metrics, "GET", "/readyz"), "200 OK"));
  CHECK(d.stop() == 0);
  // What was acknowledged survives a restart.
  recld_process again{{"--store-reserve-mib", "8"}, disk.path() + "/data"};
  client c2{again.address};
  CHECK(windows_of(c2.status(again.token), "cam-disk") == 5);
  CHECK(again.stop() == 0);
}
