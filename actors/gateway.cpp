#include "actors/gateway.hpp"

#include "actors/actors.hpp"
#include "actors/bridge.hpp"
#include "actors/door.hpp"
#include "actors/gateway_shared.hpp"
#include "actors/metrics.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "schema/wire.hpp"

#include <caf/all.hpp>
#include <kj/async-io.h>
#include <kj/async.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <optional>
#include <chrono>
#include <thread>

namespace recl {

// -- the capability implementations -------------------------------------------------

namespace detail {

class session_impl final : public rpc::CameraSession::Server {
public:
  session_impl(std::shared_ptr<shared_state> shared, std::string id,
               camera_actor cam, std::string credential, uint64_t connection)
    : shared_(std::move(shared)), id_(std::move(id)), cam_(std::move(cam)),
      credential_(std::move(credential)), connection_(connection) {}

  const std::string& credential() const { return credential_; }
  uint64_t connection() const { return connection_; }

  ~session_impl() noexcept(false) {
    end("the edge disconnected");
    auto i = shared_->live.find(id_);
    if (i != shared_->live.end() && i->second == this)
      shared_->live.erase(i);
  }

  /// Closes the session; later calls fail with `why`.
  void end(std::string why) {
    if (closed_)
      return;
    closed_ = true;
    why_ = std::move(why);
    caf::anon_send(shared_->node, close_atom_v, cam_);
  }

  kj::Promise<void> update(UpdateContext context) override {
    try {
      return take_window(context);
    } catch (const kj::Exception& e) {
      shared_->counters.failed(e.getDescription().cStr());
      throw;
    }
  }

  kj::Promise<void> take_window(UpdateContext context) {
    check_open();
    if (shared_->draining)
      throw_rpc_error("shutting_down: recld is stopping; send this window "
                      "again once it is back");
    auto w = context.getParams().getWindow();
    auto frames = w.getFrames();
    auto& opts = shared_->opts;
    auto where = "camera " + id_ + ", window " + std::to_string(w.getIndex());
    if (frames.size() == 0)
      throw_rpc_error("bad_window: " + where + ": no frames");
    if (frames.size() > opts.max_frames)
      throw_rpc_error("limit_exceeded: " + where + ": "
                      + std::to_string(frames.size()) + " frames; the limit is "
                      + std::to_string(opts.max_frames));
    window msg;
    msg.arrived_ms = now_ms();
    msg.camera = id_;
    try {
      wire::read_header(w, msg);
    } catch (const std::invalid_argument& e) {
      throw_rpc_error("bad_window: " + where + ": " + e.what());
    }
    msg.frames.reserve(frames.size());
    for (unsigned i = 0; i < frames.size(); ++i) {
      auto bytes = frames[i].getJpeg().size();
      if (bytes > opts.max_frame_bytes)
        throw_rpc_error("limit_exceeded: " + where + ", frame "
                        + std::to_string(i) + ": " + std::to_string(bytes)
                        + " bytes; the limit is "
                        + std::to_string(opts.max_frame_bytes));
      msg.frames.push_back(wire::get<frame>(frames[i]));
    }
    auto& n = shared_->counters;
    if (n.windows_in_flight >= opts.max_windows_in_flight)
      shed(where);
    ++n.windows_in_flight;
    auto counted
      = kj::defer([shared = shared_] { --shared->counters.windows_in_flight; });
    auto shared = shared_;
    auto t0 = now_ms();
    return ask<decision>(shared_->sys, cam_, update_atom_v, std::move(msg))
      .then(
        [context, &n, shared, t0](decision&& d) mutable {
          wire::write(d, context.getResults().initDecision());
          ++n.windows_answered;
          n.replies.add(d.time);
          shared->reply_s
            = 0.8 * shared->reply_s + 0.2 * (now_ms() - t0) / 1000;
        },
        [&n](kj::Exception&& e) {
          n.failed(e.getDescription().cStr());
          kj::throwFatalException(kj::mv(e));
        })
      .attach(kj::mv(counted));
  }

  kj::Promise<void> report(ReportContext context) override {
    check_open();
    auto x = wire::get<edge_stats>(context.getParams().getStats());
    x.camera = id_;
    caf::anon_send(cam_, report_atom_v, std::move(x));
    return kj::READY_NOW;
  }

  kj::Promise<void> streamed(StreamedContext context) override {
    check_open();
    auto p = context.getParams();
    return ask<std::vector<streamed_step>>(shared_->sys, cam_, stream_atom_v,
                                           p.getWindow(), p.getWait())
      .then([context](std::vector<streamed_step>&& xs) mutable {
        wire::write(
          xs, context.getResults().initSteps(static_cast<unsigned>(xs.size())));
      });
  }

  kj::Promise<void> close(CloseContext) override {
    end("the session was closed");
    return kj::READY_NOW;
  }

private:
  /// Refuses a window over --max-windows-in-flight: "busy", and when to try
  /// again (about one window's service time; the edge retries then).
  [[noreturn]] void shed(const std::string& where) {
    auto& n = shared_->counters;
    ++n.windows_shed;
    auto retry = std::clamp(std::ceil(shared_->reply_s), 1.0, 60.0);
    if (n.windows_shed % 100 == 1)
      log::warning("gateway", "busy: refused ", where, " (",
                   n.windows_shed.load(), " refused so far; ",
                   n.windows_in_flight.load(), " in flight, the limit)");
    throw_rpc_error("busy: " + where + ": "
                    + std::to_string(n.windows_in_flight.load())
                    + " windows in flight (--max-windows-in-flight); retry "
                      "after "
                    + std::to_string(static_cast<int>(retry)) + " s");
  }

  void check_open() const {
    if (closed_)
      throw_rpc_error("session_closed: camera " + id_ + ": " + why_);
  }

  std::shared_ptr<shared_state> shared_;
  std::string id_;
  camera_actor cam_;
  std::string credential_; ///< the name of the credential that opened it
  uint64_t connection_;    ///< the connection it was opened on
  bool closed_ = false;
  std::string why_;
};

void shared_state::end_sessions_on(uint64_t n) {
  for (auto& kv : live)
    if (kv.second->connection() == n)
      kv.second->end("the edge disconnected");
}

void shared_state::end_sessions_of(const std::string& name) {
  for (auto& kv : live)
    if (kv.second->credential() == name)
      kv.second->end("its credential '" + name + "' was revoked");
}

} // namespace detail

namespace {

using detail::session_impl;
using detail::shared_state;

/// What one connection calls; it knows the peer and whose token opened it.
class recl_impl final : public rpc::Recl::Server {
public:
  recl_impl(std::shared_ptr<shared_state> shared, connection_info conn,
            uint64_t n)
    : shared_(std::move(shared)), conn_(std::move(conn)), n_(n) {}

  kj::Promise<void> register_(RegisterContext context) override {
    auto params = context.getParams();
    std::string id = params.getCamera();
    auto what = "register camera '" + id + "'";
    auto who = authorize(params.getToken(), what);
    if (!valid_camera_id(id))
      throw_rpc_error("bad_camera_id: '" + id
                      + "' is not a camera id (1-64 of A-Z a-z 0-9 . _ -)");
    if (!who.may_register(id)) {
      log::warning("gateway", "refused to let ", who.name, " ", what);
      throw_rpc_error("forbidden: credential '" + who.name + "' ("
                      + to_string(who.role) + ") may not " + what);
    }
    auto shared = shared_;
    return ask<camera_actor>(shared_->sys, shared_->node, register_atom_v, id)
      .then([context, shared, id, who, n = n_](camera_actor&& cam) mutable {
        auto i = shared->live.find(id);
        if (i != shared->live.end())
          i->second->end("camera " + id + " registered again");
        auto impl
          = kj::heap<session_impl>(shared, id, std::move(cam), who.name, n);
        shared->live[id] = impl.get();
        auto results = context.getResults();
        results.setSession(kj::mv(impl));
        server_limits limits;
        limits.max_frames = shared->opts.max_frames;
        limits.max_frame_bytes = shared->opts.max_frame_bytes;
        limits.max_message_bytes = shared->opts.max_message_bytes;
        wire::write(limits, results.initLimits());
        log::info("gateway", "camera ", id, " registered");
      });
  }

  kj::Promise<void> admin(AdminContext context) override {
    auto what = std::string{"open the admin interface"};
    auto who = authorize(context.getParams().getToken(), what);
    if (!who.may_read_admin())
      throw_rpc_error("forbidden: credential '" + who.name
                      + "' (camera) may not " + what);
    if (!shared_->opts.admin_remote && !conn_.loopback()) {
      log::warning("gateway", "refused to let ", conn_.peer, " ", what,
                   ": not loopback (see --admin-remote)");
      throw_rpc_error("forbidden: the admin interface answers only on "
                      "loopback (recld --admin-remote opens it to "
                      + conn_.peer + ")");
    }
    context.getResults().setAdmin(detail::admin_capability(shared_, who));
    return kj::READY_NOW;
  }

private:
  principal authorize(capnp::Text::Reader token, const std::string& what) {
    auto who
      = shared_->creds.check(std::string_view{token.cStr(), token.size()});
    if (!who) {
      log::warning("gateway", "refused to ", what, ": wrong token");
      throw_rpc_error("unauthorized: wrong token");
    }
    return *who;
  }

  std::shared_ptr<shared_state> shared_;
  connection_info conn_;
  uint64_t n_; ///< this connection's number
};

} // namespace

// -- gateway -----------------------------------------------------------------------

struct gateway::impl {
  std::shared_ptr<shared_state> shared;
  std::thread thread;
  uint16_t port = 0;
  uint16_t metrics_port = 0;
  std::unique_ptr<tls_server> tls;
  std::mutex mtx;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_fulfiller;
  bool stopped = false;
};

gateway::gateway(caf::actor_system& sys, const caf::actor& node,
                 std::shared_ptr<store> db, gateway_options opts)
  : impl_(std::make_unique<impl>()) {
  auto shared = std::make_shared<shared_state>(
    sys, caf::actor_cast<node_actor>(node), std::move(db), std::move(opts));
  impl_->shared = shared;
  impl_->tls = make_tls(shared->opts);
  std::promise<std::pair<uint16_t, uint16_t>> started;
  auto started_future = started.get_future();
  impl_->thread = std::thread([this, shared, &started]() mutable {
    std::string binding = shared->opts.listen;
    try {
      auto io = kj::setupAsyncIo();
      auto& ws = io.waitScope;
      auto& net = io.provider->getNetwork();
      auto listener = net.parseAddress(binding, 7450).wait(ws)->listen();
      door d{shared->opts,
             shared->creds,
             [shared](connection_info conn) {
               auto n = ++shared->connections;
               return door::connection_main{
                 kj::heap<recl_impl>(shared, std::move(conn), n),
                 [shared, n] { shared->end_sessions_on(n); }};
             },
             io.provider->getTimer(),
             shared->counters,
             impl_->tls ? &impl_->tls->context : nullptr};
      auto accepting
        = d.accept_from(*listener).eagerlyEvaluate([](kj::Exception&& e) {
            log::error("gateway", "accepting: ", e.getDescription().cStr());
          });
      kj::Own<kj::ConnectionReceiver> metrics_listener;
      kj::Promise<void> metrics = kj::READY_NOW;
      if (!shared->opts.metrics_listen.empty()) {
        binding = shared->opts.metrics_listen;
        metrics_listener = net.parseAddress(binding, 7451).wait(ws)->listen();
        metrics
          = serve_metrics(*metrics_listener, io.provider->getTimer(),
                          shared->sys, shared->node, shared->counters,
                          shared->opts.max_windows_in_flight)
              .eagerlyEvaluate([](kj::Exception&& e) {
                log::error("gateway", "metrics: ", e.getDescription().cStr());
              });
      }
      auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
      {
        std::lock_guard<std::mutex> guard{impl_->mtx};
        impl_->stop_fulfiller = kj::mv(paf.fulfiller);
      }
      started.set_value(
        {static_cast<uint16_t>(listener->getPort()),
         static_cast<uint16_t>(metrics_listener ? metrics_listener->getPort()
                                                : 0)});
      paf.promise.wait(ws);
      shared->live.clear();
    } catch (const kj::Exception& e) {
      try {
        started.set_exception(std::make_exception_ptr(
          std::runtime_error("cannot listen on " + binding + ": "
                             + std::string{e.getDescription().cStr()})));
      } catch (const std::future_error&) {
        log::error("gateway", "RPC loop failed: ", e.getDescription().cStr());
      }
    }
  });
  try {
    std::tie(impl_->port, impl_->metrics_port) = started_future.get();
  } catch (...) {
    impl_->thread.join();
    impl_->stopped = true;
    throw;
  }
}

gateway::~gateway() {
  stop();
}

uint16_t gateway::port() const {
  return impl_->port;
}

uint16_t gateway::metrics_port() const {
  return impl_->metrics_port;
}

int gateway::drain(double grace_s) {
  auto& s = *impl_->shared;
  s.draining = true;
  auto deadline = now_ms() + grace_s * 1000;
  while (s.counters.windows_in_flight > 0 && now_ms() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return static_cast<int>(s.counters.windows_in_flight);
}

void gateway::stop() {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->stop_fulfiller)
      impl_->stop_fulfiller->fulfill();
  }
  if (impl_->thread.joinable())
    impl_->thread.join();
}

} // namespace recl
