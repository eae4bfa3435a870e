// Which streamed steps a polling edge runs: only those it has not run, also
// when the server's list was full and its last step was replaced.

#include "edge/sender.hpp"

#include <doctest/doctest.h>

using namespace recl;

namespace {

std::vector<streamed_step> steps_with(std::vector<float> accuracies) {
  std::vector<streamed_step> xs;
  for (auto a : accuracies) {
    streamed_step s;
    s.accuracy = a;
    xs.push_back(s);
  }
  return xs;
}

} // namespace

TEST_CASE("edge sender: a poll runs only the steps the edge has not run, "
          "and a replaced last step counts as new") {
  using v = std::vector<size_t>;
  // Nothing run yet: every step, in order.
  CHECK(steps_after(steps_with({0.5f, 0.6f, 0.7f}), -1) == v{0, 1, 2});
  // Ran up to 0.6: only the later step.
  CHECK(steps_after(steps_with({0.5f, 0.6f, 0.7f}), 0.6f) == v{2});
  // Ran them all: nothing new, however often it asks.
  CHECK(steps_after(steps_with({0.5f, 0.6f, 0.7f}), 0.7f).empty());
  CHECK(steps_after({}, -1).empty());
  // The list was full and its last step was replaced by a better one: same
  // length as before, but the replacement is new.
  CHECK(steps_after(steps_with({0.5f, 0.6f, 0.75f}), 0.7f) == v{2});
}
