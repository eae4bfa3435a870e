// Nodes (recld --cluster-listen / --join, actors/cluster.cpp): a real
// coordinator and real worker processes on loopback, joined over CAF's
// middleman with TLS both ways, serving real edges.

#include "actors/cluster_protocol.hpp"
#include "gpu/expert.hpp"
#include "tests/system/certificate.hpp"
#include "tests/system/live_daemon.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
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

/// A worker node joining `nodes` (HOST:PORT) with one device, `labelers`
/// teacher instances, the base expert `base` (default: the coordinator's)
/// and `extra`. It learns with the coordinator's settings: it is given
/// none of its own.
std::unique_ptr<test::process>
worker(const std::string& nodes, const std::string& name,
       const std::string& data, const test::certificate& cert, int labelers = 0,
       const std::string& base = test::pretrained_archive(),
       const std::vector<std::string>& extra = {}) {
  auto args = cat(cat({"--join", nodes, "--node-name", name, "--devices",
                       "cpu:1", "--labelers", std::to_string(labelers),
                       "--data", data, "--base-expert", base, "--threads", "2"},
                      tls_args(cert)),
                  extra);
  return std::make_unique<test::process>(bin("recld"), args);
}

/// Says hello at the door on `nodes` (HOST:PORT), as a node named "old"
/// that speaks cluster protocol `protocol`: why it was refused, or "" when
/// welcomed.
std::string hello_as(const std::string& nodes, const test::certificate& c,
                     uint32_t protocol) {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = c.cert;
  cfg.openssl_key = c.key;
  cfg.openssl_cafile = c.cert;
  caf::actor_system sys{cfg};
  auto ep = parse_endpoint(nodes);
  auto door = caf::openssl::remote_actor<door_actor>(sys, ep.host, ep.port);
  if (!door)
    return "no link: " + sys.render(door.error());
  caf::scoped_actor self{sys};
  std::string why;
  self
    ->request(*door, std::chrono::seconds(30), hello_atom_v, std::string{"old"},
              protocol)
    .receive([](caf::actor&, node_welcome&) {},
             [&](caf::error& e) { why = describe(e); });
  return why;
}

/// recl-admin nodes after the run: the coordinator's own device and
/// labeler, w1 and w2 gone (w2's labeler too), w3 up with cam-c's job done
/// and what crossed its link.
void check_nodes(live_daemon& d) {
  std::map<std::string, nlohmann::json> by_name;
  auto report = d.admin("nodes");
  for (auto& n : report["nodes"])
    by_name[n["name"].get<std::string>()] = n;
  REQUIRE(by_name.size() == 4);
  CHECK(by_name["coordinator"]["link"] == "local");
  // Its GPU owner and its labeler.
  CHECK(by_name["coordinator"]["devices"].size() == 2);
  CHECK(by_name["w1"]["link"] == "gone");
  CHECK(by_name["w2"]["link"] == "gone");
  // w2's labeler labelled at least cam-a's first window before it left.
  auto& w2 = by_name["w2"]["devices"];
  REQUIRE(w2.size() == 2);
  CHECK(w2[1]["device"] == "labeler:0");
  CHECK(w2[1]["link"] == "gone");
  CHECK(w2[1]["requests"].get<uint64_t>() >= 1);
  auto& w3 = by_name["w3"];
  CHECK(w3["link"] == "up");
  CHECK(w3["role"] == "worker");
  REQUIRE(w3["devices"].size() == 1);
  CHECK(w3["devices"][0]["device"] == "cpu:0"); // cpu:1 is one owner, cpu:0
  CHECK(w3["devices"][0]["requests"].get<uint64_t>() >= 1);
  CHECK(w3["devices"][0]["grants"].get<uint64_t>() >= 1);
  CHECK(w3["devices"][0]["jobs"] == 0);
  // w3 read the gating network and wrote cam-c's retrained model; any
  // model's weights it read crossed once (its owner caches them).
  auto& link = w3["store"];
  CHECK(link["bytes_sent"].get<uint64_t>() > 0);
  CHECK(link["bytes_received"].get<uint64_t>() > 100000);
  CHECK(link["experts_sent"] == link["experts_moved"]);
  auto text = test::run(bin("recl-admin"),
                        {"--server", d.address, "--token", d.token, "nodes"});
  CHECK(contains(text.out, "w3  worker, link up"));
  CHECK(contains(text.out, "w1  worker, link gone"));
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
  auto w2 = worker(nodes, "w2", data, good, 1);
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

  // Every worker learns as the coordinator says (replay clock, budget 3),
  // and says so of a learning setting of its own; one whose base expert
  // has other weights is refused, and says why.
  CHECK(contains(w1->err(), "clock replay, budget 3"));
  auto other = tmp.path() + "/other-base.pt";
  expert::blank()->save(other);
  auto odd = worker(nodes, "odd", data, good, 0, other, {"--budget", "7"});
  bool refused = false;
  for (int i = 0; i < 300 && !refused; ++i) {
    refused = contains(odd->err(), "is not the coordinator's");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_MESSAGE(refused, odd->err());
  CHECK(contains(odd->err(), "coordinator's settings: --budget not used"));

  // With labelers, the teacher's model must be the coordinator's too.
  auto onnx = tmp.path() + "/other-teacher.onnx";
  std::filesystem::copy_file(data + "/models/yolox_nano.onnx", onnx);
  std::ofstream{onnx, std::ios::app} << "x";
  auto odd2 = worker(nodes, "odd2", data, good, 1, test::pretrained_archive(),
                     {"--teacher", "yolox:" + onnx});
  refused = false;
  for (int i = 0; i < 300 && !refused; ++i) {
    refused = contains(odd2->err(), "teacher (yolox:" + onnx
                                      + ") is not the "
                                        "coordinator's");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_MESSAGE(refused, odd2->err());
  odd2->signal(SIGTERM);
  CHECK(odd2->wait(30) == 0);
  CHECK_FALSE(contains(d.proc->err(), "odd2/labeler:0"));
  odd->signal(SIGTERM);
  CHECK(odd->wait(30) == 0);
  CHECK_FALSE(contains(odd->out(), "joined"));
  CHECK_FALSE(contains(d.proc->err(), "odd/cpu:0"));

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
  // w2 offered a labeler, and the first window went to it (ties go to a
  // worker's).
  CHECK(contains(d.proc->err(), "w2/labeler:0 joined"));
  CHECK(contains(d.proc->err(), " ms on w2/labeler:0, "));
  // The zoo is whole: every expert it lists has its weights.
  // (The reply is kept: a loop over a part of a temporary would dangle.)
  auto zoo = d.admin("zoo");
  for (auto& e : zoo["experts"])
    CHECK(e["weight_bytes"].get<uint64_t>() > 100000);

  // w2 leaves cleanly; w3 joins later and gets the next job.
  w2->signal(SIGTERM);
  CHECK(w2->wait(60) == 0);
  // (cam-c's window is labelled here: w2's labeler left with it.)
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
  check_nodes(d);
  w3->signal(SIGTERM);
  CHECK(w3->wait(60) == 0);
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
}

TEST_CASE_FIXTURE(one_place, "nodes: a coordinator without labelers or "
                             "devices of its own says so, then works through "
                             "a worker's, which joins again by itself when "
                             "the coordinator restarts, keeping its labeler"
                               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 2);
  test::certificate cert{tmp.path(), "recl-node"};
  live_daemon d{tmp.path() + "/data", data,
                cat({"--devices", "none", "--labelers", "0", "--cluster-listen",
                     "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
                    tls_args(cert))};
  auto metrics = d.proc->wait_for_line("recld metrics on", 10);
  REQUIRE(!metrics.empty());
  metrics = metrics.substr(metrics.rfind(':') + 1);
  metrics = metrics.substr(0, metrics.find('/'));
  auto out = d.proc->out();
  auto at = out.find("recld nodes on ");
  REQUIRE(at != std::string::npos);
  auto nodes = out.substr(at + 15, out.find('\n', at) - at - 15);
  CHECK(contains(d.admin("status")["teacher"].get<std::string>(),
                 "(on worker nodes)"));
  // A node built from code whose messages differ is refused at hello, by
  // name, before anything else crosses.
  auto why = hello_as(nodes, cert, cluster_protocol + 1);
  CHECK_MESSAGE(contains(why, "node old: it speaks cluster protocol "
                                + std::to_string(cluster_protocol + 1)),
                why);
  // Said once: a refused worker tries again every second.
  CHECK_FALSE(hello_as(nodes, cert, cluster_protocol + 1).empty());
  auto log = d.proc->err();
  auto first = log.find("node old refused");
  CHECK(first != std::string::npos);
  CHECK(log.find("node old refused", first + 1) == std::string::npos);
  CHECK_FALSE(contains(d.proc->err(), "node old connected"));
  auto alone = d.edge("cam-a", {place[0]}, data, 1);
  CHECK(alone.code != 0);
  CHECK_MESSAGE(contains(alone.out + alone.err, "no labeler"), alone.out);
  auto none = d.admin("nodes")["nodes"];
  REQUIRE(none.size() == 1);
  CHECK(none[0]["devices"].empty());
  auto w1 = worker(nodes, "w1", data, cert, 1);
  REQUIRE(!w1->wait_for_line("recld worker w1 joined", 30).empty());
  auto served = d.edge("cam-a", {place[1]}, data, 1);
  CHECK_MESSAGE(served.code == 0, served.err);
  CHECK(contains(served.out, "[cam-a] window 0: 10 frames"));
  CHECK(contains(d.proc->err(), " ms on w1/labeler:0, "));
  // The labels came back without the frames; the coordinator kept them, so
  // the check and the job on w1 had them. The trip is the link's time.
  CHECK(contains(d.proc->err(), "cam-a/0 trains on w1/cpu:0"));
  auto m = test::http(metrics, "GET", "/metrics");
  auto link = m.find("{part=\"link\"} ");
  REQUIRE(link != std::string::npos);
  CHECK(std::stod(m.substr(link + 14)) > 0);
  CHECK(d.await_idle(120));

  // The coordinator restarts on the same port and data: w1 joins again by
  // itself, its teacher still loaded, and serves the next edge.
  d.proc->signal(SIGTERM);
  CHECK(d.proc->wait(60) == 0);
  live_daemon again{
    d.dir, data,
    cat({"--devices", "none", "--labelers", "0", "--cluster-listen", nodes},
        tls_args(cert))};
  // (Its first "joined" line was read above.)
  REQUIRE_MESSAGE(!w1->wait_for_line("recld worker w1 joined", 90).empty(),
                  w1->err());
  CHECK(contains(w1->err(), "lost the coordinator"));
  CHECK(contains(w1->err(), "keeps its 1 labeler(s)"));
  auto later = again.edge("cam-b", {place[0]}, data, 1);
  CHECK_MESSAGE(later.code == 0, later.err);
  CHECK(contains(again.proc->err(), " ms on w1/labeler:0, "));
  CHECK(contains(again.proc->err(), "cam-b/0 trains on w1/cpu:0"));
  CHECK(again.await_idle(120));
  w1->signal(SIGTERM);
  CHECK(w1->wait(60) == 0);
  again.proc->signal(SIGTERM);
  CHECK(again.proc->wait(60) == 0);
}
