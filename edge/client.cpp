#include "edge/client.hpp"

#include "common/settings.hpp"
#include "common/util.hpp"
#include "schema/wire.hpp"

#include <capnp/rpc-twoparty.h>
#include <capnp/serialize-async.h>
#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <cstdlib>
#include <optional>

namespace recl {

namespace {

/// The server's reason, without kj's "remote exception: " decoration.
std::string reason(const kj::Exception& e) {
  std::string text = e.getDescription().cStr();
  for (auto prefix : {"remote exception: ", "Disconnected: "}) {
    auto p = text.find(prefix);
    if (p == 0)
      text = text.substr(std::string{prefix}.size());
  }
  if (e.getType() == kj::Exception::Type::DISCONNECTED)
    return "disconnected: " + text;
  return text;
}

template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const kj::Exception& e) {
    throw rpc_error(reason(e));
  }
}

} // namespace

/// One connection to recld: TCP at construction, then (at the first call
/// with a token) the Hello/Welcome handshake of schema/recl.capnp, then RPC.
/// A refused handshake closes the connection; the next call dials again.
/// kj allows one event loop per thread: a thread's clients share it.
static std::shared_ptr<kj::AsyncIoContext> thread_io() {
  thread_local std::weak_ptr<kj::AsyncIoContext> current;
  auto io = current.lock();
  if (!io) {
    io = std::make_shared<kj::AsyncIoContext>(kj::setupAsyncIo());
    current = io;
  }
  return io;
}

struct client::impl {
  std::shared_ptr<kj::AsyncIoContext> io = thread_io(); // first: outlives all
  std::string server;
  capnp::ReaderOptions ro;
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyVatNetwork> net;
  kj::Own<capnp::RpcSystem<capnp::rpc::twoparty::VatId>> rpc;
  std::optional<rpc::Recl::Client> root;
  std::optional<rpc::CameraSession::Client> session;

  std::vector<kj::TlsCertificate> trusted; // before the context using them
  kj::Maybe<kj::TlsKeypair> mine;          // this client's certificate
  kj::Own<kj::TlsContext> tls;             // null: plain TCP

  kj::WaitScope& ws() { return io->waitScope; }

  void use_tls(const tls_options& t) {
    kj::TlsContext::Options o;
    if (!t.ca_file.empty()) {
      std::string pem;
      try {
        pem = read_file(t.ca_file);
      } catch (const std::exception& e) {
        throw rpc_error(std::string{e.what()} + " (--tls-ca)");
      }
      trusted.emplace_back(kj::StringPtr(pem.c_str()));
      o.trustedCertificates = kj::arrayPtr(trusted.data(), trusted.size());
      o.useSystemTrustStore = false;
    }
    if (!t.cert_file.empty()) {
      std::string cert, key;
      try {
        cert = read_file(t.cert_file);
        key = read_file(t.key_file);
        mine = kj::TlsKeypair{kj::TlsPrivateKey(kj::StringPtr(key.c_str())),
                              kj::TlsCertificate(kj::StringPtr(cert.c_str()))};
      } catch (const std::exception& e) {
        throw rpc_error(std::string{e.what()} + " (--tls-cert, --tls-key)");
      } catch (const kj::Exception& e) {
        throw rpc_error("cannot use the certificate " + t.cert_file
                        + " and key " + t.key_file + ": "
                        + e.getDescription().cStr());
      }
      KJ_IF_MAYBE (pair, mine)
        o.defaultKeypair = *pair;
    }
    tls = kj::heap<kj::TlsContext>(kj::mv(o));
  }

  void dial() {
    auto addr
      = io->provider->getNetwork().parseAddress(server, 7450).wait(ws());
    stream = addr->connect().wait(ws());
    if (tls)
      stream = tls->wrapClient(kj::mv(stream), parse_endpoint(server).host)
                 .wait(ws());
  }

  /// Sends the Hello with `token`; returns the Welcome's error ("" = in).
  std::string hello(const std::string& token) {
    try {
      capnp::MallocMessageBuilder msg;
      msg.initRoot<rpc::Hello>().setToken(token);
      capnp::writeMessage(*stream, msg).wait(ws());
      capnp::ReaderOptions small;
      small.traversalLimitInWords = 1024;
      auto reply = capnp::readMessage(*stream, small).wait(ws());
      return reply->getRoot<rpc::Welcome>().getError();
    } catch (const kj::Exception& e) {
      stream = nullptr;
      std::string what = e.getDescription().cStr();
      if (what.find("certificate required") != std::string::npos)
        throw rpc_error(reason(e)
                        + " (recld asks for a client certificate: connect "
                          "with --tls-cert and --tls-key)");
      if (tls || e.getType() != kj::Exception::Type::DISCONNECTED)
        throw;
      // A TLS server hangs up on a plain Hello.
      throw rpc_error(reason(e)
                      + " (if recld runs with --tls-cert, connect with --tls "
                        "or --tls-ca)");
    }
  }

  /// The root capability, after proving `token` on this connection.
  rpc::Recl::Client& open(const std::string& token) {
    if (root)
      return *root;
    if (!stream)
      dial();
    std::string error = hello(token);
    if (!error.empty()) {
      stream = nullptr;
      throw rpc_error(error);
    }
    net = kj::heap<capnp::TwoPartyVatNetwork>(
      *stream, capnp::rpc::twoparty::Side::CLIENT, ro);
    rpc = kj::heap<capnp::RpcSystem<capnp::rpc::twoparty::VatId>>(
      capnp::makeRpcClient(*net));
    capnp::MallocMessageBuilder vat;
    auto id = vat.initRoot<capnp::rpc::twoparty::VatId>();
    id.setSide(capnp::rpc::twoparty::Side::SERVER);
    root.emplace(rpc->bootstrap(id).castAs<rpc::Recl>());
    return *root;
  }

  /// The Admin capability for `token` (one round trip).
  rpc::Admin::Client admin(const std::string& token) {
    auto req = open(token).adminRequest();
    req.setToken(token);
    return req.send().wait(ws()).getAdmin();
  }
};

client::client(const std::string& server, uint64_t max_message_bytes,
               tls_options tls)
  : impl_(std::make_unique<impl>()) {
  guarded([&] {
    impl_->server = server;
    impl_->ro.traversalLimitInWords = max_message_bytes / 8 + 1;
    if (tls.on())
      impl_->use_tls(tls);
    impl_->dial();
    return 0;
  });
}

client::~client() {
  try {
    impl_->session.reset();
    impl_->root.reset();
    impl_->rpc = nullptr;
    impl_->net = nullptr;
    impl_->stream = nullptr;
  } catch (...) {
    // Tearing down a broken connection must not throw from a destructor.
  }
}

server_limits client::register_camera(const std::string& camera,
                                      const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto req = impl_->open(token).registerRequest();
    req.setCamera(camera);
    req.setToken(token);
    auto resp = req.send().wait(ws);
    impl_->session.emplace(resp.getSession());
    auto out = wire::get<server_limits>(resp.getLimits());
    return out;
  });
}

window_reply client::update(uint32_t index, const std::vector<frame>& frames,
                            float sample_fps, const std::string& model_id) {
  return update(index, frames, sample_fps, held_model{model_id, "", {}});
}

window_reply client::update(uint32_t index, const std::vector<frame>& frames,
                            float sample_fps, const held_model& model) {
  if (!impl_->session)
    throw rpc_error("no camera session: register first");
  return guarded([&] {
    auto& ws = impl_->ws();
    window w;
    w.index = index;
    w.sample_fps = sample_fps;
    w.model_id = model.id;
    w.model_hash = model.hash;
    w.updates = model.updates;
    w.frames = frames;
    auto req = impl_->session->updateRequest();
    wire::write(w, req.initWindow());
    window_reply out;
    for (auto& f : frames)
      out.request_bytes += f.bytes.size();
    auto t0 = now_ms();
    auto resp = req.send().wait(ws);
    out.round_trip_ms = now_ms() - t0;
    wire::read(resp.getDecision(), out);
    return out;
  });
}

void client::report(uint32_t window, uint64_t frames_seen,
                    const std::string& model_id, float accuracy) {
  if (!impl_->session)
    throw rpc_error("no camera session: register first");
  guarded([&] {
    auto& ws = impl_->ws();
    auto req = impl_->session->reportRequest();
    edge_stats x;
    x.window = window;
    x.frames_seen = frames_seen;
    x.model_id = model_id;
    x.accuracy = accuracy;
    wire::write(x, req.initStats());
    req.send().wait(ws);
    return 0;
  });
}

std::vector<streamed_step> client::streamed(uint32_t window, bool wait) {
  if (!impl_->session)
    throw rpc_error("no camera session: register first");
  return guarded([&] {
    auto& ws = impl_->ws();
    auto req = impl_->session->streamedRequest();
    req.setWindow(window);
    req.setWait(wait);
    auto resp = req.send().wait(ws);
    std::vector<streamed_step> xs;
    wire::read(resp.getSteps(), xs);
    return xs;
  });
}

void client::close_session() {
  if (!impl_->session)
    return;
  guarded([&] {
    auto& ws = impl_->ws();
    impl_->session->closeRequest().send().wait(ws);
    return 0;
  });
}

status_info client::status(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto resp = admin.statusRequest().send().wait(ws);
    return wire::get<status_info>(resp.getStatus());
  });
}

std::vector<expert_info> client::zoo(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto resp = admin.zooRequest().send().wait(ws);
    return wire::get<std::vector<expert_info>>(resp.getExperts());
  });
}

scheduler_report client::scheduler(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto resp = admin.schedulerRequest().send().wait(ws);
    return wire::get<scheduler_report>(resp.getReport());
  });
}

std::vector<std::string> client::prune(const std::string& token,
                                       const std::string& id) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto preq = admin.pruneRequest();
    preq.setId(id);
    auto resp = preq.send().wait(ws);
    std::vector<std::string> out;
    for (auto x : resp.getRemoved())
      out.emplace_back(x);
    return out;
  });
}

std::string client::add_credential(const std::string& token,
                                   const std::string& name,
                                   const std::string& role,
                                   const std::string& cameras) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto req = admin.addCredentialRequest();
    req.setName(name);
    req.setRole(role);
    req.setCameras(cameras);
    return std::string{req.send().wait(ws).getToken()};
  });
}

bool client::revoke_credential(const std::string& token,
                               const std::string& name) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto req = admin.revokeCredentialRequest();
    req.setName(name);
    return req.send().wait(ws).getRevoked();
  });
}

std::vector<credential_info> client::credentials(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ws();
    auto admin = impl_->admin(token);
    auto resp = admin.credentialsRequest().send().wait(ws);
    return wire::get<std::vector<credential_info>>(resp.getList());
  });
}

double retry_after_s(const rpc_error& e) {
  std::string text = e.what();
  auto at = text.find("retry after ");
  if (text.rfind("busy: ", 0) != 0 || at == std::string::npos)
    return -1;
  try {
    return std::stod(text.substr(at + 12));
  } catch (const std::exception&) {
    return -1;
  }
}

void add_tls_options(options& o) {
  o.add_flag("tls", "connect with TLS, trusting the system's certificate "
                    "authorities (recld --tls-cert)")
    .add("tls-ca", "FILE",
         "connect with TLS, trusting the PEM certificate in FILE (recld's "
         "own, self-signed, or its CA)")
    .add("tls-cert", "FILE",
         "connect with TLS and present this PEM certificate (for a recld "
         "run with --tls-client-ca)")
    .add("tls-key", "FILE", "PEM private key for --tls-cert");
}

tls_options read_tls_options(const options& o) {
  tls_options t;
  t.ca_file = o.get("tls-ca");
  t.cert_file = o.get("tls-cert");
  t.key_file = o.get("tls-key");
  if (t.cert_file.empty() != t.key_file.empty())
    throw usage_error("give --tls-cert and --tls-key together");
  t.enabled = o.flag("tls");
  return t;
}

std::string load_token(const std::string& token, const std::string& file) {
  if (!token.empty())
    return token;
  if (!file.empty()) {
    try {
      return trim(read_file(file));
    } catch (const std::exception& e) {
      throw rpc_error(std::string{e.what()} + " (token file)");
    }
  }
  if (auto* env = std::getenv("RECL_TOKEN"))
    return env;
  return "";
}

} // namespace recl
