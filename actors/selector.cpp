// The selector proposes zoo experts for a window. Until the gating network
// exists (learning-core issue) it proposes the K most recently admitted
// experts: a plain recency rule, stated as such in the logs.

#include "actors/actors.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace recl {

namespace {

struct selector_state {
  static inline const char* name = "selector";
};

selector_actor::behavior_type
selector(selector_actor::stateful_pointer<selector_state> self, zoo_actor z) {
  return {
    [=](select_atom, const labelled_window&,
        uint32_t k) -> caf::result<std::vector<std::string>> {
      auto rp = self->make_response_promise<std::vector<std::string>>();
      self->request(z, caf::infinite, list_atom_v)
        .then(
          [=](std::vector<expert_info>& xs) mutable {
            std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) {
              return a.admitted_unix_ms > b.admitted_unix_ms;
            });
            std::vector<std::string> ids;
            for (size_t i = 0; i < xs.size() && i < k; ++i)
              ids.push_back(xs[i].id);
            rp.deliver(std::move(ids));
          },
          [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

} // namespace

selector_actor spawn_selector(caf::actor_system& sys, zoo_actor z) {
  return sys.spawn(selector, std::move(z));
}

} // namespace recl
