// recl-bench-cluster: what a coordinator costs and what crosses its links.
// A real coordinator (recld --cluster-listen) and N real worker processes
// (recld --join, one device and --worker-labelers teacher instances each)
// on loopback, with TLS, serve E real edges (recl-edge on catalog clips, W
// windows each) on the replay clock, as tests/system/cluster.cpp does.
// With workers the coordinator has --coordinator-devices (default none)
// and labels nothing itself (unless --worker-labelers 0), so its CPU time
// is its own work; without them it has one device and one labeler. Once
// the edges are done and every job has ended it reads the coordinator's
// /metrics, `recl-admin nodes`, the kernel's byte counts of the node links
// (ss) and the coordinator's CPU time, and prints for each --workers entry:
//   - windows per minute: the edges' windows over the time they took;
//   - messages per window over node links: requests to the workers' GPU
//     owners and the workers' requests to the store (each a round trip);
//   - bytes per window over node links: TCP payload both ways (TLS too);
//   - bytes per model moved, and whether a model crossed to a worker more
//     than once;
//   - the coordinator's own time per window: the reply time less the parts
//     spent waiting for the device, the teacher or a transfer (queue, which
//     holds the replay clock's wait, decode, teacher, select, check, fetch:
//     the served model's weights from a GPU owner, and link: the frames'
//     trip to a worker's labeler and the labels' back), as a mean over all
//     windows (/metrics) and as the median and largest of the windows (the
//     edges' "other"); the fetch and link times on their own, and the
//     coordinator's CPU seconds per window.

#include "actors/metrics.hpp"
#include "bench/data.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "tests/gpu/weights.hpp"
#include "tests/system/certificate.hpp"
#include "tests/system/process.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <unistd.h>

using namespace recl;

namespace {

const std::string token = "bench-cluster";

/// Every place of the catalog with its clips, in catalog order.
std::vector<std::vector<std::string>> places(const std::string& data) {
  std::vector<std::vector<std::string>> out;
  std::map<std::string, size_t> index;
  std::ifstream in{data + "/catalog.tsv"};
  std::string line;
  std::getline(in, line); // the header
  while (std::getline(in, line)) {
    auto cols = split(line, '\t');
    if (cols.size() < 9 || cols[2] != "video")
      continue;
    auto [at, fresh] = index.emplace(cols[8], out.size());
    if (fresh)
      out.emplace_back();
    out[at->second].push_back(cols[0]);
  }
  return out;
}

/// What one run measured.
struct outcome {
  size_t workers = 0;
  uint64_t windows = 0;
  double wall_s = 0;
  double cpu_s = 0;           ///< the coordinator's, user and system
  double overhead_ms = 0;     ///< per window (see the top of the file)
  double fetch_ms = 0;        ///< per window
  double link_ms = 0;         ///< per window
  std::vector<double> own_ms; ///< each window's, as its edge printed it
  double reply_ms = 0;        ///< per window
  uint64_t messages = 0;      ///< over node links
  uint64_t tcp_bytes = 0;     ///< over node links, both ways
  uint64_t expert_sends = 0, experts_moved = 0, expert_bytes = 0;
  nlohmann::json nodes;
};

/// The value of a /metrics line that starts with `name` (0 when absent).
double metric(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? 0
                                 : std::stod(text.substr(at + name.size() + 2));
}

/// The coordinator's reply time and own time per window, from /metrics.
void read_metrics(const std::string& port, outcome& r) {
  auto text = test::http(port, "GET", "/metrics");
  auto n = metric(text, "recl_reply_seconds_count");
  if (n <= 0)
    throw std::runtime_error("the coordinator answered no windows");
  auto part = [&](const std::string& name) {
    return metric(text, "recl_reply_part_seconds_total{part=\"" + name + "\"}");
  };
  double waits = 0;
  for (auto p : reply_parts)
    waits += part(p);
  auto total = metric(text, "recl_reply_seconds_sum");
  r.reply_ms = 1000 * total / n;
  r.overhead_ms = 1000 * (total - waits) / n;
  r.fetch_ms = 1000 * part("fetch") / n;
  r.link_ms = 1000 * part("link") / n;
}

/// TCP bytes both ways on the established connections of local `port`.
uint64_t link_bytes(const std::string& port) {
  auto ss = test::run("/usr/bin/ss", {"-tinH", "state", "established",
                                      "( sport = :" + port + " )"});
  uint64_t out = 0;
  std::regex field{R"(bytes_(sent|received):(\d+))"};
  for (std::sregex_iterator i{ss.out.begin(), ss.out.end(), field}, end;
       i != end; ++i)
    out += std::stoull((*i)[2]);
  return out;
}

/// A process's CPU seconds so far, from /proc/PID/stat.
double cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat{std::istreambuf_iterator<char>{in}, {}};
  auto fields = split(stat.substr(stat.rfind(')') + 2), ' ');
  // utime and stime are fields 14 and 15; the split starts at field 3.
  return (std::stod(fields.at(11)) + std::stod(fields.at(12)))
         / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// The text after `prefix` on the first line of `p`'s stdout holding it.
std::string line_after(test::process& p, const std::string& prefix) {
  auto line = p.wait_for_line(prefix, 60);
  if (line.empty())
    throw std::runtime_error("no '" + prefix + "' from recld: " + p.err());
  return line.substr(line.find(prefix) + prefix.size());
}

/// Sums the workers' link traffic from `recl-admin nodes --json`.
void read_nodes(const std::string& address, outcome& r) {
  auto a = test::run(test::bin("recl-admin"), {"--server", address, "--token",
                                               token, "nodes", "--json"});
  if (a.code != 0)
    throw std::runtime_error("recl-admin nodes: " + a.err);
  r.nodes = nlohmann::json::parse(a.out)["nodes"];
  for (auto& n : r.nodes) {
    if (n["role"] != "worker")
      continue;
    for (auto& d : n["devices"])
      r.messages += d["requests"].get<uint64_t>();
    if (!n.contains("store"))
      continue;
    auto& s = n["store"];
    r.messages += s["requests"].get<uint64_t>();
    r.expert_sends += s["experts_sent"].get<uint64_t>();
    r.experts_moved += s["experts_moved"].get<uint64_t>();
    r.expert_bytes += s["expert_bytes"].get<uint64_t>();
  }
}

/// Polls the scheduler until no job is live; false after `timeout_s`.
bool await_idle(const std::string& address, double timeout_s) {
  auto until = now_ms() + timeout_s * 1000;
  while (now_ms() < until) {
    auto a = test::run(test::bin("recl-admin"), {"--server", address, "--token",
                                                 token, "scheduler", "--json"});
    if (a.code == 0 && nlohmann::json::parse(a.out)["jobs"].empty())
      return true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return false;
}

struct bench_settings {
  std::string data;
  size_t edges = 4;
  int windows = 3;
  std::string threads = "1";
  uint32_t worker_labelers = 1;             ///< 0: the coordinator labels
  std::string coordinator_devices = "none"; ///< with workers
};

std::vector<std::string> learning_args(const bench_settings& b) {
  return {"--data",       b.data,   "--base-expert", test::pretrained_archive(),
          "--clock",      "replay", "--budget",      "3",
          "--gamma",      "1",      "--alpha",       "0",
          "--generalist", "off",    "--threads",     b.threads,
          "--log-level",  "warning"};
}

std::vector<std::string> cat(std::vector<std::string> a,
                             const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// Plays the edges against a coordinator with `workers` worker nodes.
outcome run_once(const bench_settings& b, size_t workers) {
  test::temp_dir dir;
  test::certificate cert{dir.path(), "recl-node"};
  std::vector<std::string> tls{"--cluster-cert", cert.cert,
                               "--cluster-key",  cert.key,
                               "--cluster-ca",   cert.cert};
  auto own_labelers = workers > 0 && b.worker_labelers > 0 ? "0" : "1";
  auto own_devices = workers > 0 ? b.coordinator_devices : "cpu:1";
  test::process coordinator{
    test::bin("recld"),
    cat(cat({"--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:0",
             "--token", token, "--metrics-listen", "127.0.0.1:0",
             "--cluster-listen", "127.0.0.1:0", "--devices", own_devices,
             "--labelers", own_labelers},
            learning_args(b)),
        tls)};
  auto door = line_after(coordinator, "recld nodes on ");
  auto address = test::recld_address(coordinator);
  auto metrics = line_after(coordinator, "recld metrics on http://");
  metrics = metrics.substr(metrics.rfind(':') + 1);
  metrics = metrics.substr(0, metrics.find('/'));
  std::vector<std::unique_ptr<test::process>> nodes;
  for (size_t i = 0; i < workers; ++i) {
    auto name = "w" + std::to_string(i + 1);
    nodes.push_back(std::make_unique<test::process>(
      test::bin("recld"),
      // It learns with the coordinator's settings.
      cat({"--join", door, "--node-name", name, "--devices", "cpu:1",
           "--labelers", std::to_string(b.worker_labelers), "--data", b.data,
           "--base-expert", test::pretrained_archive(), "--threads", b.threads,
           "--log-level", "warning"},
          tls)));
    line_after(*nodes.back(), "recld worker " + name + " joined");
  }
  auto where = places(b.data);
  outcome r;
  r.workers = workers;
  auto cpu0 = cpu_seconds(coordinator.pid());
  auto t0 = now_ms();
  std::vector<std::unique_ptr<test::process>> edges;
  for (size_t i = 0; i < b.edges; ++i) {
    std::string src = "catalog:";
    for (auto& c : where[i % where.size()])
      src += (src.back() == ':' ? "" : ",") + c;
    edges.push_back(std::make_unique<test::process>(
      test::bin("recl-edge"),
      std::vector<std::string>{
        "--server", address, "--camera", "cam-" + std::to_string(i), "--source",
        src, "--window-seconds", "5", "--sample-fps", "2", "--windows",
        std::to_string(b.windows), "--token", token, "--data", b.data}));
  }
  for (auto& e : edges) {
    if (e->wait(3600) != 0)
      throw std::runtime_error("an edge failed: " + e->err());
    std::smatch m;
    auto out = e->out();
    if (std::regex_search(out, m, std::regex{R"(done: (\d+) windows)"}))
      r.windows += std::stoull(m[1]);
    std::regex other{R"(\+ other ([0-9.]+))"};
    for (std::sregex_iterator i{out.begin(), out.end(), other}, end; i != end;
         ++i)
      r.own_ms.push_back(std::stod((*i)[1]));
  }
  r.wall_s = (now_ms() - t0) / 1000;
  if (!await_idle(address, 600))
    throw std::runtime_error("jobs still live 600 s after the last window");
  r.cpu_s = cpu_seconds(coordinator.pid()) - cpu0;
  read_metrics(metrics, r);
  read_nodes(address, r);
  r.tcp_bytes = link_bytes(door.substr(door.rfind(':') + 1));
  return r;
}

void print(const bench_settings& b, const std::vector<outcome>& rs) {
  std::printf("\n%zu edges x %d windows (5 s, 2 frames/s), replay clock, "
              "budget 3. Without workers the coordinator has one device "
              "(cpu:1) and one labeler; with them, devices '%s' and %s, and "
              "each worker one device and %u labeler(s).\n\n",
              b.edges, b.windows, b.coordinator_devices.c_str(),
              b.worker_labelers > 0 ? "no labeler" : "one labeler",
              b.worker_labelers);
  std::printf("| workers | windows | wall s | windows/min | reply ms | "
              "coordinator own ms: mean, median, max | fetch ms | link ms | "
              "coordinator CPU s | link messages | link KiB | model sends "
              "(distinct) | KiB per model sent |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto& r : rs) {
    auto w = static_cast<double>(std::max<uint64_t>(1, r.windows));
    auto own = r.own_ms;
    std::sort(own.begin(), own.end());
    auto median = own.empty() ? 0 : own[own.size() / 2];
    auto most = own.empty() ? 0 : own.back();
    std::printf("| %zu | %llu | %.0f | %.2f | %.0f | %.1f, %.1f, %.1f | %.1f "
                "| %.1f | %.2f | %.1f | %.0f | %llu (%llu) | %.0f |\n",
                r.workers, static_cast<unsigned long long>(r.windows), r.wall_s,
                60 * r.windows / r.wall_s, r.reply_ms, r.overhead_ms, median,
                most, r.fetch_ms, r.link_ms, r.cpu_s / w, r.messages / w,
                r.tcp_bytes / w / 1024,
                static_cast<unsigned long long>(r.expert_sends),
                static_cast<unsigned long long>(r.experts_moved),
                r.expert_sends ? r.expert_bytes / 1024.0 / r.expert_sends : 0);
  }
  std::printf("\n(per window: reply, own time, fetch, link, CPU, messages and "
              "KiB; own time: the reply time less queue, decode, teacher, "
              "select, check, fetch and link)\n");
  for (auto& r : rs) {
    std::printf("\nnodes with %zu workers:\n", r.workers);
    for (auto& n : r.nodes)
      for (auto& d : n["devices"])
        std::printf("  %-12s %-8s %-7s %4llu requests %4llu grants  busy "
                    "%3.0f%%\n",
                    n["name"].get<std::string>().c_str(),
                    d["device"].get<std::string>().c_str(),
                    d["link"].get<std::string>().c_str(),
                    d["requests"].get<unsigned long long>(),
                    d["grants"].get<unsigned long long>(),
                    100 * d["busy_share"].get<double>());
  }
}

} // namespace

int main(int argc, char** argv) {
  options o{"recl-bench-cluster", "[options]",
            "A coordinator and worker nodes on loopback serving real edges: "
            "windows per minute, messages and bytes per window over node "
            "links, bytes per model moved, the coordinator's own time per "
            "window."};
  bench::add_data_option(o)
    .add("workers", "LIST", "worker node counts, one run each", "0,2")
    .add("edges", "N", "edges playing at once (each its own place)", "4")
    .add("windows", "N", "windows per edge", "3")
    .add("threads", "N", "LibTorch threads per process", "1")
    .add("coordinator-devices", "LIST",
         "the coordinator's own --devices when there are workers (without "
         "them: cpu:1)",
         "none")
    .add("worker-labelers", "N",
         "teacher instances per worker (0: the coordinator labels; else it "
         "has none)",
         "1");
  return run_command(o, argc, argv, [&] {
    bench_settings b;
    b.data = bench::data_folder(o);
    if (b.data.empty())
      throw usage_error("no shared data: set RECL_DATA or --data");
    b.edges = static_cast<size_t>(o.get_int("edges", 1, 64));
    b.windows = static_cast<int>(o.get_int("windows", 1, 1000));
    b.threads = std::to_string(o.get_int("threads", 0, 64));
    b.worker_labelers
      = static_cast<uint32_t>(o.get_int("worker-labelers", 0, 16));
    b.coordinator_devices = o.get("coordinator-devices");
    std::vector<size_t> counts;
    for (auto& x : split(o.get("workers"), ',')) {
      try {
        counts.push_back(static_cast<size_t>(std::stoul(x)));
      } catch (const std::exception&) {
        o.fail("workers", "'" + x + "' is not a count");
      }
      if (counts.back() > 8)
        o.fail("workers", "at most 8 workers on one machine");
    }
    std::vector<outcome> rs;
    for (auto n : counts) {
      std::printf("run: %zu workers ...\n", n);
      std::fflush(stdout);
      rs.push_back(run_once(b, n));
    }
    print(b, rs);
    return 0;
  });
}
