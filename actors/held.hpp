#pragma once
// Requests a pool (the GPU pool, the labeler pool) has sent to an actor
// that may go down without answering: a worker node's actor that is gone
// never answers, so each request is held until it settles, and every one
// still held fails at once when the pool sees its actor go down.

#include <caf/error.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace recl {

class held_requests {
public:
  using fail_fn = std::function<void(caf::error)>;

  /// Holds a request until settle(id); `fail` answers it if its actor goes
  /// down first.
  uint64_t hold(fail_fn fail) {
    auto id = next_++;
    by_id_.emplace(id, std::move(fail));
    return id;
  }

  void settle(uint64_t id) { by_id_.erase(id); }

  /// Fails every request still held with `e`; returns how many there were.
  size_t fail_all(const caf::error& e) {
    auto held = std::move(by_id_);
    by_id_.clear();
    for (auto& kv : held)
      kv.second(e);
    return held.size();
  }

private:
  uint64_t next_ = 0;
  std::map<uint64_t, fail_fn> by_id_;
};

/// `f` made to run once: a held request's reply and its failure may both
/// arrive.
template <class F>
auto once(F f) {
  auto done = std::make_shared<bool>(false);
  return [f = std::move(f), done](auto&& x) mutable {
    if (*done)
      return;
    *done = true;
    f(std::forward<decltype(x)>(x));
  };
}

} // namespace recl
