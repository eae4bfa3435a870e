// The adaptation loop end to end: the real recld with expert models, real
// edges on real video over loopback RPC, the real store. Replay clock, so
// that what is trained does not depend on this machine's speed.

#include "actors/records.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/live_daemon.hpp"
#include "tests/system/process.hpp"

#include <csignal>
#include <unistd.h>
#include <cstdlib>
#include <cstdio>
#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

using namespace recl;
using namespace recl::systest;

namespace {

/// What the store holds, read directly (the live_daemon must be down).
struct zoo_on_disk {
  std::set<std::string> info, weights, queue, gating;
};

zoo_on_disk read_zoo(const std::string& dir) {
  zoo_on_disk z;
  auto db = store::open(dir);
  db->scan(family::experts, "", [&](std::string_view k, std::string_view) {
    auto key = std::string{k};
    auto slash = key.find('/');
    auto kind = key.substr(0, slash);
    auto id = key.substr(slash + 1);
    if (kind == "info")
      z.info.insert(id);
    else if (kind == "weights")
      z.weights.insert(id);
    else if (kind == "queue")
      z.queue.insert(id);
    return true;
  });
  if (auto index = db->get(family::gating, keys::gating_index))
    for (auto& id : decode_gating_index(*index).experts)
      z.gating.insert(id);
  return z;
}

} // namespace

TEST_CASE_FIXTURE(
  one_place, "adaptation: the zoo grows and a later camera is served an expert "
             "trained for another"
               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 6);
  // Gating serves; "compare" also scores ODIN's and the oracle's picks.
  live_daemon d{tmp.path() + "/data", data, {"--selector", "compare"}};
  // Camera A plays two clips of the place (one window each).
  auto a = d.edge("cam-a", {place[1], place[2]}, data);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  CHECK(contains(a.out, "[cam-a] window 0: 10 frames"));
  CHECK(contains(a.out, "swap to base (base)")); // the edge ran nothing
  // Its retrained models reach the zoo when their budgets are spent.
  CHECK(d.await_idle(120));
  auto z = d.await_zoo(1, 30);
  REQUIRE_MESSAGE(z["size"].get<size_t>() >= 1, z.dump());
  for (auto& e : z["experts"]) {
    CHECK(e["origin_camera"] == "cam-a");
    CHECK(e["weight_bytes"].get<uint64_t>() > 100000);
  }
  // Camera B, a later clip of the same place: served a zoo expert at once.
  auto b = d.edge("cam-b", {place[4]}, data);
  REQUIRE_MESSAGE(b.code == 0, b.err);
  MESSAGE(a.out << b.out);
  CHECK(contains(b.out, "[cam-b] window 0: 10 frames"));
  CHECK(contains(b.out, "swap to e-cam-a-"));
  CHECK(contains(b.out, "(zoo)"));
  // The same zoo through three selectors: the best expert bounds both.
  {
    auto at = b.out.find("same zoo: gating's pick ");
    REQUIRE_MESSAGE(at != std::string::npos, b.out);
    float g = -2, o = -2, best = -2;
    REQUIRE(std::sscanf(b.out.c_str() + at,
                        "same zoo: gating's pick %f, ODIN's %f, best expert %f",
                        &g, &o, &best)
            == 3);
    CHECK(best >= 0);
    CHECK(g >= 0);
    CHECK(o >= 0); // ODIN's centroids exist once the zoo admitted
    CHECK(g <= best);
    CHECK(o <= best);
  }
  CHECK_FALSE(contains(a.out.substr(0, a.out.find("window 1")), "same zoo"));
  auto cams = d.admin("cameras");
  bool found = false;
  for (auto& c : cams["cameras"])
    if (c["id"] == "cam-b") {
      found = true;
      CHECK(c["model_id"].get<std::string>().rfind("e-cam-a-", 0) == 0);
    }
  CHECK(found);
  // The scheduler granted micro-windows to both cameras' jobs.
  CHECK(d.await_idle(120));
  auto s = d.admin("scheduler");
  CHECK(s["policy"] == "recl");
  CHECK(s["clock"] == "replay");
  std::set<std::string> jobs;
  for (auto& g : s["recent"])
    jobs.insert(g["job"].get<std::string>().substr(0, 5));
  CHECK(jobs.count("cam-a") == 1);
  CHECK(jobs.count("cam-b") == 1);
  // Selections are logged: pruning by id works and leaves the rest.
  auto z2 = d.admin("zoo");
  auto victim = z2["experts"][0]["id"].get<std::string>();
  auto pr = test::run(bin("recl-admin"), {"--server", d.address, "--token",
                                          d.token, "prune", victim});
  CHECK_MESSAGE(pr.code == 0, pr.err);
  CHECK(contains(pr.out, victim));
  // (An admission may land meanwhile: check the victim, not the size.)
  auto after = d.admin("zoo"); // (a loop over a temporary's member dangles)
  for (auto& e : after["experts"])
    CHECK(e["id"] != victim);
  auto bad = test::run(bin("recl-admin"), {"--server", d.address, "--token",
                                           d.token, "prune", "no-such"});
  CHECK(bad.code == 1);
  CHECK(contains(bad.err, "unknown_expert"));
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  auto disk = read_zoo(d.dir);
  CHECK(disk.info == disk.weights);
  CHECK(disk.info == disk.gating);
  CHECK(disk.info.count(victim) == 0);
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: kill -9 during admission leaves the old zoo or the new "
  "one, never a mix"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 3);
  for (std::string point : {"admit-prepared", "admit-written"}) {
    CAPTURE(point);
    test::temp_dir tmp;
    auto dir = tmp.path() + "/data";
    std::string model_before;
    {
      ::setenv("RECL_CRASH_AT", point.c_str(), 1);
      live_daemon d{dir, data};
      ::unsetenv("RECL_CRASH_AT");
      auto a = d.edge("cam-a", {place[1]}, data, 1);
      REQUIRE_MESSAGE(a.code == 0, a.err);
      auto cams = d.admin("cameras");
      model_before = cams["cameras"][0]["model_id"].get<std::string>();
      // The job ends after its budget; admission then kills the process.
      CHECK(d.proc->wait(120) == 128 + SIGKILL);
    }
    auto disk = read_zoo(dir);
    CHECK(disk.info == disk.weights);
    CHECK(disk.info == disk.gating);
    if (point == "admit-prepared") {
      CHECK(disk.info.empty());      // the old zoo ...
      CHECK(disk.queue.size() == 1); // ... with the candidate still queued
    } else {
      CHECK(disk.info.size() == 1); // the new zoo, complete
      CHECK(disk.queue.empty());
    }
    // Restart: a queue at gamma is admitted; the camera keeps its model.
    live_daemon again{dir, data};
    auto z = again.await_zoo(1, 60);
    CHECK(z["size"] == 1);
    auto cams = again.admin("cameras");
    REQUIRE(cams["cameras"].size() == 1);
    CHECK(cams["cameras"][0]["model_id"] == model_before);
    again.proc->signal(SIGTERM);
    CHECK(again.proc->wait(60) == 0);
    auto after = read_zoo(dir);
    CHECK(after.info.size() == 1);
    CHECK(after.info == after.gating);
    CHECK(after.queue.empty());
  }
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: ekya profiles out of band and odin proposes zoo experts "
  "in the real daemon"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 5);
  live_daemon d{tmp.path() + "/data",
                data,
                {"--scheduler", "ekya", "--profile-epochs", "1", "--selector",
                 "odin", "--budget", "3"}};
  auto a = d.edge("cam-a", {place[1]}, data, 1);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  CHECK(d.await_idle(120));
  auto s = d.admin("scheduler");
  CHECK(s["policy"] == "ekya");
  CHECK(s["profiling"].get<double>() >= 1.0); // one profiling epoch, paid
  bool profiled = false, trained = false;
  for (auto& g : s["recent"]) {
    profiled = profiled || g["profile"].get<bool>();
    trained = trained || !g["profile"].get<bool>();
  }
  CHECK(profiled);
  CHECK(trained);
  auto z = d.await_zoo(1, 30);
  REQUIRE(z["size"] == 1);
  // ODIN proposes the zoo's expert to the next camera: it is evaluated.
  auto b = d.edge("cam-b", {place[3]}, data, 1);
  REQUIRE_MESSAGE(b.code == 0, b.err);
  CHECK(contains(b.out, "zoo 1, 2 candidates"));
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: a failed GPU owner is restarted and the daemon goes on "
  "serving"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 3);
  ::setenv("RECL_CRASH_AT", "gpu-owner-evaluate", 1);
  live_daemon d{tmp.path() + "/data", data};
  ::unsetenv("RECL_CRASH_AT");
  auto a = d.edge("cam-a", {place[1], place[2]}, data, 2);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  // Window 0's safety check hit the failure: the edge kept its model ...
  CHECK(contains(a.out, "[cam-a] window 0: 10 frames"));
  CHECK(contains(a.out, "kept (none)"));
  // ... and window 1 was served by the restarted GPU owner.
  CHECK(contains(a.out, "swap to base (base)"));
  CHECK(d.proc->running());
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  CHECK(contains(d.proc->err(), "gpu-owner failed"));
  CHECK(contains(d.proc->err(), "restarted it"));
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: a model too large for the RPC message limit is not served"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 2);
  live_daemon d{tmp.path() + "/data", data, {"--max-message-mib", "1"}};
  auto a = d.edge("cam-a", {place[1]}, data, 1);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  CHECK(contains(a.out, "kept (none)")); // the 3.7 MiB expert does not fit
  CHECK(d.proc->running());
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  CHECK(contains(d.proc->err(), "does not fit the RPC message limit"));
}

TEST_CASE_FIXTURE(
  one_place,
  "storage: a camera keeps at most two retrained models, and unnamed ones "
  "are dropped at start"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 6);
  auto dir = tmp.path() + "/data";
  // A retrained model no camera names, as a crash could leave behind.
  store::open(dir)->put(family::experts, keys::model("r-ghost-3"), "weights");
  live_daemon d{dir, data};
  auto a = d.edge("cam-a", {place[1], place[2], place[3], place[5]}, data);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  CHECK(d.await_idle(120));
  d.proc->signal(SIGTERM);
  REQUIRE(d.proc->wait(60) == 0);
  auto db = store::open(dir);
  std::set<std::string> models;
  db->scan(family::experts, keys::retrained_prefix,
           [&](std::string_view k, std::string_view) {
             models.insert(std::string{k.substr(keys::model_prefix.size())});
             return true;
           });
  MESSAGE("retrained models on disk: " << models.size());
  CHECK(models.count("r-ghost-3") == 0);
  CHECK(models.size() >= 1);
  CHECK(models.size() <= 2);
  // What the camera's record names is among them.
  auto rec = db->get(family::cameras, "cam-a");
  REQUIRE(rec);
  for (auto& m : models)
    CHECK(contains(*rec, m));
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: with --train-windows 2 each job also trains on the camera's "
  "previous window, and is measured on its own"
    * doctest::skip(test::data_dir().empty())) {
  live_daemon d{tmp.path() + "/data", data, {"--train-windows", "2"}};
  auto a = d.edge("cam-h", {place[1], place[2], place[3]}, data, 3);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  REQUIRE(d.await_idle(120));
  // "job cam-h/W ended: M micro-windows on F frames (H from earlier
  // windows)": three of every four of a window's frames train, the fourth
  // is held out; the previous window's frames all train.
  auto log = d.proc->err();
  auto job = [&](int w) {
    std::smatch m;
    std::regex re{"job cam-h/" + std::to_string(w)
                  + " ended: [0-9]+ micro-windows on ([0-9]+) frames "
                    "\\(([0-9]+) from earlier windows\\)"};
    REQUIRE_MESSAGE(std::regex_search(log, m, re), log);
    return std::make_pair(std::stoi(m[1]), std::stoi(m[2]));
  };
  auto sent = [&](int w) { // the frames the edge sent in window w
    std::smatch m;
    std::regex re{"\\[cam-h\\] window " + std::to_string(w)
                  + ": ([0-9]+) frames"};
    REQUIRE_MESSAGE(std::regex_search(a.out, m, re), a.out);
    return std::stoi(m[1]);
  };
  auto own = [](int n) { return n - n / 4; }; // every fourth is held out
  auto [f0, h0] = job(0);
  auto [f1, h1] = job(1);
  auto [f2, h2] = job(2);
  CHECK(h0 == 0);
  CHECK(f0 == own(sent(0)));
  CHECK(h1 == sent(0));
  CHECK(f1 == sent(0) + own(sent(1)));
  CHECK(h2 == sent(1)); // only the one window before it
  CHECK(f2 == sent(1) + own(sent(2)));
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: an edge that disconnects shows offline at once, while "
  "its retraining job goes on"
    * doctest::skip(test::data_dir().empty())) {
  // Wall clock: the window's job trains for 30 s after the reply.
  live_daemon d{
    tmp.path() + "/data", data, {"--clock", "wall", "--window-seconds", "30"}};
  auto jpeg = read_file(data + "/images/bus.jpg");
  {
    client edge{d.address};
    edge.register_camera("cam-gone", d.token);
    std::vector<frame> frames;
    for (uint64_t i = 0; i < 4; ++i)
      frames.push_back(frame{{jpeg.begin(), jpeg.end()}, i * 500});
    edge.update(0, frames, 2);
    CHECK(d.admin("status")["cameras"][0]["connected"] == true);
  } // the edge hangs up without closing its session
  auto until = now_ms() + 5000;
  auto status = d.admin("status");
  while (status["cameras"][0]["connected"] == true && now_ms() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = d.admin("status");
  }
  CHECK(status["cameras"][0]["connected"] == false);
  CHECK(!d.admin("scheduler")["jobs"].empty()); // still training
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
}

TEST_CASE_FIXTURE(
  one_place, "adaptation: over --store-budget-mib nothing is admitted, and "
             "the edges are served as before"
               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 3);
  // A budget smaller than the store itself: every admission is refused.
  live_daemon d{tmp.path() + "/data",
                data,
                {"--store-budget-mib", "1", "--metrics-listen", "127.0.0.1:0"}};
  auto line = d.proc->wait_for_line("recld metrics on", 10);
  auto port = line.substr(line.rfind(':') + 1);
  port = port.substr(0, port.find('/'));
  auto a = d.edge("cam-a", {place[1], place[2]}, data);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  CHECK(contains(a.out, "[cam-a] done: 2 windows"));
  CHECK(d.await_idle(120));
  CHECK(d.admin("zoo")["size"] == 0);
  // Operators see the refusals counted.
  auto m = test::http(port, "GET", "/metrics");
  CHECK(contains(m, "\nrecl_zoo_admitted_total 0\n"));
  CHECK_FALSE(contains(m, "\nrecl_zoo_refused_total 0\n"));
  CHECK(contains(m, "\nrecl_zoo_refused_total "));
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  CHECK(contains(d.proc->err(), "over its budget of 1.0 MiB"));
}
