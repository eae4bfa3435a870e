#pragma once
// The gateway's door: accepts connections, counts them in all and per peer,
// and starts Cap'n Proto RPC on those whose first message (a Hello, read
// with an 8 KiB limit and a deadline) carries a valid token. Everything before
// the handshake is bounded, so a peer without the token can make recld
// allocate only a few KiB. Lives on the gateway's kj thread.

#include "actors/credentials.hpp"
#include "actors/gateway.hpp"
#include "actors/metrics.hpp"

#include <capnp/capability.h>
#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <kj/timer.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace recl {

/// Who is on the other end of a connection that passed the handshake.
struct connection_info {
  std::string peer; ///< IP address
  principal who;    ///< whose token the Hello carried

  /// Whether the peer is this machine's loopback.
  bool loopback() const {
    return peer.rfind("127.", 0) == 0 || peer == "::1"
           || peer.rfind("::ffff:127.", 0) == 0;
  }
};

/// A TLS server context and the keypair it uses.
struct tls_server {
  /// With `client_ca`, a client must present a certificate it signed.
  tls_server(kj::TlsKeypair pair, kj::Maybe<kj::TlsCertificate> client_ca)
    : keypair(kj::mv(pair)), client_ca(kj::mv(client_ca)), context(options()) {}

  kj::TlsContext::Options options() {
    kj::TlsContext::Options o;
    o.defaultKeypair = keypair;
    KJ_IF_MAYBE (ca, client_ca) {
      o.verifyClients = true;
      o.useSystemTrustStore = false;
      o.trustedCertificates = kj::arrayPtr(ca, 1);
    }
    return o;
  }

  kj::TlsKeypair keypair;
  kj::Maybe<kj::TlsCertificate> client_ca; // before the context using it
  kj::TlsContext context;
};

/// The TLS context of --tls-cert and --tls-key (and --tls-client-ca), or
/// null for plain TCP.
/// Throws std::runtime_error naming the file that cannot be used.
std::unique_ptr<tls_server> make_tls(const gateway_options& opts);

class door final : public kj::TaskSet::ErrorHandler {
public:
  /// What a connection that passed the handshake gets to call, and what to
  /// do when it ends (at once, even while calls on it are still running).
  struct connection_main {
    capnp::Capability::Client main;
    std::function<void()> closed;
  };
  using make_main = std::function<connection_main(connection_info)>;

  /// Checks Hello tokens against `creds` and counts into `counters`; with
  /// `tls`, every connection first completes a TLS handshake (within the
  /// handshake timeout). All three must outlive the door.
  door(const gateway_options& opts, const credentials& creds, make_main main,
       kj::Timer& timer, gateway_counters& counters,
       kj::TlsContext* tls = nullptr);

  /// Accepts connections from `listener` until the promise is dropped.
  kj::Promise<void> accept_from(kj::ConnectionReceiver& listener);

  void taskFailed(kj::Exception&& e) override;

private:
  void admit(kj::Own<kj::AsyncIoStream> s);
  kj::Promise<void> secure(kj::Own<kj::AsyncIoStream> s, std::string peer);
  kj::Promise<void> handshake(kj::AsyncIoStream& stream, std::string peer);
  kj::Promise<void> refuse(kj::AsyncIoStream& stream, const std::string& peer);
  kj::Promise<void> welcome(kj::AsyncIoStream& stream,
                            const std::string& error);
  kj::Promise<void> serve(kj::AsyncIoStream& stream, connection_main main);

  gateway_options opts_;
  const credentials& creds_;
  make_main main_;
  kj::Timer& timer_;
  gateway_counters& counters_;
  kj::TlsContext* tls_;
  uint32_t open_ = 0;
  uint64_t refused_full_ = 0;
  std::map<std::string, uint32_t> per_peer_;
  std::map<std::string, uint64_t> failures_;
  /// Last: its connections, destroyed first, still count themselves out.
  kj::TaskSet tasks_{*this};
};

} // namespace recl
