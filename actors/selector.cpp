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
// Whatever the policy, the proposals are scored (the safety check) in the
// same request to the GPU owner that makes them.

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
    [=](check_atom, const labelled_window& lw, uint32_t k,
        const std::vector<std::string>& own) -> caf::result<check_result> {
      auto& st = self->state;
      // Only the oracle and the comparison need the zoo's list; every
      // policy then makes one request to the GPU owner.
      if (policy != selector_kind::oracle && policy != selector_kind::compare)
        return self->delegate(st.gpu, check_atom_v, lw, k, own,
                              std::vector<std::string>{});
      auto rp = self->make_response_promise<check_result>();
      self->request(st.zoo, caf::infinite, list_atom_v)
        .then(
          [=](std::vector<expert_info>& xs) mutable {
            std::vector<std::string> zoo;
            for (auto& x : xs)
              zoo.push_back(x.id);
            rp.delegate(self->state.gpu, check_atom_v, lw, k, own,
                        std::move(zoo));
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
