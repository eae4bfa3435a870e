#pragma once
// Bridges kj promises (the gateway's RPC and HTTP thread) and actor
// requests: a call on the kj thread becomes a request from a short-lived
// actor, and its answer comes back as a kj promise. Neither side ever
// blocks on the other.

#include "actors/actors.hpp" // describe()

#include <caf/all.hpp>
#include <kj/async.h>

#include <memory>
#include <optional>
#include <string>

namespace recl {

/// A reply from the actor side: a value or an error text.
template <class T>
struct outcome {
  std::optional<T> value;
  std::string error;
};

[[noreturn]] inline void throw_rpc_error(const std::string& msg) {
  kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__,
                                        __LINE__, kj::str(msg)));
}

/// Sends a request to `dest` from a short-lived actor and returns a kj promise
/// for its answer. The kj thread never waits on CAF and vice versa; if the
/// RPC is cancelled (client gone), the late fulfil is a no-op.
template <class T, class Handle, class... Ts>
kj::Promise<T> ask(caf::actor_system& sys, const Handle& dest, Ts... xs) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<outcome<T>>();
  auto fulfiller
    = std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<outcome<T>>>>(
      kj::mv(paf.fulfiller));
  // The fulfiller goes in as a spawn argument, not a capture: CAF 0.17
  // dereferences a null argument tuple for a function actor spawned without
  // arguments (undefined behaviour that UBSan reports).
  using fulfiller_ptr = decltype(fulfiller);
  sys.spawn(
    [=](caf::event_based_actor* self, fulfiller_ptr done) {
      self->request(dest, caf::infinite, xs...)
        .then(
          [=](T& x) {
            outcome<T> o;
            o.value = std::move(x);
            (*done)->fulfill(std::move(o));
          },
          [=](caf::error& e) {
            outcome<T> o;
            o.error = describe(e);
            (*done)->fulfill(std::move(o));
          });
    },
    fulfiller);
  return paf.promise.then([](outcome<T>&& o) -> T {
    if (!o.value)
      throw_rpc_error(o.error);
    return std::move(*o.value);
  });
}

} // namespace recl
