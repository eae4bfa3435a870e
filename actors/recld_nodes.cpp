// recld's settings for devices and nodes (--devices, --cluster-listen,
// --join and their certificates), read after the rest (recld_settings.cpp).

#include "actors/recld_settings.hpp"

#include "actors/modes.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/device.hpp"

#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace recl {

/// --devices: one GPU owner each. The fleet generalist is one model trained
/// on one device, so several devices turn it off unless asked for, and
/// refuse it when asked for.
void read_devices(node_config& n, const options& o) {
  if (!o.given("devices"))
    return;
  // A coordinator whose GPU owners are all on worker nodes.
  if (o.get("devices") == "none") {
    if (!o.given("cluster-listen"))
      o.fail("devices", "none needs --cluster-listen");
    n.no_devices = true;
    return;
  }
  try {
    n.devices = parse_devices(o.get("devices"));
  } catch (const std::invalid_argument& e) {
    o.fail("devices", e.what());
  }
  for (auto& d : n.devices)
    if (d.rfind("cuda:", 0) == 0
        && std::stoi(d.substr(5)) >= gpu::cuda_devices())
      o.fail("devices", d + ": this LibTorch sees "
                          + std::to_string(gpu::cuda_devices())
                          + " CUDA devices");
  if (n.devices.size() > 1 && n.gpu.generalist) {
    if (o.given("generalist"))
      o.fail("generalist", "on needs one device (it is one model on one "
                           "device); --devices gives "
                             + std::to_string(n.devices.size()));
    n.gpu.generalist = false;
  }
}

/// What a worker takes from the coordinator at hello, not from its own
/// command line (cluster.cpp): given to a worker, they are not used.
constexpr const char* coordinators_settings
  = "scheduler clock budget window-seconds generalist camera-jobs selector "
    "gating-samples expert-cache profile-epochs gain-tolerance gain-frames "
    "seed frozen-stages expert-input classes score-threshold nms-threshold "
    "teacher-input teacher-tiling teacher-flip teacher-extra-input";

/// Nodes: a coordinator's listening address or a worker's coordinator, and
/// the certificates both need.
void read_cluster(daemon_settings& s, const options& o) {
  if (o.given("cluster-listen") && o.given("join"))
    throw usage_error("a node either listens for workers (--cluster-listen) "
                      "or joins a coordinator (--join), not both");
  auto name = o.given("join") ? "join" : "cluster-listen";
  if (!o.given(name)) {
    for (auto x : {"cluster-cert", "cluster-key", "cluster-ca", "node-name"})
      if (o.given(x))
        o.fail(x, "needs --cluster-listen or --join");
    if (s.node.labelers == 0)
      o.fail("labelers", "0 needs --cluster-listen");
    return;
  }
  try {
    parse_endpoint(o.get(name));
  } catch (const std::exception& e) {
    o.fail(name, e.what());
  }
  for (auto x : {"cluster-cert", "cluster-key", "cluster-ca"}) {
    if (!o.given(x))
      throw usage_error(std::string{"--"} + name + " needs --" + x
                        + " (node links are TLS with certificates)");
    if (!fs::is_regular_file(o.get(x)))
      o.fail(x, "'" + o.get(x) + "' is not a readable file");
  }
  s.cluster
    = {o.get("cluster-cert"), o.get("cluster-key"), o.get("cluster-ca")};
  if (o.given("cluster-listen")) {
    s.cluster_listen = o.get("cluster-listen");
    s.node.cluster = true;
    return;
  }
  auto& w = s.worker;
  w.coordinator = o.get("join");
  w.name = o.given("node-name")
             ? o.get("node-name")
             : host_name() + "-" + std::to_string(::getpid());
  if (!valid_camera_id(w.name))
    o.fail("node-name", "'" + w.name + "' is not 1-64 of A-Z a-z 0-9 . _ -");
  w.gpu = s.node.gpu;
  std::string unused;
  for (auto& x : split(coordinators_settings, ' '))
    if (o.given(x))
      unused += std::string{unused.empty() ? "" : ", "} + "--" + x;
  if (!unused.empty())
    log::warning("recld",
                 "a worker learns and labels with the coordinator's "
                 "settings: ",
                 unused, " not used");
  w.labelers = o.given("labelers") ? s.node.labelers : 0;
  w.teacher = teacher_options_of(s.node);
  w.devices
    = s.node.devices.empty() ? std::vector<std::string>{""} : s.node.devices;
}

} // namespace recl
