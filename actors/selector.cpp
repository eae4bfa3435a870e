// The selector proposes zoo experts for a window, by policy (--selector):
//   gating  the gating network's top-K (inference on the GPU owner's
//           priority lane), RECL's selector
//   oracle  every expert in the zoo; the safety check then evaluates all of
//           them: the upper bound, whose cost grows with the zoo
//   odin    ODIN's autoencoder: the K experts whose training frames' mean
//           embedding is nearest (L2) to the window's (on the GPU owner)
//   none    no zoo experts: retraining only
//   compare gating serves; for each window the camera also learns what
//           gating, ODIN and the oracle would pick from the same zoo
//           (experiment 2 of recl-bench)

#include "actors/actors.hpp"

#include <caf/all.hpp>

#include <stdexcept>

namespace recl {

namespace {

struct selector_state {
  static inline const char* name = "selector";
  zoo_actor zoo;
  gpu_owner_actor gpu;
};

selector_actor::behavior_type
selector(selector_actor::stateful_pointer<selector_state> self,
         selector_kind policy, zoo_actor z0, gpu_owner_actor gpu0) {
  self->state.zoo = std::move(z0);
  self->state.gpu = std::move(gpu0);
  return {
    [=](restart_atom, const caf::actor_addr& dead, const caf::actor& x) {
      auto& st = self->state;
      if (st.zoo.address() == dead)
        st.zoo = caf::actor_cast<zoo_actor>(x);
      if (st.gpu.address() == dead)
        st.gpu = caf::actor_cast<gpu_owner_actor>(x);
    },
    [=](select_atom, const labelled_window& lw,
        uint32_t k) -> caf::result<std::vector<std::string>> {
      if (policy == selector_kind::none)
        return std::vector<std::string>{};
      if (policy != selector_kind::oracle)
        return self->delegate(self->state.gpu, select_atom_v, lw, k);
      auto rp = self->make_response_promise<std::vector<std::string>>();
      self->request(self->state.zoo, caf::infinite, list_atom_v)
        .then(
          [=](std::vector<expert_info>& xs) mutable {
            std::vector<std::string> ids;
            for (auto& x : xs)
              ids.push_back(x.id);
            rp.deliver(std::move(ids));
          },
          [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [=](compare_atom,
        const labelled_window& lw) -> caf::result<std::vector<std::string>> {
      auto rp = self->make_response_promise<std::vector<std::string>>();
      if (policy != selector_kind::compare) {
        rp.deliver(std::vector<std::string>{});
        return rp;
      }
      self->request(self->state.gpu, caf::infinite, compare_atom_v, lw)
        .then(
          [=](std::vector<std::string>& picks) mutable {
            self->request(self->state.zoo, caf::infinite, list_atom_v)
              .then(
                [=](std::vector<expert_info>& xs) mutable {
                  auto out = picks;
                  out.resize(2);
                  for (auto& x : xs)
                    out.push_back(x.id);
                  rp.deliver(std::move(out));
                },
                [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
          },
          [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

} // namespace

selector_actor spawn_selector(caf::actor_system& sys, selector_kind policy,
                              zoo_actor z, gpu_owner_actor gpu) {
  return sys.spawn(selector, policy, std::move(z), std::move(gpu));
}

} // namespace recl
