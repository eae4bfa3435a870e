#pragma once
// recld's settings: its options (in --help order) and how they are read
// into the node's, the gateway's and the store's configuration, each bad
// value failing with its option's name.

#include "actors/actors.hpp"
#include "actors/cluster.hpp"
#include "actors/gateway.hpp"
#include "common/settings.hpp"
#include "store/store.hpp"

#include <string>

namespace recl {

inline constexpr const char* recld_version = "0.1.0";

/// Everything recld runs with.
struct daemon_settings {
  node_config node;
  gateway_options gw;
  std::string token_file;
  int threads = 0;
  store_options store;
  double drain_s = 30;        ///< SIGTERM: grace for windows in flight
  std::string provision_from; ///< ONNX weights to make the base expert from
  // Nodes (cluster.hpp): a coordinator listens, a worker joins.
  std::string cluster_listen;
  cluster_tls cluster;
  worker_config worker; ///< with --join: this process is a worker
};

/// recld's options.
options make_options();

/// Every setting, from the command line and --config; fails naming the
/// first bad one.
daemon_settings read_settings(options& o);

/// --devices (recld_nodes.cpp): one GPU owner each.
void read_devices(node_config& n, const options& o);

/// Nodes (recld_nodes.cpp): a coordinator's listening address or a
/// worker's coordinator, and the certificates both need.
void read_cluster(daemon_settings& s, const options& o);

} // namespace recl
