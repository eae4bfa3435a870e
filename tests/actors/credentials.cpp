// Credentials: roles decide what a token may do; only salted hashes reach
// the store (real RocksDB); a revoked token stops working; they survive a
// reopen, and a failed write changes nothing.

#include "actors/credentials.hpp"
#include "common/util.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace recl;

namespace {

const std::string master = "master-token-0123";

std::shared_ptr<store> open_store(const test::temp_dir& dir) {
  return store::open(dir.path() + "/data");
}

} // namespace

TEST_CASE("credentials: the master token is an admin, others are nobody") {
  test::temp_dir dir;
  credentials c{open_store(dir), master};
  auto who = c.check(master);
  REQUIRE(who);
  CHECK(who->role == role::admin);
  CHECK(who->may_register("any-camera"));
  CHECK(who->may_write_admin());
  CHECK(!c.check("master-token-0124"));
  CHECK(!c.check(""));
  CHECK(!c.check("master:" + master));
}

TEST_CASE("credentials: each role may do its own part") {
  test::temp_dir dir;
  credentials c{open_store(dir), master};
  auto cam = c.check(c.add("cam-1", role::camera, ""));
  REQUIRE(cam);
  CHECK(cam->name == "cam-1");
  CHECK(cam->may_register("cam-1"));
  CHECK(!cam->may_register("cam-2"));
  CHECK(!cam->may_read_admin());
  auto lobby = c.check(c.add("lobby", role::camera, "lobby-*"));
  REQUIRE(lobby);
  CHECK(lobby->may_register("lobby-7"));
  CHECK(!lobby->may_register("lobby"));
  CHECK(!lobby->may_register("gate-1"));
  auto viewer = c.check(c.add("ops", role::viewer, "ignored"));
  REQUIRE(viewer);
  CHECK(viewer->may_read_admin());
  CHECK(!viewer->may_write_admin());
  CHECK(!viewer->may_register("cam-1"));
  auto admin = c.check(c.add("root-2", role::admin, ""));
  REQUIRE(admin);
  CHECK(admin->may_write_admin());
  CHECK(admin->may_register("cam-9"));
}

TEST_CASE("credentials: a token is its name and a secret, and only the "
          "secret's salted hash is kept") {
  test::temp_dir dir;
  std::string token;
  {
    credentials c{open_store(dir), master};
    token = c.add("cam-1", role::camera, "");
    CHECK(token.rfind("cam-1:", 0) == 0);
    CHECK(!c.check("cam-1:" + std::string(32, '0')));
    CHECK(!c.check("cam-1"));
    CHECK(!c.check("cam-2" + token.substr(5)));
  }
  auto db = open_store(dir);
  auto record = db->get(family::meta, keys::credential("cam-1"));
  REQUIRE(record);
  CHECK(record->find(token.substr(6)) == std::string::npos);
  credentials again{db, master};
  auto who = again.check(token);
  REQUIRE(who);
  CHECK(who->role == role::camera);
  REQUIRE(again.list().size() == 1);
  CHECK(again.list()[0].role == "camera");
  CHECK(again.list()[0].cameras == "cam-1");
  CHECK(again.list()[0].created_unix_ms > 0);
}

TEST_CASE("credentials: a revoked token stops working, also after a reopen") {
  test::temp_dir dir;
  std::string a, b;
  {
    credentials c{open_store(dir), master};
    a = c.add("a", role::camera, "");
    b = c.add("b", role::viewer, "");
    CHECK(c.revoke("a"));
    CHECK(!c.revoke("a"));
    CHECK(!c.check(a));
    CHECK(c.check(b));
  }
  credentials again{open_store(dir), master};
  CHECK(!again.check(a));
  CHECK(again.check(b));
  // The name is free again, with a new secret.
  auto a2 = again.add("a", role::camera, "");
  CHECK(a2 != a);
  CHECK(again.check(a2));
}

TEST_CASE("credentials: bad names, patterns, roles and records are refused") {
  test::temp_dir dir;
  credentials c{open_store(dir), master};
  CHECK_THROWS_AS(c.add("", role::camera, ""), std::invalid_argument);
  CHECK_THROWS_AS(c.add("has space", role::camera, ""), std::invalid_argument);
  CHECK_THROWS_AS(c.add("master", role::admin, ""), std::invalid_argument);
  CHECK_THROWS_AS(c.add("x", role::camera, "a b"), std::invalid_argument);
  c.add("x", role::camera, "");
  CHECK_THROWS_AS(c.add("x", role::viewer, ""), std::invalid_argument);
  CHECK_THROWS_AS(parse_role("root"), std::invalid_argument);
  CHECK(parse_role("viewer") == role::viewer);

  // A malformed record is refused at start, naming it.
  test::temp_dir bad;
  {
    auto db = store::open(bad.path() + "/data");
    db->put(family::meta, keys::credential("cam-1"), "camera cam-1 12 zz");
  }
  try {
    credentials broken{store::open(bad.path() + "/data"), master};
    FAIL("accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()}
          == "credential 'cam-1': not a credential record");
  }
}

TEST_CASE("credentials: on a full disk a new credential is refused and "
          "nothing changes"
          * doctest::skip(!test::small_disk{1}.mounted())) {
  test::small_disk disk{16};
  REQUIRE_MESSAGE(disk.mounted(), disk.why());
  store_options o;
  o.reserve_bytes = 4 << 20;
  credentials c{store::open(disk.path() + "/data", o), master};
  auto kept = c.add("kept", role::viewer, "");
  disk.fill(1 << 20); // less than the reserve
  CHECK_THROWS_AS(c.add("new", role::camera, ""), std::runtime_error);
  CHECK_THROWS_AS(c.revoke("kept"), std::runtime_error);
  CHECK(c.list().size() == 1);
  CHECK(c.check(kept));
}
