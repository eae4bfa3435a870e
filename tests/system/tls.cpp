// System tests of TLS on the RPC port (recld --tls-cert/--tls-key): the real
// daemon and clients over loopback, with self-signed certificates made by the
// openssl command.

#include "tests/system/certificate.hpp"
#include "tests/system/daemon.hpp"

#include <doctest/doctest.h>

using namespace recl;
using namespace recl::systest;

namespace {

std::string port_of(const recld_process& d) {
  return d.address.substr(d.address.rfind(':') + 1);
}

} // namespace

TEST_CASE("tls: with a certificate, edges and admins talk TLS, plain and "
          "untrusting clients are refused") {
  test::temp_dir dir;
  test::certificate server{dir.path(), "localhost"};
  test::certificate stranger{dir.path(), "stranger"};
  recld_process d{{"--tls-cert", server.cert, "--tls-key", server.key}};
  auto at = "localhost:" + port_of(d);
  tls_options trust{true, server.cert};

  client edge{at, 256ull << 20, trust};
  edge.register_camera("cam-tls", d.token);
  CHECK(edge.update(0, frames(2), 1).labels.size() == 2);
  client admin{at, 256ull << 20, trust};
  CHECK(admin.status(d.token).cameras.size() == 1);

  client plain{at};
  CHECK(contains(rpc_failure([&] { plain.status(d.token); }),
                 "connect with --tls or --tls-ca"));
  CHECK(contains(rpc_failure([&] {
                   client wrong{at, 256ull << 20, {true, stranger.cert}};
                 }),
                 "not trusted"));
  // The certificate names localhost, not the address.
  CHECK(contains(rpc_failure([&] {
                   client by_ip{d.address, 256ull << 20, trust};
                 }),
                 "hostname mismatch"));
  auto r
    = test::run(test::bin("recl-admin"), {"--server", at, "--token", d.token,
                                          "--tls-ca", server.cert, "status"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "cameras: 1"));
  CHECK(d.proc->running());
  CHECK(d.stop() == 0);
}

TEST_CASE("tls: with --tls-client-ca, only clients presenting a certificate "
          "the CA signed get in") {
  test::temp_dir dir;
  test::certificate server{dir.path(), "localhost"};
  // A self-signed client certificate is its own authority.
  test::certificate camera{dir.path(), "cam-1"};
  test::certificate stranger{dir.path(), "stranger"};
  recld_process d{{"--tls-cert", server.cert, "--tls-key", server.key,
                   "--tls-client-ca", camera.cert}};
  auto at = "localhost:" + port_of(d);

  tls_options known{true, server.cert, camera.cert, camera.key};
  client edge{at, 256ull << 20, known};
  edge.register_camera("cam-1", d.token);
  CHECK(edge.update(0, frames(2), 1).labels.size() == 2);

  // No certificate, or one the CA did not sign: the handshake fails and
  // nothing is served.
  CHECK(contains(rpc_failure([&] {
                   client anonymous{at, 256ull << 20, {true, server.cert}};
                   anonymous.status(d.token);
                 }),
                 "connect with --tls-cert and --tls-key"));
  CHECK(!rpc_failure([&] {
           client wrong{at,
                        256ull << 20,
                        {true, server.cert, stranger.cert, stranger.key}};
           wrong.status(d.token);
         }).empty());
  // recl-admin presents its certificate with --tls-cert/--tls-key.
  auto r
    = test::run(test::bin("recl-admin"),
                {"--server", at, "--token", d.token, "--tls-ca", server.cert,
                 "--tls-cert", camera.cert, "--tls-key", camera.key, "status"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "cameras: 1"));
  r = test::run(test::bin("recl-admin"),
                {"--server", at, "--token", d.token, "--tls-ca", server.cert,
                 "--tls-cert", camera.cert, "status"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "give --tls-cert and --tls-key together"));
  CHECK(d.proc->running());
  CHECK(d.stop() == 0);
}

TEST_CASE("tls: a missing or unusable certificate stops the start with a "
          "clear error") {
  test::temp_dir dir;
  test::certificate server{dir.path(), "localhost"};
  auto base = std::vector<std::string>{"--data-dir",    dir.path() + "/data",
                                       "--listen",      "127.0.0.1:0",
                                       "--base-expert", "none",
                                       "--teacher",     "hog"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run(test::bin("recld"), args, 60);
  };
  auto r = with({"--tls-cert", server.cert});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "give --tls-cert and --tls-key together"));
  r = with({"--tls-cert", server.cert, "--tls-key", dir.path() + "/none"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "is not a readable file"));
  r = with({"--tls-cert", server.key, "--tls-key", server.key});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "cannot use the TLS certificate"));
  r = with({"--tls-client-ca", server.cert});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--tls-client-ca needs --tls-cert"));
  r = with({"--tls-cert", server.cert, "--tls-key", server.key,
            "--tls-client-ca", server.key});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "cannot use the client CA certificate"));
}
