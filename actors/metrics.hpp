#pragma once
// Metrics and health over HTTP, for Prometheus and load balancers:
//   GET /metrics  the daemon's counters in Prometheus' text format (0.0.4);
//   GET /healthz  200 "ok" while the node answers and the store is writable,
//                 else 503 and why.
// Served on the gateway's kj thread (recld --metrics-listen), read-only and
// unauthenticated: bind it to loopback or a private network.

#include "actors/actors.hpp"

#include <kj/async-io.h>
#include <kj/timer.h>

#include <atomic>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>

namespace recl {

/// The parts of the server a reply's time is split into (window_timing),
/// as /metrics names them; what is left of the reply is the server's own.
inline constexpr const char* reply_parts[]
  = {"queue", "decode", "teacher", "select", "check", "fetch", "link"};

/// Reply times of answered windows, as a Prometheus histogram, with the
/// time spent in each part of the server.
struct reply_histogram {
  static constexpr double bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  uint64_t buckets[std::size(bounds)] = {}; ///< answered within each bound
  uint64_t count = 0;
  double sum_s = 0;
  /// Seconds spent in each part, in the order of reply_parts.
  double parts_s[std::size(reply_parts)] = {};

  void add(const window_timing& t);
};

/// What the gateway counts. The counters are written on the gateway's kj
/// thread and read there (by metrics) or, the atomic ones, by drain().
struct gateway_counters {
  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_refused{0}; ///< over a connection limit
  std::atomic<uint64_t> tokens_refused{0};      ///< wrong tokens in a Hello
  std::atomic<uint64_t> windows_in_flight{0};
  std::atomic<uint64_t> windows_answered{0};
  std::atomic<uint64_t> windows_failed{0}; ///< refused or failed
  std::atomic<uint64_t> windows_shed{0};   ///< of those, refused as busy
  reply_histogram replies;
  /// Refused or failed windows by the error's kind (its text up to ':').
  std::map<std::string, uint64_t> errors;

  /// Counts a failed window under its error's kind.
  void failed(const std::string& error);
};

/// The text of /metrics from the node's answers and the gateway's counters.
std::string prometheus_text(const metrics_snapshot& m,
                            const gateway_counters& c);

/// Serves /metrics and /healthz on `listener` until the promise is dropped.
/// `counters` and `sys` must outlive it.
kj::Promise<void> serve_metrics(kj::ConnectionReceiver& listener,
                                kj::Timer& timer, caf::actor_system& sys,
                                node_actor node,
                                const gateway_counters& counters,
                                uint32_t max_windows_in_flight);

} // namespace recl
