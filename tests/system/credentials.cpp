// System tests of credentials with roles: the real recld and recl-admin over
// loopback. A camera credential registers only its cameras and opens no admin
// interface; a viewer reads but cannot prune or manage credentials; a revoked
// credential's sessions end; credentials survive a restart; the admin
// interface answers only on loopback unless --admin-remote.

#include "tests/system/daemon.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <doctest/doctest.h>

using namespace recl;
using namespace recl::systest;

namespace {

/// Runs recl-admin against `d` with its master token; returns stdout, or
/// fails the test with its stderr.
std::string admin(const recld_process& d, std::vector<std::string> args) {
  args.insert(args.begin(),
              {"--server", d.address, "--token-file", d.dir + "/auth-token"});
  auto r = test::run(test::bin("recl-admin"), args);
  REQUIRE_MESSAGE(r.code == 0, "recl-admin failed: " << r.err);
  return trim(r.out);
}

/// An IPv4 address of this machine other than loopback, or "".
std::string outside_address() {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0)
    return "";
  std::string out;
  for (auto* i = all; i && out.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
      continue;
    char buf[INET_ADDRSTRLEN];
    auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    if (std::string{buf}.rfind("127.", 0) != 0)
      out = buf;
  }
  ::freeifaddrs(all);
  return out;
}

} // namespace

TEST_CASE("credentials: each role does its part over RPC, a revoked one "
          "ends its sessions, and they survive a restart") {
  recld_process d;
  auto cam = admin(d, {"credentials", "add", "gate", "--role", "camera",
                       "--cameras", "gate-*"});
  auto viewer = admin(d, {"credentials", "add", "ops", "--role", "viewer"});
  CHECK(cam.rfind("gate:", 0) == 0);
  auto list = admin(d, {"credentials", "list"});
  CHECK(contains(list, "gate"));
  CHECK(contains(list, "gate-*"));
  CHECK(contains(list, "ops"));
  CHECK(!contains(list, cam.substr(5)));

  client edge{d.address};
  edge.register_camera("gate-1", cam);
  auto reply = edge.update(0, frames(2), 1);
  CHECK(reply.labels.size() == 2);
  client other{d.address};
  CHECK(contains(rpc_failure([&] { other.register_camera("lobby-1", cam); }),
                 "forbidden: credential 'gate' (camera) may not register "
                 "camera 'lobby-1'"));
  CHECK(contains(rpc_failure([&] { other.status(cam); }), "forbidden"));

  client ops{d.address};
  CHECK(ops.status(viewer).cameras.size() == 1);
  CHECK(contains(rpc_failure([&] { ops.prune(viewer, ""); }),
                 "forbidden: the viewer role may not prune"));
  CHECK(contains(
    rpc_failure([&] { ops.add_credential(viewer, "mine", "admin", ""); }),
    "forbidden"));
  CHECK(contains(rpc_failure([&] { ops.register_camera("gate-2", viewer); }),
                 "forbidden"));
  CHECK(contains(
    rpc_failure([&] { ops.add_credential(d.token, "bad name", "camera", ""); }),
    "bad_credential"));

  CHECK(admin(d, {"credentials", "revoke", "gate"}) == "revoked gate");
  CHECK(contains(rpc_failure([&] { edge.update(1, frames(1), 1); }),
                 "credential 'gate' was revoked"));
  client again{d.address};
  CHECK(contains(rpc_failure([&] { again.register_camera("gate-1", cam); }),
                 "unauthorized"));
  auto r = test::run(test::bin("recl-admin"),
                     {"--server", d.address, "--token", d.token, "credentials",
                      "revoke", "gate"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "no credential named 'gate'"));
  CHECK(d.stop() == 0);

  recld_process restarted{{}, d.dir};
  client later{restarted.address};
  CHECK(later.status(viewer).cameras.size() == 1);
  CHECK(later.credentials(restarted.token).size() == 1);
  CHECK(restarted.stop() == 0);
}

TEST_CASE("credentials: the admin interface answers on loopback only, "
          "unless --admin-remote") {
  auto ip = outside_address();
  if (ip.empty()) {
    MESSAGE("no non-loopback address on this machine: nothing to test");
    return;
  }
  for (bool remote : {false, true}) {
    std::vector<std::string> extra{"--listen", "0.0.0.0:0"};
    if (remote)
      extra.push_back("--admin-remote");
    recld_process d{extra};
    auto port = d.address.substr(d.address.rfind(':') + 1);
    client far{ip + ":" + port};
    if (remote) {
      CHECK(far.status(d.token).cameras.empty());
    } else {
      CHECK(contains(rpc_failure([&] { far.status(d.token); }),
                     "answers only on loopback"));
      client near{"127.0.0.1:" + port};
      CHECK(near.status(d.token).cameras.empty());
      // Cameras may register from anywhere.
      far.register_camera("cam-far", d.token);
    }
    CHECK(d.stop() == 0);
  }
}
