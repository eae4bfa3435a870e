#pragma once
// Several nodes over CAF's own distribution layer (caf::io), on links that
// are TLS with certificates both ways (caf::openssl): a node without a
// certificate signed by the cluster's CA gets no connection, hence nothing.
//
// The coordinator (recld --cluster-listen) keeps the gateway, the cameras,
// the zoo, the selector, its own labelers (possibly none) and the store; it
// publishes a door. A worker (recld --join) holds GPU owners, one per
// device, and --labelers teacher instances: it asks the door for the store
// and the coordinator's learning and teacher settings (hello, node_welcome),
// starts its owners and labelers with them, and offers each owner to the
// coordinator's GPU pool and each labeler to its labeler pool (join). Its
// owners read and write models through the coordinator's store actor, so an
// expert crosses the link when a worker first needs it (its owners share a
// cache of the models they read).
//
// A worker that dies or loses its link: the pool leaves its owners out and
// fails what they held (gpu_pool.cpp). A coordinator that goes away: the
// worker stops its owners and joins again when it can.

#include "actors/actors.hpp"
#include "actors/traffic.hpp"
#include "gpu/teacher.hpp"
#include "store/store.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace recl {

/// The certificates of a cluster link, PEM files.
struct cluster_tls {
  std::string cert; ///< this node's certificate ...
  std::string key;  ///< ... and its key
  std::string ca;   ///< the CA that signed every node's certificate
};

/// Loads CAF's middleman and its OpenSSL module into `cfg`, with `tls`,
/// and marks CAF's threads, on which OpenSSL's error queue is emptied each
/// time SSL_get_error has classified a call (cluster.cpp says why).
void add_cluster_modules(caf::actor_system_config& cfg, const cluster_tls& tls);

/// The coordinator: serves `db` to workers (counting into `traffic`),
/// hands them its learning settings `gpu` (every owner setting but the
/// device, the base expert's file and the fleet generalist, which a worker
/// does not train) and its teacher settings, and passes their owners and
/// labelers to `node`; publishes the door at `listen` (HOST:PORT, port 0:
/// any) until the actor system ends; its port. Throws std::runtime_error
/// when it cannot listen.
uint16_t open_cluster_door(caf::actor_system& sys, node_actor node,
                           std::shared_ptr<store> db,
                           std::shared_ptr<cluster_traffic> traffic,
                           const gpu_owner_config& gpu,
                           const teacher_options& teacher,
                           const std::string& listen);

/// A worker's settings.
struct worker_config {
  std::string coordinator; ///< HOST:PORT of its door
  std::string name;        ///< how the coordinator calls this node
  std::vector<std::string> devices;
  gpu_owner_config gpu;
  uint32_t labelers = 0;    ///< teacher instances it offers
  teacher_options teacher;  ///< its model file; the rest is the coordinator's
  std::string base_hash;    ///< of gpu.base_expert (base_hash)
  std::string teacher_hash; ///< of teacher's model file (teacher_hash)
};

/// The hash of the base expert's weights ("" for none): a worker must hold
/// the coordinator's. Not of its file: two conversions of one ONNX model
/// differ in bytes, not in weights. Throws when the file does not load.
std::string base_hash(const gpu_owner_config& g);

/// The SHA-256 of the teacher's model file ("" for the HOG teacher): a
/// worker's labelers must run the coordinator's. Throws when it cannot be
/// read.
std::string teacher_hash(const teacher_options& t);

/// Runs a worker until `stop()` is true: joins the coordinator, and joins
/// again (every second) whenever the link is lost. Returns 0.
int run_worker(caf::actor_system& sys, const worker_config& cfg,
               const std::function<bool()>& stop);

} // namespace recl
