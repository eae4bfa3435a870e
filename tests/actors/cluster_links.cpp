// Cluster links under knocks: a client without the cluster's certificate
// fails its TLS handshake, and that must not break the links that are up.
// Real CAF middlemen with the OpenSSL module on loopback, in one process:
// one publishes an echo actor, the other sends it large messages (which
// arrive in pieces, so each ends in a read that waits for more) while a
// third party knocks without a certificate, again and again.

#include "actors/cluster.hpp"
#include "tests/system/certificate.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace recl;

namespace {

/// One TLS handshake with the node at 127.0.0.1:`port`, offering no
/// certificate; true if the node refused it.
bool knock(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
  bool refused = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0) {
    auto* ctx = SSL_CTX_new(TLS_client_method());
    auto* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    // The handshake fails (the node asks for a certificate); if it got
    // through, the node refuses on the first read.
    char byte;
    refused = SSL_connect(ssl) != 1 || SSL_read(ssl, &byte, 1) <= 0;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error(); // this thread's, not the node's
  }
  ::close(fd);
  return refused;
}

/// An actor system with the cluster's modules, as recld's.
struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  explicit node(const test::certificate& c) {
    add_cluster_modules(cfg, {c.cert, c.key, c.cert});
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

} // namespace

TEST_CASE("cluster links: handshakes refused for want of a certificate leave "
          "the links that are up working") {
  test::temp_dir tmp;
  test::certificate good{tmp.path(), "recl-node"};
  node a{good};
  auto echo = a.sys->spawn(
    []() -> caf::behavior { return {[](const std::string& s) { return s; }}; });
  auto port = caf::openssl::publish(echo, 0, "127.0.0.1", true);
  REQUIRE_MESSAGE(static_cast<bool>(port),
                  (port ? std::string{} : a.sys->render(port.error())));
  node b{good};
  auto far = caf::openssl::remote_actor(*b.sys, "127.0.0.1", *port);
  REQUIRE_MESSAGE(static_cast<bool>(far),
                  (far ? std::string{} : b.sys->render(far.error())));

  std::atomic<bool> stop{false};
  std::atomic<int> refused{0}, knocks{0};
  std::thread knocker{[&] {
    while (!stop) {
      knocks += 1;
      refused += knock(*port) ? 1 : 0;
    }
  }};
  caf::scoped_actor self{*b.sys};
  std::string big(256 * 1024, 'x');
  int echoed = 0;
  std::string failed;
  for (int i = 0; i < 200 && failed.empty(); ++i)
    self->request(*far, std::chrono::seconds(10), big)
      .receive([&](std::string& s) { echoed += s == big ? 1 : 0; },
               [&](caf::error& e) { failed = b.sys->render(e); });
  stop = true;
  knocker.join();
  CHECK_MESSAGE(failed.empty(), failed);
  CHECK(echoed == 200);
  // Every knock was refused, and there were enough of them to matter.
  CHECK(refused == knocks);
  CHECK(knocks >= 20);
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}
