// Credentials: roles decide what a token may do; only salted hashes reach
// the disk; a revoked token stops working; the file survives a reload and a
// failed write changes nothing.

#include "actors/credentials.hpp"
#include "common/util.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>

using namespace recl;

namespace {

const std::string master = "master-token-0123";

} // namespace

TEST_CASE("credentials: the master token is an admin, others are nobody") {
  test::temp_dir dir;
  credentials c{dir.path() + "/credentials", master};
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
  credentials c{dir.path() + "/credentials", master};
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
  auto file = dir.path() + "/credentials";
  std::string token;
  {
    credentials c{file, master};
    token = c.add("cam-1", role::camera, "");
    CHECK(token.rfind("cam-1:", 0) == 0);
    CHECK(!c.check("cam-1:" + std::string(32, '0')));
    CHECK(!c.check("cam-1"));
    CHECK(!c.check("cam-2" + token.substr(5)));
  }
  auto text = read_file(file);
  CHECK(text.find(token.substr(6)) == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Another credential with the same secret would hash differently (salt).
  credentials again{file, master};
  auto who = again.check(token);
  REQUIRE(who);
  CHECK(who->role == role::camera);
  REQUIRE(again.list().size() == 1);
  CHECK(again.list()[0].role == "camera");
  CHECK(again.list()[0].cameras == "cam-1");
  CHECK(again.list()[0].created_unix_ms > 0);
}

TEST_CASE("credentials: a revoked token stops working, also after a reload") {
  test::temp_dir dir;
  auto file = dir.path() + "/credentials";
  credentials c{file, master};
  auto a = c.add("a", role::camera, "");
  auto b = c.add("b", role::viewer, "");
  CHECK(c.revoke("a"));
  CHECK(!c.revoke("a"));
  CHECK(!c.check(a));
  CHECK(c.check(b));
  credentials again{file, master};
  CHECK(!again.check(a));
  CHECK(again.check(b));
  // The name is free again, with a new secret.
  auto a2 = again.add("a", role::camera, "");
  CHECK(a2 != a);
  CHECK(again.check(a2));
}

TEST_CASE("credentials: bad names, patterns, roles and files are refused") {
  test::temp_dir dir;
  credentials c{dir.path() + "/credentials", master};
  CHECK_THROWS_AS(c.add("", role::camera, ""), std::invalid_argument);
  CHECK_THROWS_AS(c.add("has space", role::camera, ""), std::invalid_argument);
  CHECK_THROWS_AS(c.add("master", role::admin, ""), std::invalid_argument);
  CHECK_THROWS_AS(c.add("x", role::camera, "a b"), std::invalid_argument);
  c.add("x", role::camera, "");
  CHECK_THROWS_AS(c.add("x", role::viewer, ""), std::invalid_argument);
  CHECK_THROWS_AS(parse_role("root"), std::invalid_argument);
  CHECK(parse_role("viewer") == role::viewer);

  // A file that cannot be written: nothing changes.
  credentials nowhere{dir.path() + "/missing/credentials", master};
  CHECK_THROWS_AS(nowhere.add("y", role::camera, ""), std::runtime_error);
  CHECK(nowhere.list().empty());

  // A malformed file is refused at start, naming the line.
  auto bad = dir.path() + "/bad";
  write_file_atomic(bad, "# header\ncam-1 camera cam-1 12 zz\n", 0600);
  try {
    credentials broken{bad, master};
    FAIL("accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()} == bad + ":2: not a credential line");
  }
}
