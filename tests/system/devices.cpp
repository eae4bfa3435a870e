// Several devices in one process (recld --devices cpu:2): one GPU owner
// each behind the pool, against the real daemon and real edges.

#include "tests/system/live_daemon.hpp"

#include <csignal>
#include <map>
#include <set>

using namespace recl;
using namespace recl::systest;

TEST_CASE_FIXTURE(
  one_place,
  "devices: with cpu:2 two cameras' overlapping jobs train on owners "
  "of their own, each with its whole budget, and the zoo reaches "
  "both owners"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 7);
  live_daemon d{tmp.path() + "/data", data, {"--devices", "cpu:2"}};
  // Two edges at once: their jobs live at the same time.
  test::process a{bin("recl-edge"),
                  d.edge_args("cam-a", {place[1], place[2]}, data)};
  test::process b{bin("recl-edge"),
                  d.edge_args("cam-b", {place[3], place[4]}, data)};
  CHECK(a.wait(300) == 0);
  CHECK(b.wait(300) == 0);
  CHECK(d.await_idle(120));
  auto s = d.admin("scheduler");
  CHECK(s["devices"] == 2);
  // Every job ran on one device, and each device ran a job: with the replay
  // clock each device grants its own micro-windows, so no job shared one
  // (on one device two live jobs split the budget of 3 between them).
  std::map<std::string, std::set<std::string>> devices_of;
  std::map<std::string, int> grants_of;
  std::set<std::string> used;
  for (auto& g : s["recent"]) {
    auto job = g["job"].get<std::string>();
    devices_of[job].insert(g["device"].get<std::string>());
    grants_of[job] += 1;
    used.insert(g["device"].get<std::string>());
  }
  MESSAGE(s.dump());
  CHECK(used == std::set<std::string>{"cpu:0", "cpu:1"});
  CHECK(grants_of.size() == 4); // two windows per camera
  for (auto& [job, ds] : devices_of) {
    CHECK_MESSAGE(ds.size() == 1, job);
    CHECK_MESSAGE(grants_of[job] == 3, job);
  }
  // recl-admin nodes: this node alone, with both devices and their grants.
  auto nodes = d.admin("nodes")["nodes"];
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0]["role"] == "coordinator");
  CHECK(nodes[0]["link"] == "local");
  CHECK_FALSE(nodes[0].contains("store"));
  REQUIRE(nodes[0]["devices"].size() == 2);
  uint64_t granted = 0;
  for (auto& dev : nodes[0]["devices"]) {
    CHECK(dev["link"] == "local");
    CHECK(dev["requests"].get<uint64_t>() >= 2);
    granted += dev["grants"].get<uint64_t>();
  }
  CHECK(granted == 12);
  // Admissions were prepared on one owner; the other read them from the
  // store. A later camera's two windows are checked on both owners (the
  // first window's job keeps one busy), and each check has the whole zoo's
  // gating behind it: zoo experts proposed (every expert with K = 10), plus
  // the edge's model or the base.
  auto z = d.await_zoo(2, 60);
  REQUIRE_MESSAGE(z["size"].get<size_t>() >= 2, z.dump());
  auto n = z["size"].get<size_t>();
  auto c = d.edge("cam-c", {place[5], place[6]}, data);
  REQUIRE_MESSAGE(c.code == 0, c.err);
  for (auto w :
       {"[cam-c] window 0: 10 frames", "[cam-c] window 1: 10 frames"}) {
    REQUIRE_MESSAGE(contains(c.out, w), c.out);
    auto line = c.out.substr(c.out.find(w));
    line = line.substr(0, line.find('\n'));
    CHECK_MESSAGE(contains(line, "zoo " + std::to_string(n) + ", "), line);
    bool proposed = contains(line, std::to_string(n + 1) + " candidates")
                    || contains(line, std::to_string(n + 2) + " candidates");
    CHECK_MESSAGE(proposed, line);
  }
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  CHECK(contains(d.proc->err(), "2 devices, one GPU owner each"));
  CHECK(contains(d.proc->err(), "from the store"));
}

TEST_CASE_FIXTURE(
  one_place, "devices: an owner that fails is started again on its device and "
             "the daemon goes on serving"
               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 3);
  ::setenv("RECL_CRASH_AT", "gpu-owner-evaluate", 1);
  live_daemon d{tmp.path() + "/data", data, {"--devices", "cpu:2"}};
  ::unsetenv("RECL_CRASH_AT");
  auto a = d.edge("cam-a", {place[1], place[2]}, data, 2);
  REQUIRE_MESSAGE(a.code == 0, a.err);
  // Window 0's check hit the failure: the edge kept its model; window 1 was
  // served (by either owner, the failed one started again).
  CHECK(contains(a.out, "kept (none)"));
  CHECK(contains(a.out, "swap to base (base)"));
  CHECK(d.admin("scheduler")["devices"] == 2);
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  CHECK(contains(d.proc->err(), "failed"));
  CHECK(contains(d.proc->err(), "starting it again"));
}
