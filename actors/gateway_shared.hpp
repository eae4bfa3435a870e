// What the gateway's capabilities share, and the admin capability's maker.
// Internal to the gateway (actors/gateway.cpp, actors/gateway_admin.cpp).

#pragma once

#include "actors/actors.hpp"
#include "actors/credentials.hpp"
#include "actors/gateway.hpp"
#include "actors/metrics.hpp"
#include "schema/recl.capnp.h"

#include <caf/fwd.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace recl::detail {

class session_impl;

/// State shared by all capabilities; touched only on the kj thread.
struct shared_state {
  shared_state(caf::actor_system& sys, node_actor node,
               std::shared_ptr<store> db, gateway_options opts)
    : sys(sys), node(std::move(node)), opts(std::move(opts)),
      creds(std::move(db), this->opts.token) {}

  caf::actor_system& sys;
  node_actor node;
  gateway_options opts;
  credentials creds;
  std::map<std::string, session_impl*> live; // camera id -> open session
  uint64_t connections = 0;                  ///< connections served so far
  /// Ends the sessions opened on connection `n` (its peer is gone).
  void end_sessions_on(uint64_t n);
  /// Ends the sessions opened with credential `name`.
  void end_sessions_of(const std::string& name);
  gateway_counters counters;
  double reply_s = 1; ///< moving average of a window's service time
  std::atomic<bool> draining{false}; ///< recld is stopping
};

/// The admin interface for `who`; what it may do depends on their role.
kj::Own<rpc::Admin::Server>
admin_capability(std::shared_ptr<shared_state> shared, principal who);

} // namespace recl::detail
