#pragma once
// A synchronous Cap'n Proto client for recld, used by recl-edge, recl-admin,
// the benchmarks and the tests. Owns its own kj event loop: one client per
// thread.

#include "schema/messages.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace recl {

/// A failure the server reported, or a broken connection. The message is the
/// server's one-line reason (e.g. "unauthorized: wrong token").
struct rpc_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The server's answer to one window, with what the client measured.
struct window_reply : decision {
  double round_trip_ms = 0;   ///< measured by the client
  uint64_t request_bytes = 0; ///< frame bytes sent
};

/// The model an edge holds, as it tells the server with each window.
struct held_model {
  std::string id;   ///< "" = none
  std::string hash; ///< its content hash ("" = unknown: no delta)
  update_form updates = update_form::archive; ///< how it takes a new one
};

/// How a client secures its connection (recld --tls-cert/--tls-key).
struct tls_options {
  bool enabled = false; ///< TLS at all
  /// Trust this PEM certificate (the server's own, self-signed, or its CA);
  /// "" = the system's trust store.
  std::string ca_file;
  /// This client's own certificate and key (PEM), for a recld that asks
  /// for them (--tls-client-ca); "" = none.
  std::string cert_file, key_file;

  /// Whether the connection is TLS: asked for, or implied by a file.
  bool on() const { return enabled || !ca_file.empty() || !cert_file.empty(); }
};

/// A connection to recld.
class client {
public:
  /// Connects to "HOST:PORT". `max_message_bytes` bounds what this side reads
  /// and writes in one message. With `tls`, the connection is TLS and the
  /// server's certificate must name HOST. Throws rpc_error if the server is
  /// unreachable or its certificate is not trusted.
  explicit client(const std::string& server,
                  uint64_t max_message_bytes = 256ull << 20,
                  tls_options tls = {});
  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Opens a camera session. Throws rpc_error (wrong token, bad id, ...).
  server_limits register_camera(const std::string& camera,
                                const std::string& token);

  /// Sends one window and waits for the decision.
  window_reply update(uint32_t index, const std::vector<frame>& frames,
                      float sample_fps, const std::string& model_id = "");

  /// The same, saying which model the edge holds and how it takes a new
  /// one (a served model then comes as `update` rather than `weights`).
  window_reply update(uint32_t index, const std::vector<frame>& frames,
                      float sample_fps, const held_model& model);

  /// Reports the edge's own statistics.
  void report(uint32_t window, uint64_t frames_seen,
              const std::string& model_id, float accuracy);

  /// The steps of window `window`'s retraining job (recld --stream-models),
  /// oldest first: with `wait`, all of them once the job ends; without,
  /// those made so far. None when nothing was streamed.
  std::vector<streamed_step> streamed(uint32_t window, bool wait = true);

  /// Closes the camera session.
  void close_session();

  /// The daemon's status through the admin interface.
  status_info status(const std::string& token);

  /// The zoo's experts.
  std::vector<expert_info> zoo(const std::string& token);

  /// The GPU owner's scheduler: live jobs and recent grants.
  scheduler_report scheduler(const std::string& token);

  /// Prunes by the eta/q rule (id "") or one expert; returns the ids removed.
  std::vector<std::string> prune(const std::string& token,
                                 const std::string& id);

  /// Makes a credential (admin role only); returns its token, shown once.
  std::string add_credential(const std::string& token, const std::string& name,
                             const std::string& role,
                             const std::string& cameras);

  /// Revokes a credential; false when there was none of that name.
  bool revoke_credential(const std::string& token, const std::string& name);

  /// The named credentials (no secrets).
  std::vector<credential_info> credentials(const std::string& token);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

/// For a "busy: ... retry after S s" refusal (recld over
/// --max-windows-in-flight): S; else -1.
double retry_after_s(const rpc_error& e);

class options;

/// Declares --tls and --tls-ca on a command's options.
void add_tls_options(options& o);

/// The client's TLS settings from --tls and --tls-ca.
tls_options read_tls_options(const options& o);

/// Reads a token: `token` if non-empty, else the first line of `file` if
/// non-empty, else $RECL_TOKEN, else "". Throws rpc_error if `file` is
/// unreadable.
std::string load_token(const std::string& token, const std::string& file);

} // namespace recl
