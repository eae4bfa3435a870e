// The labeler pool: with worker nodes, the cameras' labeler. It holds the
// coordinator's own labelers (recld --labelers, possibly none) and those
// worker nodes offer (recld --join --labelers), and sends each window to
// the labeler with the fewest windows in flight (ties: a worker's, since
// labelling is the coordinator's largest CPU cost, then the one sent the
// fewest windows: with windows one at a time, "the first" sent 18 of 26 to
// one worker of three, whose cores its GPU owner also needs).
//
// A worker's labeler that goes down is left out, and the windows it held
// fail to their cameras at once (a remote actor that is gone never
// answers). A local one that fails is restarted by the node, which sends
// the pool its new handle (restart_atom). A worker's labeler sends the
// labels back without the frames (spawn_offered_labeler): the pool keeps
// them, and a GPU owner decodes the window's JPEGs again when it needs
// them. Its reply's times are split into the wait and work on the worker
// and the link's share (link_ms: the trip there and back).

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
  std::string node;   ///< a worker's name; "" for this node
  std::string device; ///< "labeler:N", numbered per node
  labeler_actor labeler;
  uint32_t in_flight = 0;
  uint64_t windows = 0;  ///< windows sent to it
  double busy_ms = 0;    ///< decoding and teacher time of those answered
  double since_ms = 0;   ///< now_ms() when it joined
  bool gone = false;     ///< down (a local one until the node restarts it)
  held_requests pending; ///< windows not answered yet

  bool remote() const { return !node.empty(); }
  /// "labeler:0", or "NODE/labeler:0" for a worker's.
  std::string name() const { return remote() ? node + "/" + device : device; }
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
    return std::make_tuple(s.in_flight, !s.remote(), s.windows);
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
  auto where = slot.remote() ? slot.name() : "";
  // A worker's labeler answers without the frames: they are kept here.
  std::shared_ptr<window> kept;
  if (slot.remote())
    kept = std::make_shared<window>(w);
  auto sent = now_ms();
  self->request(slot.labeler, caf::infinite, label_atom_v, std::move(w))
    .then(
      [=](labelled_window& lw) mutable {
        self->state.slots[i].busy_ms += lw.decode_ms + lw.teacher_ms;
        lw.labeler = where;
        if (kept) {
          // The worker counted its own wait (its clock is another
          // machine's); the rest of the round trip is the link's.
          auto there = lw.queue_ms + lw.decode_ms + lw.teacher_ms;
          lw.link_ms = std::max(0.0, now_ms() - sent - there);
          lw.queue_ms += sent - kept->arrived_ms;
          lw.source = std::move(*kept);
        }
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
    auto held = slot.pending.fail_all(caf::make_error(
      ec::model, "the labeler on " + slot.name() + " went down"));
    if (slot.remote())
      log::warning("labeler-pool", "the labeler on ", slot.name(), " left (",
                   describe(dm.reason), "); ", held,
                   " window(s) it held failed");
  }
}

/// Adds a labeler of `node` ("" for this one), numbered after its others.
void add(pool_actor self, const std::string& node, labeler_actor l) {
  self->monitor(l);
  labeler_slot slot;
  slot.node = node;
  auto n = std::count_if(self->state.slots.begin(), self->state.slots.end(),
                         [&](auto& s) { return s.node == node; });
  slot.device = "labeler:" + std::to_string(n);
  slot.labeler = std::move(l);
  slot.since_ms = now_ms();
  self->state.slots.push_back(std::move(slot));
}

/// Each labeler for `recl-admin nodes`: its node, link state and load.
std::vector<device_state> states(const labeler_pool_state& st) {
  std::vector<device_state> out;
  for (auto& s : st.slots) {
    device_state d;
    d.node = s.node;
    d.device = s.device;
    d.link = !s.remote() ? "local" : s.gone ? "gone" : "up";
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
  for (auto& l : local)
    add(self, "", l);
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
      add(self, node, caf::actor_cast<labeler_actor>(l));
      log::info("labeler-pool", self->state.slots.back().name(), " joined");
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
