// The GPU owner: the single actor that will run Algorithm 1 over trainer
// jobs and serve safety checks between micro-windows. The learning core does
// not exist yet, so it cannot evaluate models: it says so with an error
// (callers then keep the edge's model) and counts training requests it has
// no trainer for.

#include "actors/actors.hpp"

#include "common/log.hpp"

#include <caf/all.hpp>

namespace recl {

namespace {

struct gpu_owner_state {
  static inline const char* name = "gpu-owner";
  uint64_t dropped_requests = 0;
};

gpu_owner_actor::behavior_type
gpu_owner(gpu_owner_actor::stateful_pointer<gpu_owner_state> self) {
  return {
    [=](evaluate_atom, const labelled_window&,
        const std::vector<std::string>& ids)
      -> caf::result<std::vector<float>> {
      return caf::make_error(ec::model,
                             "this build has no expert models to evaluate "
                             + std::to_string(ids.size()) + " candidates");
    },
    [=](train_atom, const labelled_window& lw, const std::string&) {
      ++self->state.dropped_requests;
      log::debug("gpu-owner", "no trainer yet: dropped the request of camera ",
                 lw.source.camera, " window ", lw.source.index);
    },
  };
}

} // namespace

gpu_owner_actor spawn_gpu_owner(caf::actor_system& sys) {
  return sys.spawn(gpu_owner);
}

} // namespace recl
