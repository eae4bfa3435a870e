// The labeler pool: with worker nodes, the cameras' labeler. It holds the
// coordinator's own labelers (recld --labelers, possibly none) and those
// worker nodes offer (recld --join --labelers), and sends each window to
// the labeler with the fewest windows in flight (ties: a worker's, since
// labelling is the coordinator's largest CPU cost, then the first).
//
// A worker's labeler that goes down is left out, and the windows it held
// fail to their cameras at once (a remote actor that is gone never
// answers). A local one that fails is restarted by the node, which sends
// the pool its new handle (restart_atom). A worker's labeler sends the
// labels back without the decoded frames (they are not serialized): a GPU
// owner decodes the window's JPEGs again when it needs them.

#include "actors/actors.hpp"
#include "actors/held.hpp"

#include "common/log.hpp"
#include "common/util.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <tuple>

namespace recl {

namespace {

struct labeler_slot {
  std::string name; ///< "labeler:0", or "NODE/labeler:0" for a worker's
  labeler_actor labeler;
  uint32_t in_flight = 0;
  uint64_t windows = 0; ///< windows sent to it
  double busy_ms = 0;   ///< decoding and teacher time of those answered
  double since_ms = 0;  ///< now_ms() when it joined
  bool remote = false;
  bool gone = false;     ///< down (a local one until the node restarts it)
  held_requests pending; ///< windows not answered yet
};

struct labeler_pool_state {
  static inline const char* name = "labeler-pool";
  std::vector<labeler_slot> slots;
};

using pool_actor = labeler_pool_actor::stateful_pointer<labeler_pool_state>;

/// The slot a window goes to (see the top of the file); none: no labeler.
std::optional<size_t> pick(const labeler_pool_state& st) {
  std::optional<size_t> best;
  auto key = [&](const labeler_slot& s) {
    return std::make_tuple(s.in_flight, !s.remote);
  };
  for (size_t i = 0; i < st.slots.size(); ++i)
    if (!st.slots[i].gone && (!best || key(st.slots[i]) < key(st.slots[*best])))
      best = i;
  return best;
}

/// Sends `w` to slot `i`'s labeler and answers with its labels, or the error
/// of the labeler or of its going down, whichever comes first.
caf::result<labelled_window> forward(pool_actor self, size_t i, window w) {
  auto rp = self->make_response_promise<labelled_window>();
  auto& slot = self->state.slots[i];
  slot.in_flight += 1;
  slot.windows += 1;
  auto id = std::make_shared<uint64_t>();
  auto settle = once([self, i, id, rp](auto&& reply) mutable {
    auto& s = self->state.slots[i];
    s.pending.settle(*id);
    s.in_flight -= 1;
    rp.deliver(std::move(reply));
  });
  *id = slot.pending.hold(
    [settle](caf::error e) mutable { settle(std::move(e)); });
  auto remote = slot.remote;
  auto where = remote ? slot.name : "";
  // A worker's clock is not this node's: its wait is counted until sent.
  auto waited = now_ms() - w.arrived_ms;
  self->request(slot.labeler, caf::infinite, label_atom_v, std::move(w))
    .then(
      [=](labelled_window& lw) mutable {
        self->state.slots[i].busy_ms += lw.decode_ms + lw.teacher_ms;
        lw.labeler = where;
        if (remote)
          lw.queue_ms = waited;
        settle(std::move(lw));
      },
      [=](caf::error& e) mutable { settle(std::move(e)); });
  return rp;
}

/// A labeler went down: what it held fails; a worker's is left out.
void on_down(pool_actor self, const caf::down_msg& dm) {
  for (auto& slot : self->state.slots) {
    if (slot.gone || slot.labeler.address() != dm.source)
      continue;
    slot.gone = true;
    auto held = slot.pending.fail_all(
      caf::make_error(ec::model, "the labeler on " + slot.name + " went down"));
    if (slot.remote)
      log::warning("labeler-pool", "the labeler on ", slot.name, " left (",
                   describe(dm.reason), "); ", held,
                   " window(s) it held failed");
  }
}

void add(pool_actor self, std::string name, labeler_actor l, bool remote) {
  self->monitor(l);
  labeler_slot slot;
  slot.name = std::move(name);
  slot.labeler = std::move(l);
  slot.remote = remote;
  slot.since_ms = now_ms();
  self->state.slots.push_back(std::move(slot));
}

/// Each labeler for `recl-admin nodes`: its node, link state and load.
std::vector<device_state> states(const labeler_pool_state& st) {
  std::vector<device_state> out;
  for (auto& s : st.slots) {
    device_state d;
    auto slash = s.name.find('/');
    d.node = slash == std::string::npos ? "" : s.name.substr(0, slash);
    d.device = s.name.substr(slash == std::string::npos ? 0 : slash + 1);
    d.link = !s.remote ? "local" : s.gone ? "gone" : "up";
    d.in_flight = s.in_flight;
    d.requests = s.windows;
    d.busy_s = s.busy_ms / 1000;
    d.elapsed_s = (now_ms() - s.since_ms) / 1000;
    out.push_back(std::move(d));
  }
  return out;
}

labeler_pool_actor::behavior_type
labeler_pool(pool_actor self, std::vector<labeler_actor> local) {
  for (size_t i = 0; i < local.size(); ++i)
    add(self, "labeler:" + std::to_string(i), local[i], false);
  self->set_down_handler([=](const caf::down_msg& dm) { on_down(self, dm); });
  return {
    [=](label_atom, window& w) -> caf::result<labelled_window> {
      auto at = pick(self->state);
      if (!at)
        return caf::make_error(ec::model,
                               "no labeler: this coordinator has none of its "
                               "own (--labelers 0) and no worker node offers "
                               "one now");
      return forward(self, *at, std::move(w));
    },
    [=](join_atom, label_atom, const std::string& node, const caf::actor& l) {
      auto prefix = node + "/labeler:";
      auto n
        = std::count_if(self->state.slots.begin(), self->state.slots.end(),
                        [&](auto& s) { return s.name.rfind(prefix, 0) == 0; });
      auto name = prefix + std::to_string(n);
      log::info("labeler-pool", name, " joined");
      add(self, name, caf::actor_cast<labeler_actor>(l), true);
    },
    [=](scheduler_atom) { return states(self->state); },
    [=](restart_atom, const caf::actor_addr& dead, const caf::actor& fresh) {
      for (auto& slot : self->state.slots)
        if (slot.labeler.address() == dead) {
          slot.labeler = caf::actor_cast<labeler_actor>(fresh);
          slot.gone = false;
          self->monitor(slot.labeler);
        }
    },
  };
}

} // namespace

labeler_pool_actor spawn_labeler_pool(caf::actor_system& sys,
                                      std::vector<labeler_actor> local) {
  return sys.spawn(labeler_pool, std::move(local));
}

} // namespace recl
