// recl-admin: inspects a running recld through its Admin interface.

#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

using namespace recl;

namespace {

options make_options() {
  options o{"recl-admin", "[options] COMMAND",
            "Inspects and steers a running recld.\n\ncommands:\n"
            "  status      uptime, teacher, store size and every camera\n"
            "  zoo         the experts: origin, accuracy, times chosen\n"
            "  cameras     every camera: windows, current and last "
            "retrained model\n"
            "  scheduler   the GPU owner: policy, live jobs, recent grants "
            "and gains\n"
            "  nodes       this recld and its worker nodes: devices, jobs, "
            "busy share,\n"
            "              link state and what crossed each link\n"
            "  prune [ID]  prune by the eta/q rule, or remove expert ID\n"
            "  credentials list           the named credentials\n"
            "  credentials add NAME       make one (--role, --cameras); "
            "prints its token once\n"
            "  credentials revoke NAME    remove one and close its "
            "sessions\n\n"
            "status, zoo, cameras, scheduler and nodes need the viewer or "
            "admin "
            "role;\nprune and credentials need admin. The admin interface "
            "answers on\nloopback only unless recld runs with "
            "--admin-remote."};
  o.add("server", "HOST:PORT", "recld's address", "127.0.0.1:7450")
    .add("token", "SECRET", "a viewer or admin token (default: $RECL_TOKEN)")
    .add("token-file", "FILE",
         "read the token from FILE (recld's master token is DIR/auth-token)")
    .add("role", "ROLE", "credentials add: camera, viewer or admin", "camera")
    .add("cameras", "GLOB",
         "credentials add, camera role: the camera ids it may register "
         "(default: NAME)")
    .add_flag("json", "print one JSON object instead of text");
  add_tls_options(o);
  return o;
}

void print_status(const status_info& s, bool json) {
  if (json) {
    nlohmann::json j;
    j["uptime_s"] = s.uptime_s;
    j["version"] = s.version;
    j["teacher"] = s.teacher;
    j["data_dir"] = s.data_dir;
    j["store_bytes"] = s.store_bytes;
    j["store_free_bytes"] = s.store_free_bytes;
    j["store_writable"] = s.store_fault.empty();
    j["store_fault"] = s.store_fault;
    j["cameras"] = nlohmann::json::array();
    for (auto& c : s.cameras)
      j["cameras"].push_back({{"id", c.id},
                              {"windows", c.windows},
                              {"frames_labelled", c.frames_labelled},
                              {"last_reply_ms", c.last_reply_ms},
                              {"last_reply_unix_ms", c.last_reply_unix_ms},
                              {"connected", c.connected},
                              {"model_id", c.model_id}});
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("recld %s, up %.0f s\nteacher: %s\nstore: %s in %s, %s free, "
              "%s\n",
              s.version.c_str(), s.uptime_s, s.teacher.c_str(),
              human_bytes(s.store_bytes).c_str(), s.data_dir.c_str(),
              human_bytes(s.store_free_bytes).c_str(),
              s.store_fault.empty()
                ? "writable"
                : ("NOT WRITABLE: " + s.store_fault).c_str());
  std::printf("cameras: %zu\n", s.cameras.size());
  if (!s.cameras.empty())
    std::printf("  %-24s %10s %10s %14s  %s\n", "id", "windows", "frames",
                "last reply ms", "state");
  for (auto& c : s.cameras)
    std::printf("  %-24s %10llu %10llu %14.0f  %s\n", c.id.c_str(),
                static_cast<unsigned long long>(c.windows),
                static_cast<unsigned long long>(c.frames_labelled),
                c.last_reply_ms, c.connected ? "connected" : "offline");
}

void print_zoo(const std::vector<expert_info>& xs, bool json) {
  if (json) {
    nlohmann::json j;
    j["experts"] = nlohmann::json::array();
    for (auto& x : xs)
      j["experts"].push_back({{"id", x.id},
                              {"origin_camera", x.origin_camera},
                              {"origin_window", x.origin_window},
                              {"admitted_unix_ms", x.admitted_unix_ms},
                              {"weight_bytes", x.weight_bytes},
                              {"accuracy", x.accuracy},
                              {"chosen", x.chosen}});
    j["size"] = xs.size();
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("zoo: %zu experts\n", xs.size());
  if (!xs.empty())
    std::printf("  %-32s %-20s %7s %9s %7s %10s\n", "id", "origin camera",
                "window", "accuracy", "chosen", "size");
  for (auto& x : xs)
    std::printf("  %-32s %-20s %7u %9.3f %7u %10s\n", x.id.c_str(),
                x.origin_camera.c_str(), x.origin_window, x.accuracy, x.chosen,
                human_bytes(x.weight_bytes).c_str());
}

void print_cameras(const status_info& s, bool json) {
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (auto& c : s.cameras)
      j.push_back({{"id", c.id},
                   {"windows", c.windows},
                   {"frames_labelled", c.frames_labelled},
                   {"connected", c.connected},
                   {"model_id", c.model_id},
                   {"last_retrained_id", c.last_retrained_id},
                   {"last_reply_ms", c.last_reply_ms}});
    std::cout << nlohmann::json{{"cameras", j}}.dump() << std::endl;
    return;
  }
  std::printf("  %-20s %8s %-10s %-28s %s\n", "id", "windows", "state", "model",
              "last retrained");
  for (auto& c : s.cameras)
    std::printf("  %-20s %8llu %-10s %-28s %s\n", c.id.c_str(),
                static_cast<unsigned long long>(c.windows),
                c.connected ? "connected" : "offline",
                c.model_id.empty() ? "(edge's own)" : c.model_id.c_str(),
                c.last_retrained_id.c_str());
}

void print_scheduler(const scheduler_report& r, bool json) {
  if (json) {
    nlohmann::json g = nlohmann::json::array();
    for (auto& x : r.recent)
      g.push_back({{"at", x.at},
                   {"job", x.job},
                   {"profile", x.profile},
                   {"acc_before", x.acc_before},
                   {"acc_after", x.acc_after},
                   {"cost", x.cost},
                   {"switch_ms", x.switch_ms},
                   {"device", x.device}});
    std::cout << nlohmann::json{{"policy", r.policy},
                                {"clock", r.clock},
                                {"now", r.now},
                                {"jobs", r.jobs},
                                {"recent", g},
                                {"busy_s", r.busy_s},
                                {"elapsed_s", r.elapsed_s},
                                {"profiling", r.profiling},
                                {"training", r.training},
                                {"grants", r.grants},
                                {"selector_s", r.selector_s},
                                {"queued", r.queued},
                                {"devices", r.devices}}
                   .dump()
              << std::endl;
    return;
  }
  auto n = std::max(1u, r.devices);
  std::printf("scheduler %s, clock %s at %.1f; %llu grants; %u device%s busy "
              "%.0f%% of %.0f s\n",
              r.policy.c_str(), r.clock.c_str(), r.now,
              static_cast<unsigned long long>(r.grants), n, n > 1 ? "s" : "",
              r.elapsed_s > 0 ? 100 * r.busy_s / (n * r.elapsed_s) : 0.0,
              r.elapsed_s);
  std::printf("selector updates (gating network, ODIN): %.1f s of device "
              "time\n",
              r.selector_s);
  if (r.profiling > 0)
    std::printf("profiling %.1f vs training %.1f clock units\n", r.profiling,
                r.training);
  std::printf("live jobs: %zu; requests waiting for the device: %u\n",
              r.jobs.size(), r.queued);
  for (auto& j : r.jobs)
    std::printf("  %s\n", j.c_str());
  std::printf("recent grants (oldest first):\n");
  for (auto& g : r.recent)
    std::printf("  %8.1f %-28s %s acc %.3f -> %.3f  cost %.2f  switch "
                "%.3f ms%s%s\n",
                g.at, g.job.c_str(), g.profile ? "profile" : "train  ",
                g.acc_before, g.acc_after, g.cost, g.switch_ms,
                g.device.empty() ? "" : "  on ", g.device.c_str());
}

/// One node of `recl-admin nodes`: its devices and, a worker's, its link.
struct node_view {
  std::string name;
  std::vector<device_state> devices;
  const link_traffic* traffic = nullptr;

  bool coordinator() const { return name.empty(); }

  /// local; a worker's: up while any of its devices is, else silent or gone.
  std::string link() const {
    std::string out = coordinator() ? "local" : "gone";
    for (auto& d : devices)
      if (d.link == "up" || (d.link == "silent" && out == "gone"))
        out = d.link;
    return out;
  }
};

/// The report's devices by node, the coordinator first. One GPU owner
/// without a pool reports no devices: it is the coordinator's one device.
std::vector<node_view> nodes_of(const scheduler_report& r) {
  std::vector<node_view> out{node_view{}};
  auto states = r.device_states;
  if (states.empty() && r.devices > 0) {
    device_state d;
    d.device = "(default)";
    d.link = "local";
    d.grants = r.grants;
    d.busy_s = r.busy_s;
    d.elapsed_s = r.elapsed_s;
    d.queued = r.queued;
    states.push_back(d);
  }
  for (auto& d : states) {
    auto at = std::find_if(out.begin(), out.end(),
                           [&](auto& n) { return n.name == d.node; });
    if (at == out.end())
      at = out.insert(out.end(), node_view{d.node, {}, nullptr});
    at->devices.push_back(d);
  }
  for (auto& t : r.links)
    for (auto& n : out)
      if (n.name == t.node)
        n.traffic = &t;
  return out;
}

double busy_share(const device_state& d) {
  return d.elapsed_s > 0 ? d.busy_s / d.elapsed_s : 0.0;
}

nlohmann::json to_json(const node_view& n) {
  nlohmann::json devices = nlohmann::json::array();
  for (auto& d : n.devices)
    devices.push_back({{"device", d.device},
                       {"link", d.link},
                       {"jobs", d.jobs},
                       {"in_flight", d.in_flight},
                       {"requests", d.requests},
                       {"grants", d.grants},
                       {"busy_s", d.busy_s},
                       {"elapsed_s", d.elapsed_s},
                       {"busy_share", busy_share(d)},
                       {"queued", d.queued}});
  nlohmann::json j{{"name", n.coordinator() ? "coordinator" : n.name},
                   {"role", n.coordinator() ? "coordinator" : "worker"},
                   {"link", n.link()},
                   {"devices", devices}};
  if (auto t = n.traffic)
    j["store"] = {
      {"requests", t->store_requests},       {"bytes_sent", t->bytes_sent},
      {"bytes_received", t->bytes_received}, {"experts_sent", t->experts_sent},
      {"experts_moved", t->experts_moved},   {"expert_bytes", t->expert_bytes}};
  return j;
}

void print_nodes(const scheduler_report& r, bool json) {
  auto nodes = nodes_of(r);
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (auto& n : nodes)
      j.push_back(to_json(n));
    std::cout << nlohmann::json{{"nodes", j}}.dump() << std::endl;
    return;
  }
  std::printf("nodes: %zu (the coordinator and %zu worker%s)\n", nodes.size(),
              nodes.size() - 1, nodes.size() == 2 ? "" : "s");
  for (auto& n : nodes) {
    std::printf("%s  %s, link %s\n",
                n.coordinator() ? "coordinator" : n.name.c_str(),
                n.coordinator() ? "this recld" : "worker", n.link().c_str());
    for (auto& d : n.devices)
      std::printf("  %-12s %-7s %3u jobs %3u other  %6llu requests %6llu "
                  "grants  busy %3.0f%% of %.0f s\n",
                  d.device.c_str(), d.link.c_str(), d.jobs, d.in_flight,
                  static_cast<unsigned long long>(d.requests),
                  static_cast<unsigned long long>(d.grants),
                  100 * busy_share(d), d.elapsed_s);
    if (auto t = n.traffic)
      std::printf("  store link: %llu requests, %s sent, %s received; "
                  "expert weights sent %llu times (%llu experts, %s)\n",
                  static_cast<unsigned long long>(t->store_requests),
                  human_bytes(t->bytes_sent).c_str(),
                  human_bytes(t->bytes_received).c_str(),
                  static_cast<unsigned long long>(t->experts_sent),
                  static_cast<unsigned long long>(t->experts_moved),
                  human_bytes(t->expert_bytes).c_str());
  }
}

void check_credentials_args(const std::vector<std::string>& args) {
  auto sub = args.size() > 1 ? args[1] : "";
  if (sub != "list" && sub != "add" && sub != "revoke")
    throw usage_error("credentials: give list, add NAME or revoke NAME");
  if (sub == "list" && args.size() > 2)
    throw usage_error("unexpected argument '" + args[2] + "'");
  if (sub != "list" && args.size() < 3)
    throw usage_error("credentials " + sub + ": give the credential's NAME");
}

void credentials_command(client& c, const std::string& token, const options& o,
                         bool json) {
  auto& args = o.positional();
  if (args[1] == "add") {
    auto t = c.add_credential(token, args[2], o.get("role"), o.get("cameras"));
    if (json)
      std::cout << nlohmann::json{{"name", args[2]}, {"token", t}}.dump()
                << std::endl;
    else
      std::printf("%s\n", t.c_str());
    return;
  }
  if (args[1] == "revoke") {
    if (!c.revoke_credential(token, args[2]))
      throw std::runtime_error("no credential named '" + args[2] + "'");
    if (json)
      std::cout << nlohmann::json{{"revoked", args[2]}}.dump() << std::endl;
    else
      std::printf("revoked %s\n", args[2].c_str());
    return;
  }
  auto xs = c.credentials(token);
  if (json) {
    auto j = nlohmann::json::array();
    for (auto& x : xs)
      j.push_back({{"name", x.name},
                   {"role", x.role},
                   {"cameras", x.cameras},
                   {"created_unix_ms", x.created_unix_ms}});
    std::cout << nlohmann::json{{"credentials", j}}.dump() << std::endl;
    return;
  }
  std::printf("credentials: %zu (and recld's master token)\n", xs.size());
  for (auto& x : xs)
    std::printf("  %-24s %-7s %s\n", x.name.c_str(), x.role.c_str(),
                x.role == "camera" ? x.cameras.c_str() : "");
}

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  return run_command(o, argc, argv, [&] {
    if (o.positional().empty())
      throw usage_error("no command given (see --help)");
    auto& args = o.positional();
    auto cmd = args[0];
    size_t allowed = cmd == "prune" ? 2 : cmd == "credentials" ? 3 : 1;
    if (args.size() > allowed)
      throw usage_error("unexpected argument '" + args[allowed] + "'");
    if (cmd != "status" && cmd != "zoo" && cmd != "cameras"
        && cmd != "scheduler" && cmd != "nodes" && cmd != "prune"
        && cmd != "credentials")
      throw usage_error("unknown command '" + cmd + "' (see --help)");
    if (cmd == "credentials")
      check_credentials_args(args);
    try {
      parse_endpoint(o.get("server"));
    } catch (const std::invalid_argument& e) {
      o.fail("server", e.what());
    }
    auto token = load_token(o.get("token"), o.get("token-file"));
    client c{o.get("server"), 256ull << 20, read_tls_options(o)};
    bool json = o.flag("json");
    if (cmd == "status")
      print_status(c.status(token), json);
    else if (cmd == "zoo")
      print_zoo(c.zoo(token), json);
    else if (cmd == "cameras")
      print_cameras(c.status(token), json);
    else if (cmd == "scheduler")
      print_scheduler(c.scheduler(token), json);
    else if (cmd == "nodes")
      print_nodes(c.scheduler(token), json);
    else if (cmd == "credentials")
      credentials_command(c, token, o, json);
    else {
      auto id = o.positional().size() > 1 ? o.positional()[1] : "";
      auto gone = c.prune(token, id);
      if (json) {
        std::cout << nlohmann::json{{"removed", gone}}.dump() << std::endl;
      } else {
        std::printf("pruned %zu experts\n", gone.size());
        for (auto& g : gone)
          std::printf("  %s\n", g.c_str());
      }
    }
    return 0;
  });
}
