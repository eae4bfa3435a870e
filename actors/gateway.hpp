#pragma once
// The RPC gateway: a Cap'n Proto server on its own kj event-loop thread that
// turns RPC calls into actor requests and actor replies back into RPC
// results. CAF workers never block on it, and it never blocks on them: each
// call is bridged with a cross-thread promise fulfilled from the actor side.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace caf {
class actor_system;
class actor;
} // namespace caf

namespace recl {

class store;

/// What the gateway accepts.
struct gateway_options {
  std::string listen = "127.0.0.1:7450"; ///< HOST:PORT; port 0 picks one
  std::string token;         ///< the master token (an admin credential)
  bool admin_remote = false; ///< admin interface for non-loopback peers
  /// PEM files of the certificate (chain) and private key: with both, every
  /// RPC connection is TLS; "" = plain TCP.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// PEM certificate of the authority that signs clients' certificates:
  /// every client must present one (mutual TLS); "" = none asked for.
  std::string tls_client_ca_file;
  /// HOST:PORT of the HTTP /metrics and /healthz endpoint; "" = none.
  std::string metrics_listen;
  uint32_t max_frames = 256;                 ///< frames per window
  uint64_t max_frame_bytes = 8ull << 20;     ///< bytes per frame
  uint64_t max_message_bytes = 256ull << 20; ///< bytes per RPC message
  uint32_t max_connections = 1024;           ///< open at once, in all
  uint32_t max_connections_per_peer = 64;    ///< open at once, per IP address
  double handshake_timeout_s = 10;           ///< to send the Hello
  /// Windows being served at once, in all; more are refused with "busy"
  /// and a time to retry after (back-pressure instead of a growing queue).
  uint32_t max_windows_in_flight = 32;
};

/// A running RPC endpoint. Stops (closing every connection) when destroyed.
class gateway {
public:
  /// Starts listening; returns once connections are accepted. Throws
  /// std::runtime_error when the address cannot be bound. `node` is the node
  /// actor's handle; `db` holds the named credentials.
  gateway(caf::actor_system& sys, const caf::actor& node,
          std::shared_ptr<store> db, gateway_options opts);
  ~gateway();

  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// The port actually bound.
  uint16_t port() const;

  /// The metrics endpoint's port (0: none).
  uint16_t metrics_port() const;

  /// Stops taking windows (new ones are refused with "shutting_down") and
  /// waits until those in flight are answered or `grace_s` passes; returns
  /// how many were still in flight then.
  int drain(double grace_s);

  /// Closes the listener and all sessions; idempotent.
  void stop();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace recl
