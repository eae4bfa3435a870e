#include "actors/metrics.hpp"

#include "actors/bridge.hpp"

#include <kj/compat/http.h>

#include <sstream>

namespace recl {

namespace {

/// Appends one metric with its HELP and TYPE lines.
struct exposition {
  std::ostringstream out;

  exposition() { out.precision(15); } // byte counts stay exact

  void add(const char* name, const char* type, const char* help, double value) {
    head(name, type, help);
    out << name << ' ' << value << '\n';
  }

  void head(const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << '\n'
        << "# TYPE " << name << ' ' << type << '\n';
  }
};

class metrics_service final : public kj::HttpService {
public:
  metrics_service(const kj::HttpHeaderTable& table, kj::Timer& timer,
                  caf::actor_system& sys, node_actor node,
                  const gateway_counters& counters, uint32_t max_in_flight)
    : table_(table), timer_(timer), sys_(sys), node_(std::move(node)),
      counters_(counters), max_in_flight_(max_in_flight) {}

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders&, kj::AsyncInputStream&,
                            Response& response) override {
    if (method != kj::HttpMethod::GET)
      return reply(response, 405, "Method Not Allowed", "GET only\n");
    std::string path{url.cStr()};
    if (path == "/metrics")
      return metrics(response);
    if (path == "/healthz" || path == "/readyz")
      return health(response, path == "/readyz");
    return reply(response, 404, "Not Found",
                 "try /metrics, /healthz or /readyz\n");
  }

private:
  /// Asks the node for what /metrics shows, giving up after 5 s.
  kj::Promise<void> metrics(Response& response) {
    auto& counters = counters_;
    auto text = ask<metrics_snapshot>(sys_, node_, metrics_atom_v)
                  .then([&counters](metrics_snapshot&& m) {
                    return prometheus_text(m, counters);
                  });
    return timer_.timeoutAfter(5 * kj::SECONDS, kj::mv(text))
      .then(
        [this, &response](std::string&& body) {
          return reply(response, 200, "OK", std::move(body));
        },
        [this, &response](kj::Exception&& e) {
          return reply(response, 503, "Service Unavailable",
                       std::string{"the node did not answer: "}
                         + e.getDescription().cStr() + "\n");
        });
  }

  /// 200 while the node answers within 2 s and, to be `ready`, the store
  /// is writable and windows in flight are under the limit.
  kj::Promise<void> health(Response& response, bool ready) {
    auto status = ask<status_info>(sys_, node_, status_atom_v);
    return timer_.timeoutAfter(2 * kj::SECONDS, kj::mv(status))
      .then(
        [this, &response, ready](status_info&& s) {
          if (ready && !s.store_fault.empty())
            return reply(response, 503, "Service Unavailable",
                         "store not writable: " + s.store_fault + "\n");
          if (ready && counters_.windows_in_flight >= max_in_flight_)
            return reply(response, 503, "Service Unavailable",
                         "busy: " + std::to_string(max_in_flight_)
                           + " windows in flight, the limit\n");
          return reply(response, 200, "OK", "ok\n");
        },
        [this, &response](kj::Exception&& e) {
          return reply(response, 503, "Service Unavailable",
                       std::string{"the node did not answer: "}
                         + e.getDescription().cStr() + "\n");
        });
  }

  kj::Promise<void> reply(Response& response, unsigned code, kj::StringPtr text,
                          std::string body) {
    kj::HttpHeaders headers(table_);
    headers.set(kj::HttpHeaderId::CONTENT_TYPE, "text/plain; version=0.0.4");
    auto out = response.send(code, text, headers, body.size());
    auto owned = kj::heap<std::string>(std::move(body));
    auto& b = *owned;
    return out->write(b.data(), b.size()).attach(kj::mv(out), kj::mv(owned));
  }

  const kj::HttpHeaderTable& table_;
  kj::Timer& timer_;
  caf::actor_system& sys_;
  node_actor node_;
  const gateway_counters& counters_;
  uint32_t max_in_flight_;
};

} // namespace

std::string prometheus_text(const metrics_snapshot& m,
                            const gateway_counters& c) {
  auto& s = m.status;
  auto& r = m.scheduler;
  exposition x;
  x.add("recl_up", "gauge", "1 while recld answers", 1);
  x.add("recl_uptime_seconds", "gauge", "seconds since recld started",
        s.uptime_s);
  x.add("recl_store_writable", "gauge",
        "1 while the store takes writes, 0 after a failed write",
        s.store_fault.empty() ? 1 : 0);
  x.add("recl_store_bytes", "gauge", "size of the store on disk",
        static_cast<double>(s.store_bytes));
  x.add("recl_store_free_bytes", "gauge",
        "free bytes on the data directory's disk",
        static_cast<double>(s.store_free_bytes));
  x.add("recl_zoo_experts", "gauge", "experts in the zoo",
        static_cast<double>(m.zoo.experts));
  x.add("recl_zoo_queued", "gauge", "retrained models queued for admission",
        static_cast<double>(m.zoo.queued));
  x.add("recl_zoo_admitted_total", "counter",
        "experts admitted since recld started",
        static_cast<double>(m.zoo.admitted));
  x.add("recl_zoo_pruned_total", "counter",
        "experts pruned since recld started (by rule, by hand, for room)",
        static_cast<double>(m.zoo.pruned));
  x.add("recl_zoo_refused_total", "counter",
        "candidates refused since recld started: the store over its budget",
        static_cast<double>(m.zoo.refused));
  uint64_t connected = 0;
  for (auto& cam : s.cameras)
    connected += cam.connected ? 1 : 0;
  x.add("recl_cameras", "gauge", "cameras known to the store",
        static_cast<double>(s.cameras.size()));
  x.add("recl_cameras_connected", "gauge", "cameras with an open session",
        static_cast<double>(connected));
  x.head("recl_camera_windows_total", "counter",
         "windows served per camera, over the data directory's life");
  for (auto& cam : s.cameras)
    x.out << "recl_camera_windows_total{camera=\"" << cam.id << "\"} "
          << cam.windows << '\n';
  x.head("recl_camera_frames_labelled_total", "counter",
         "frames the teacher labelled per camera");
  for (auto& cam : s.cameras)
    x.out << "recl_camera_frames_labelled_total{camera=\"" << cam.id << "\"} "
          << cam.frames_labelled << '\n';
  x.add("recl_gpu_devices", "gauge", "devices, one GPU owner each",
        static_cast<double>(r.devices));
  x.add("recl_gpu_jobs", "gauge", "live retraining jobs",
        static_cast<double>(r.jobs.size()));
  x.add("recl_gpu_queued", "gauge",
        "requests waiting for the GPU owner (safety checks, selection, "
        "training submissions)",
        static_cast<double>(r.queued));
  x.add("recl_gpu_grants_total", "counter", "micro-windows granted",
        static_cast<double>(r.grants));
  x.add("recl_gpu_busy_seconds_total", "counter",
        "device seconds spent on grants and priority work (all devices)",
        r.busy_s);
  x.add("recl_gpu_selector_seconds_total", "counter",
        "device seconds spent updating the selectors", r.selector_s);
  x.add("recl_connections_open", "gauge", "RPC connections open",
        static_cast<double>(c.connections_open.load()));
  x.add("recl_connections_refused_total", "counter",
        "connections closed at once for a connection limit",
        static_cast<double>(c.connections_refused.load()));
  x.add("recl_tokens_refused_total", "counter",
        "handshakes refused for a wrong token",
        static_cast<double>(c.tokens_refused.load()));
  x.add("recl_windows_in_flight", "gauge", "windows not answered yet",
        static_cast<double>(c.windows_in_flight.load()));
  x.head("recl_windows_in_stage", "gauge",
         "windows in each stage: waiting for their camera's previous job "
         "(replay clock), for the teacher, for selection and the safety "
         "check, for the reply's weights");
  for (size_t i = 0;
       i < m.stages.size() && i < static_cast<size_t>(window_stage::count); ++i)
    x.out << "recl_windows_in_stage{stage=\"" << window_stage_names[i] << "\"} "
          << m.stages[i] << '\n';
  x.add("recl_windows_answered_total", "counter",
        "windows answered since start",
        static_cast<double>(c.windows_answered.load()));
  x.add("recl_windows_failed_total", "counter",
        "windows refused or failed since start",
        static_cast<double>(c.windows_failed.load()));
  x.add("recl_windows_shed_total", "counter",
        "windows refused as busy (--max-windows-in-flight)",
        static_cast<double>(c.windows_shed.load()));
  x.head("recl_window_errors_total", "counter",
         "windows refused or failed, by the error's kind");
  for (auto& kv : c.errors)
    x.out << "recl_window_errors_total{kind=\"" << kv.first << "\"} "
          << kv.second << '\n';
  auto& h = c.replies;
  x.head("recl_reply_seconds", "histogram",
         "arrival to reply of answered windows");
  for (size_t i = 0; i < std::size(h.bounds); ++i)
    x.out << "recl_reply_seconds_bucket{le=\"" << h.bounds[i] << "\"} "
          << h.buckets[i] << '\n';
  x.out << "recl_reply_seconds_bucket{le=\"+Inf\"} " << h.count << '\n'
        << "recl_reply_seconds_sum " << h.sum_s << '\n'
        << "recl_reply_seconds_count " << h.count << '\n';
  x.head("recl_reply_part_seconds_total", "counter",
         "seconds of answered windows spent in each part of the server");
  for (size_t i = 0; i < std::size(reply_parts); ++i)
    x.out << "recl_reply_part_seconds_total{part=\"" << reply_parts[i] << "\"} "
          << h.parts_s[i] << '\n';
  return x.out.str();
}

void reply_histogram::add(const window_timing& t) {
  double s = t.total_ms / 1000;
  for (size_t i = 0; i < std::size(bounds); ++i)
    buckets[i] += s <= bounds[i] ? 1 : 0;
  count += 1;
  sum_s += s;
  double parts[] = {t.queue_ms, t.decode_ms, t.teacher_ms, t.select_ms,
                    t.check_ms, t.fetch_ms,  t.link_ms};
  static_assert(std::size(parts) == std::size(reply_parts));
  for (size_t i = 0; i < std::size(parts); ++i)
    parts_s[i] += parts[i] / 1000;
}

void gateway_counters::failed(const std::string& error) {
  ++windows_failed;
  auto kind = error.substr(0, error.find(':'));
  // Kinds are words like bad_window; anything else counts as "other".
  bool word = !kind.empty() && kind.size() <= 32
              && kind.find_first_not_of("abcdefghijklmnopqrstuvwxyz_")
                   == std::string::npos;
  ++errors[word ? kind : "other"];
}

kj::Promise<void> serve_metrics(kj::ConnectionReceiver& listener,
                                kj::Timer& timer, caf::actor_system& sys,
                                node_actor node,
                                const gateway_counters& counters,
                                uint32_t max_windows_in_flight) {
  auto table = kj::heap<kj::HttpHeaderTable>();
  auto service = kj::heap<metrics_service>(*table, timer, sys, std::move(node),
                                           counters, max_windows_in_flight);
  auto server = kj::heap<kj::HttpServer>(timer, *table, *service);
  auto& s = *server;
  // The server goes first, then the service, then the table they use.
  return s.listenHttp(listener)
    .attach(kj::mv(server))
    .attach(kj::mv(service))
    .attach(kj::mv(table));
}

} // namespace recl
