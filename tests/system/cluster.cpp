// Nodes (recld --cluster-listen / --join, actors/cluster.cpp): a real
// coordinator and real worker processes on loopback, joined over CAF's
// middleman with TLS both ways, serving real edges.

#include "tests/system/certificate.hpp"
#include "tests/system/live_daemon.hpp"

#include <csignal>
#include <set>

using namespace recl;
using namespace recl::systest;

namespace {

/// A node's certificate flags: a self-signed certificate is the cluster's
/// CA and the node's certificate at once (a node with another one is a
/// stranger).
std::vector<std::string> tls_args(const test::certificate& c) {
  return {"--cluster-cert", c.cert, "--cluster-key", c.key,
          "--cluster-ca",   c.cert};
}

std::vector<std::string> cat(std::vector<std::string> a,
                             const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A worker node joining `nodes` (HOST:PORT) with one device.
std::unique_ptr<test::process> worker(const std::string& nodes,
                                      const std::string& name,
                                      const std::string& data,
                                      const test::certificate& cert) {
  auto args = cat({"--join", nodes, "--node-name", name, "--devices", "cpu:1"},
                  live_daemon::learning_args(data));
  return std::make_unique<test::process>(bin("recld"),
                                         cat(args, tls_args(cert)));
}

} // namespace

TEST_CASE_FIXTURE(one_place, "nodes: workers train the coordinator's jobs, "
                             "a stranger is refused, a worker killed with -9 "
                             "leaves every edge served, one joining later "
                             "gets work"
                               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 5);
  test::certificate good{tmp.path(), "recl-node"};
  test::certificate stranger{tmp.path(), "stranger"};
  live_daemon d{tmp.path() + "/data", data,
                cat({"--devices", "cpu:1", "--cluster-listen", "127.0.0.1:0"},
                    tls_args(good))};
  // Printed before the RPC address, which live_daemon has waited for.
  auto out = d.proc->out();
  auto at = out.find("recld nodes on ");
  REQUIRE_MESSAGE(at != std::string::npos, d.proc->err());
  auto nodes = out.substr(at + 15, out.find('\n', at) - at - 15);
  auto w1 = worker(nodes, "w1", data, good);
  auto w2 = worker(nodes, "w2", data, good);
  REQUIRE(!w1->wait_for_line("recld worker w1 joined", 30).empty());
  REQUIRE(!w2->wait_for_line("recld worker w2 joined", 30).empty());

  // A node without the cluster's certificate gets no link, hence nothing.
  auto bad = worker(nodes, "bad", data, stranger);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  bad->signal(SIGTERM);
  CHECK(bad->wait(30) == 0);
  CHECK(contains(bad->err(), "cannot join"));
  CHECK_FALSE(contains(bad->out(), "joined"));
  CHECK_FALSE(contains(d.proc->err(), "node bad connected"));

  // Two edges; the first job goes to a worker (ties prefer them), and that
  // worker is killed with -9 while it trains.
  test::process a{bin("recl-edge"),
                  d.edge_args("cam-a", {place[0], place[1]}, data)};
  test::process b{bin("recl-edge"),
                  d.edge_args("cam-b", {place[2], place[3]}, data)};
  // The pool logs where each job goes (a busy worker may be slow to report).
  bool killed = false;
  for (int i = 0; i < 1200 && !killed; ++i) {
    if (contains(d.proc->err(), "trains on w1/cpu:0")) {
      w1->signal(SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(killed);
  CHECK(a.wait(300) == 0);
  CHECK(b.wait(300) == 0);
  CHECK(contains(a.out(), "done: 2 windows"));
  CHECK(contains(b.out(), "done: 2 windows"));
  CHECK(d.await_idle(120));
  CHECK(contains(d.proc->err(), "w1/cpu:0 left"));
  // The zoo is whole: every expert it lists has its weights.
  for (auto& e : d.admin("zoo")["experts"])
    CHECK(e["weight_bytes"].get<uint64_t>() > 100000);

  // w2 leaves cleanly; w3 joins later and gets the next job.
  w2->signal(SIGTERM);
  CHECK(w2->wait(60) == 0);
  auto w3 = worker(nodes, "w3", data, good);
  REQUIRE(!w3->wait_for_line("recld worker w3 joined", 30).empty());
  auto c = d.edge("cam-c", {place[4]}, data);
  REQUIRE_MESSAGE(c.code == 0, c.err);
  CHECK(contains(d.proc->err(), "cam-c/0 trains on w3/cpu:0"));
  bool ended = false;
  for (int i = 0; i < 600 && !ended; ++i) {
    ended = contains(w3->err(), "job cam-c/0 ended");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK_MESSAGE(ended, w3->err());
  w3->signal(SIGTERM);
  CHECK(w3->wait(60) == 0);
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
}
