// The server's modes: every name parses to its value and back; a bad name
// is refused naming the choices.

#include "actors/modes.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace recl;

TEST_CASE("modes: names parse to their values and back") {
  for (auto x : {"wall", "replay"})
    CHECK(std::string{to_string(parse_clock(x))} == x);
  for (auto x : {"gating", "odin", "oracle", "none", "compare"})
    CHECK(std::string{to_string(parse_selector(x))} == x);
  for (auto x : {"window", "holdout"})
    CHECK(std::string{to_string(parse_gain_frames(x))} == x);
  for (auto x : {"lineage", "confirm", "all"})
    CHECK(std::string{to_string(parse_selection(x))} == x);
  for (auto x : {"next", "holdout"})
    CHECK(std::string{to_string(parse_admission(x))} == x);
  for (auto x : {"served", "line"})
    CHECK(std::string{to_string(parse_train_start(x))} == x);
  CHECK(parse_clock("replay") == clock_kind::replay);
  CHECK(parse_selector("compare") == selector_kind::compare);
}

TEST_CASE("modes: a bad name is refused with the choices") {
  try {
    parse_selector("Gating");
    FAIL("accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string{e.what()}
          == "unknown selector 'Gating' (gating, odin, oracle, none, compare)");
  }
  CHECK_THROWS_AS(parse_clock(""), std::invalid_argument);
  CHECK_THROWS_AS(parse_admission("later"), std::invalid_argument);
}

TEST_CASE("modes: --devices lists one GPU owner per device") {
  using v = std::vector<std::string>;
  CHECK(parse_devices("cpu") == v{"cpu:0"});
  CHECK(parse_devices("cpu:3") == v{"cpu:0", "cpu:1", "cpu:2"});
  CHECK(parse_devices("cuda:0,cuda:1") == v{"cuda:0", "cuda:1"});
  CHECK(parse_devices("cpu,cpu") == v{"cpu:0", "cpu:1"});
  for (auto bad : {"", "gpu", "cuda", "cpu:0", "cpu:65", "cpu:x",
                   "cpu:", "cuda:0,cuda:0", "cpu:2,", "cuda:-1"})
    CHECK_THROWS_AS(parse_devices(bad), std::invalid_argument);
}
