#pragma once
// An edge's link to recld that survives the server going away (issue 15):
// it dials and registers when a window is to be sent; while the server is
// down, slow to come back or restarting, windows are dropped (and counted)
// and it dials again after a delay that doubles from 1 s to 30 s, so the
// edge's own work (its model on its frames) never waits for the server.
// Refusals that no retry can fix end it: a wrong token, a forbidden camera,
// a bad camera id, or a session superseded by another edge with this id.

#include "edge/client.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace recl {

/// A refusal that ends the edge (rpc_error's message).
struct fatal_refusal : rpc_error {
  using rpc_error::rpc_error;
};

class server_link {
public:
  struct settings {
    std::string server, camera, token;
    tls_options tls;
    double max_backoff_s = 30;
  };

  /// `say` prints one line of what the link did (connected, dropped, ...).
  server_link(settings s, std::function<void(const std::string&)> say);

  /// Sends window `index`. nullopt: the server could not be reached or
  /// failed this window, which is dropped. Throws fatal_refusal.
  std::optional<window_reply> send(uint32_t index,
                                   const std::vector<frame>& frames, float fps,
                                   const held_model& model);

  /// The steps window `index`'s job made so far (recld --stream-models);
  /// none when not connected or the server failed the ask (an older server
  /// without streaming: never asked again).
  std::vector<streamed_step> streamed(uint32_t index);

  /// What the server takes in one window (defaults until connected).
  const server_limits& limits() const { return limits_; }

  uint64_t dropped() const { return dropped_; }

  /// Closes the session, if one is open.
  void close();

private:
  bool connect();
  void broken(const std::string& why);

  settings s_;
  std::function<void(const std::string&)> say_;
  std::unique_ptr<client> c_;
  server_limits limits_;
  double next_try_ms_ = 0;
  double backoff_s_ = 1;
  uint64_t dropped_ = 0;
  bool ever_connected_ = false;
  bool no_streaming_ = false; ///< the server cannot say its steps
};

} // namespace recl
