#include "actors/door.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "schema/recl.capnp.h"

#include <arpa/inet.h>
#include <capnp/rpc-twoparty.h>
#include <capnp/serialize-async.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace recl {

namespace {

/// The Hello is read with this limit (8 KiB): a token, and no more.
constexpr uint64_t hello_limit_words = 1024;

/// The peer's IP address, or "?".
std::string peer_of(kj::AsyncIoStream& s) {
  sockaddr_storage addr{};
  kj::uint len = sizeof addr;
  try {
    s.getpeername(reinterpret_cast<sockaddr*>(&addr), &len);
  } catch (const kj::Exception&) {
    return "?";
  }
  char buf[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, buf,
              sizeof buf);
  else if (addr.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, buf,
              sizeof buf);
  return buf;
}

} // namespace

std::unique_ptr<tls_server> make_tls(const gateway_options& opts) {
  if (opts.tls_cert_file.empty())
    return nullptr;
  auto cert = read_file(opts.tls_cert_file);
  auto key = read_file(opts.tls_key_file);
  kj::Maybe<kj::TlsCertificate> client_ca;
  if (!opts.tls_client_ca_file.empty()) {
    auto ca = read_file(opts.tls_client_ca_file);
    try {
      client_ca = kj::TlsCertificate(kj::StringPtr(ca.c_str()));
    } catch (const kj::Exception& e) {
      throw std::runtime_error("cannot use the client CA certificate "
                               + opts.tls_client_ca_file + ": "
                               + e.getDescription().cStr());
    }
  }
  try {
    return std::make_unique<tls_server>(
      kj::TlsKeypair{kj::TlsPrivateKey(kj::StringPtr(key.c_str())),
                     kj::TlsCertificate(kj::StringPtr(cert.c_str()))},
      kj::mv(client_ca));
  } catch (const kj::Exception& e) {
    throw std::runtime_error(
      "cannot use the TLS certificate " + opts.tls_cert_file + " and key "
      + opts.tls_key_file + ": " + e.getDescription().cStr());
  }
}

door::door(const gateway_options& opts, const credentials& creds,
           make_main main, kj::Timer& timer, gateway_counters& counters,
           kj::TlsContext* tls)
  : opts_(opts), creds_(creds), main_(std::move(main)), timer_(timer),
    counters_(counters), tls_(tls) {}

kj::Promise<void> door::accept_from(kj::ConnectionReceiver& listener) {
  return listener.accept().then(
    [this, &listener](kj::Own<kj::AsyncIoStream>&& s) {
      admit(kj::mv(s));
      return accept_from(listener);
    });
}

void door::taskFailed(kj::Exception&& e) {
  log::debug("gateway", "connection ended: ", e.getDescription().cStr());
}

/// Opens a connection unless it is over a limit (then it is closed at once).
void door::admit(kj::Own<kj::AsyncIoStream> s) {
  auto peer = peer_of(*s);
  auto& opts = opts_;
  if (open_ >= opts.max_connections
      || per_peer_[peer] >= opts.max_connections_per_peer) {
    ++counters_.connections_refused;
    if (refused_full_++ % 100 == 0)
      log::warning(
        "gateway", "refused a connection from ", peer, ": ", open_, " open (",
        per_peer_[peer], " from it); limits --max-connections ",
        opts.max_connections, ", --max-connections-per-peer ",
        opts.max_connections_per_peer, " (", refused_full_, " refused so far)");
    return;
  }
  ++open_;
  ++counters_.connections_open;
  ++per_peer_[peer];
  auto closed = kj::defer([this, peer] {
    --open_;
    --counters_.connections_open;
    if (--per_peer_[peer] == 0)
      per_peer_.erase(peer);
  });
  if (tls_) {
    tasks_.add(secure(kj::mv(s), peer).attach(kj::mv(closed)));
    return;
  }
  auto& stream = *s;
  tasks_.add(handshake(stream, peer).attach(kj::mv(s), kj::mv(closed)));
}

/// The TLS handshake, within the handshake timeout, then the Hello.
kj::Promise<void> door::secure(kj::Own<kj::AsyncIoStream> s, std::string peer) {
  auto timeout = timer_.afterDelay(
    static_cast<int64_t>(opts_.handshake_timeout_s * 1000) * kj::MILLISECONDS);
  return tls_->wrapServer(kj::mv(s))
    .then([](kj::Own<kj::AsyncIoStream>&& t) {
      return kj::Maybe<kj::Own<kj::AsyncIoStream>>(kj::mv(t));
    })
    .exclusiveJoin(timeout.then(
      [] { return kj::Maybe<kj::Own<kj::AsyncIoStream>>(nullptr); }))
    .then([this, peer](kj::Maybe<kj::Own<kj::AsyncIoStream>>&& m) {
      KJ_IF_MAYBE (t, m) {
        auto& stream = **t;
        return handshake(stream, peer).attach(kj::mv(*t));
      }
      log::debug("gateway", peer, " did not finish the TLS handshake in time");
      return kj::Promise<void>(kj::READY_NOW);
    });
}

/// Reads the Hello (small limit, bounded time), answers the Welcome, and
/// on the right token serves RPC until the peer disconnects.
kj::Promise<void> door::handshake(kj::AsyncIoStream& stream, std::string peer) {
  capnp::ReaderOptions small;
  small.traversalLimitInWords = hello_limit_words;
  auto timeout = timer_.afterDelay(
    static_cast<int64_t>(opts_.handshake_timeout_s * 1000) * kj::MILLISECONDS);
  auto hello = capnp::readMessage(stream, small)
                 .then([](kj::Own<capnp::MessageReader>&& m) {
                   return kj::Maybe<kj::Own<capnp::MessageReader>>(kj::mv(m));
                 })
                 .exclusiveJoin(timeout.then([] {
                   return kj::Maybe<kj::Own<capnp::MessageReader>>(nullptr);
                 }));
  return hello.then(
    [this, &stream, peer](kj::Maybe<kj::Own<capnp::MessageReader>>&& m) {
      KJ_IF_MAYBE (msg, m) {
        auto token = (*msg)->getRoot<rpc::Hello>().getToken();
        if (auto who
            = creds_.check(std::string_view{token.cStr(), token.size()})) {
          failures_.erase(peer);
          auto main = main_(connection_info{peer, *who});
          return welcome(stream, "")
            .then([this, &stream, main = kj::mv(main)]() mutable {
              return serve(stream, kj::mv(main));
            });
        }
        return refuse(stream, peer);
      }
      log::debug("gateway", peer, " sent no Hello in time");
      return kj::Promise<void>(kj::READY_NOW);
    });
}

/// A wrong token: answered after a delay that doubles with each failure
/// of the same peer (up to 5 s), logged at the 1st, 10th, 100th, ...
kj::Promise<void> door::refuse(kj::AsyncIoStream& stream,
                               const std::string& peer) {
  auto n = ++failures_[peer];
  ++counters_.tokens_refused;
  if (n == 1 || n == 10 || n == 100 || n % 1000 == 0)
    log::warning("gateway", "refused ", n, " wrong token(s) from ", peer);
  auto delay_ms
    = std::min<int64_t>(5000, int64_t{50} << std::min<uint64_t>(n - 1, 10));
  return timer_.afterDelay(delay_ms * kj::MILLISECONDS).then([this, &stream] {
    return welcome(stream, "unauthorized: wrong token");
  });
}

kj::Promise<void> door::welcome(kj::AsyncIoStream& stream,
                                const std::string& error) {
  auto reply = kj::heap<capnp::MallocMessageBuilder>(64);
  reply->initRoot<rpc::Welcome>().setError(error);
  auto& r = *reply;
  return capnp::writeMessage(stream, r).attach(kj::mv(reply));
}

/// RPC with the large message limit, until the peer disconnects.
kj::Promise<void> door::serve(kj::AsyncIoStream& stream, connection_main main) {
  capnp::ReaderOptions ro;
  ro.traversalLimitInWords = opts_.max_message_bytes / 8 + 1;
  auto net = kj::heap<capnp::TwoPartyVatNetwork>(
    stream, capnp::rpc::twoparty::Side::SERVER, ro);
  auto rpc = kj::heap<capnp::RpcSystem<capnp::rpc::twoparty::VatId>>(
    capnp::makeRpcServer(*net, kj::mv(main.main)));
  auto done
    = net->onDisconnect().then([closed = std::move(main.closed)] { closed(); });
  // The RPC system goes before the network it runs on.
  return done.attach(kj::mv(rpc)).attach(kj::mv(net));
}

} // namespace recl
