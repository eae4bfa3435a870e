#include "common/settings.hpp"

#include "common/util.hpp"
#include "tests/system/process.hpp"

#include <doctest/doctest.h>

using namespace recl;

namespace {

options sample() {
  options o{"prog", "[options]", "about"};
  o.add("port", "N", "a port", "7")
    .add("name", "S", "a name")
    .add("ratio", "X", "a ratio", "0.5")
    .add_flag("json", "json output");
  return o;
}

int parse(options& o, std::vector<std::string> args) {
  std::vector<const char*> argv{"prog"};
  for (auto& a : args)
    argv.push_back(a.c_str());
  return o.parse(static_cast<int>(argv.size()), argv.data()) ? 1 : 0;
}

} // namespace

TEST_CASE("options: command line values, defaults and flags") {
  auto o = sample();
  CHECK(parse(o, {"--port", "42", "--json", "pos", "--name=x y"}) == 1);
  CHECK(o.get_int("port", 0, 100) == 42);
  CHECK(o.get("name") == "x y");
  CHECK(o.flag("json"));
  CHECK(o.get_double("ratio", 0, 1) == doctest::Approx(0.5));
  CHECK_FALSE(o.given("ratio"));
  REQUIRE(o.positional().size() == 1);
  CHECK(o.positional()[0] == "pos");
}

TEST_CASE("options: --help and bad command lines") {
  auto o = sample();
  CHECK(parse(o, {"--help"}) == 0);
  CHECK(o.help().find("--port N") != std::string::npos);
  auto o2 = sample();
  CHECK_THROWS_WITH_AS(parse(o2, {"--nope"}),
                       "unknown option '--nope' (see --help)", usage_error);
  auto o3 = sample();
  CHECK_THROWS_AS(parse(o3, {"--port"}), usage_error);
  auto o4 = sample();
  parse(o4, {"--port", "abc"});
  CHECK_THROWS_WITH_AS(o4.get_int("port", 0, 10),
                       "--port: 'abc' is not an integer", usage_error);
  auto o5 = sample();
  parse(o5, {"--port", "11"});
  CHECK_THROWS_WITH_AS(o5.get_int("port", 0, 10),
                       "--port: 11 is out of range [0, 10]", usage_error);
}

TEST_CASE("options: config files, with the command line winning") {
  test::temp_dir dir;
  auto path = dir.path() + "/x.conf";
  write_file_atomic(path, "# a comment\nport = 9   # trailing\n\n"
                          "name = \"quoted\"\nratio=0.25\njson = true\n");
  auto o = sample();
  parse(o, {"--port", "3"});
  o.load_file(path);
  CHECK(o.get_int("port", 0, 10) == 3);
  CHECK(o.get("name") == "quoted");
  CHECK(o.get_double("ratio", 0, 1) == doctest::Approx(0.25));
  CHECK(o.flag("json"));

  write_file_atomic(path, "port = 9\nbogus = 1\n");
  auto o2 = sample();
  CHECK_THROWS_WITH_AS(o2.load_file(path),
                       (path + ":2: unknown setting 'bogus'").c_str(),
                       usage_error);
  write_file_atomic(path, "ratio = lots\n");
  auto o3 = sample();
  o3.load_file(path);
  CHECK_THROWS_WITH_AS(o3.get_double("ratio", 0, 1),
                       (path + ":1: ratio: 'lots' is not a number").c_str(),
                       usage_error);
  write_file_atomic(path, "just words\n");
  auto o4 = sample();
  CHECK_THROWS_AS(o4.load_file(path), usage_error);
  auto o5 = sample();
  CHECK_THROWS_AS(o5.load_file(dir.path() + "/missing.conf"), usage_error);
}

TEST_CASE("util: endpoints, camera ids, token comparison") {
  auto ep = parse_endpoint("127.0.0.1:0");
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 0);
  CHECK(parse_endpoint("[::1]:80").host == "[::1]");
  CHECK_THROWS(parse_endpoint("localhost"));
  CHECK_THROWS(parse_endpoint("h:99999"));
  CHECK_THROWS(parse_endpoint("h:1x"));
  CHECK(valid_camera_id("cam-1.a_B"));
  CHECK_FALSE(valid_camera_id(""));
  CHECK_FALSE(valid_camera_id("a b"));
  CHECK_FALSE(valid_camera_id(std::string(65, 'a')));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "secret2"));
  CHECK(random_hex(16).size() == 32);
  CHECK(random_hex(16) != random_hex(16));
}

TEST_CASE(
  "settings: sizes are WxH in multiples of 32, anything else is named") {
  auto o = sample();
  CHECK(parse(o, {"--name", "320x192"}) == 1);
  CHECK(o.get_size("name", 1024) == std::pair<int, int>{320, 192});
  for (std::string bad :
       {"320", "320x", "x192", "320x190", "16x32", "320x192x3", "2048x1024",
        "32X32", "99999999999x32"}) {
    auto p = sample();
    REQUIRE(parse(p, {"--name", bad}) == 1);
    CHECK_THROWS_WITH_AS(p.get_size("name", 1024),
                         ("--name: '" + bad
                          + "' is not WxH with multiples of "
                            "32 in [32, 1024]")
                           .c_str(),
                         usage_error);
  }
}

TEST_CASE("run_command: --help, usage errors 2, other failures 1, else the "
          "body's code") {
  auto run = [](std::vector<std::string> args, std::function<int()> body) {
    options o{"prog", "[options]", "A test command."};
    o.add("n", "N", "a number", "1");
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    return run_command(o, static_cast<int>(argv.size()), argv.data(), body);
  };
  bool ran = false;
  auto body = [&] {
    ran = true;
    return 7;
  };
  CHECK(run({"prog", "--help"}, body) == 0);
  CHECK_FALSE(ran);
  CHECK(run({"prog", "--bogus"}, body) == 2);
  CHECK_FALSE(ran);
  CHECK(run({"prog"}, body) == 7);
  CHECK(ran);
  CHECK(run({"prog"}, []() -> int { throw usage_error("bad"); }) == 2);
  CHECK(run({"prog"}, []() -> int { throw std::runtime_error("io"); }) == 1);
}
