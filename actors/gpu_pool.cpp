// The GPU pool: one GPU owner per device (recld --devices), behind the GPU
// owner's own interface, so that cameras, the zoo and the selector do not
// know how many devices there are. It places the work:
//   - a retraining job where it gets its first micro-window soonest: on the
//     owner with the fewest live jobs (ties: the fewest requests in
//     flight, then a worker node's), unless the camera's previous job still
//     lives somewhere (wall clock), where the owner ends it when the next
//     one arrives;
//   - a selection and safety check, or a model fetch, on the owner with the
//     fewest requests in flight (ties: the fewest jobs, then a worker's);
//   - a replay-clock wait on the owner of the camera's live job;
//   - gating updates on the first owner still there (prepared once); their
//     commit on every owner (the others read what the zoo stored);
//   - the scheduler report: every owner's, merged, each grant and job
//     naming its device.
// Each owner runs Algorithm 1 over its own jobs with its own clock: with the
// replay clock, N devices give N micro-windows per unit of time. An owner
// that fails is started again on its device; the requests it held fail to
// their senders.
//
// Worker nodes' owners join the pool (cluster.cpp) and are placed like the
// local ones; a coordinator may have none of its own (--devices none), and
// a request with no owner anywhere fails at once. One that goes down (its node died or lost its link) is not
// restarted: it is left out from then on, and every request it held fails
// to its sender at once, since a remote actor that is gone never answers.

#include "actors/actors.hpp"
#include "actors/held.hpp"
#include "actors/traffic.hpp"

#include "common/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>

namespace recl {

namespace {

struct device_slot {
  std::string name;   ///< "cpu:0", or "NODE/cuda:0" for a worker node's
  std::string node;   ///< "" (this node's) or the worker node's name
  std::string device; ///< "cpu:0", "cuda:0", ...
  gpu_owner_actor owner;
  uint32_t jobs = 0;      ///< training requests not answered yet
  uint32_t in_flight = 0; ///< other requests not answered yet
  uint64_t requests = 0;  ///< requests sent to it
  bool remote = false;    ///< a worker node's owner
  bool gone = false;      ///< a worker node's owner that went down
  held_requests pending;  ///< requests not answered yet
};

struct pool_state {
  static inline const char* name = "gpu-pool";
  gpu_owner_config cfg;
  std::shared_ptr<kv> db;
  std::shared_ptr<cluster_traffic> traffic; ///< null without worker nodes
  std::vector<device_slot> slots;
  /// A camera's live jobs: their slot and how many (a new job may reach
  /// the owner before the one it ends has answered).
  struct live {
    size_t slot = 0;
    uint32_t n = 0;
  };
  std::map<std::string, live> job_of;
};

using pool_actor = gpu_pool_actor::stateful_pointer<pool_state>;

/// Starts slot `i`'s owner on its device; the pool stops it when it ends.
void start_owner(pool_actor self, size_t i) {
  auto& st = self->state;
  auto cfg = st.cfg;
  cfg.device = st.slots[i].name;
  auto owner = spawn_gpu_owner(self->system(), cfg, st.db);
  self->monitor(owner);
  // The pool's end, whatever its reason, ends its owners.
  self->attach_functor(
    [owner] { caf::anon_send_exit(owner, caf::exit_reason::user_shutdown); });
  st.slots[i].owner = owner;
}

/// A slot, or none: no owner is there (a coordinator with --devices none
/// before any worker joins, or after all have left).
using slot_choice = std::optional<size_t>;

caf::error no_owner() {
  return caf::make_error(ec::model,
                         "no GPU owner: this coordinator has no devices of "
                         "its own (--devices none) and no worker node offers "
                         "one now");
}

/// The slot with the fewest jobs (`jobs_first`) or requests in flight,
/// ties going to the fewest of the other, then to a worker node's (the
/// coordinator's own cores also run the teacher), then to the first slot.
/// A worker's slot that is gone is never chosen.
slot_choice fewest(const pool_state& st, bool jobs_first) {
  auto key = [&](const device_slot& s) {
    return std::make_tuple(jobs_first ? s.jobs : s.in_flight,
                           jobs_first ? s.in_flight : s.jobs, !s.remote);
  };
  slot_choice best;
  for (size_t i = 0; i < st.slots.size(); ++i)
    if (!st.slots[i].gone && (!best || key(st.slots[i]) < key(st.slots[*best])))
      best = i;
  return best;
}

/// The slot with the fewest requests in flight: checks and fetches.
slot_choice least_busy(const pool_state& st) {
  return fewest(st, false);
}

/// Where a camera's next job goes (see the top of the file).
slot_choice place_job(const pool_state& st, const std::string& camera) {
  if (auto i = st.job_of.find(camera); i != st.job_of.end())
    return i->second.slot;
  return fewest(st, true);
}

/// Where gating updates are prepared: the first owner still there.
slot_choice first_live(const pool_state& st) {
  for (size_t i = 0; i < st.slots.size(); ++i)
    if (!st.slots[i].gone)
      return i;
  return std::nullopt;
}

/// What a forwarded request counts as on its slot.
enum class load {
  job,  ///< a training job (placement by jobs)
  work, ///< a check, a fetch, a gating update (placement by requests)
  wait, ///< a replay-clock wait: not work, not counted
};

/// Sends a request to slot `i`'s owner and answers with its reply,
/// counting it on the slot until then; `camera` names a training job's.
template <class Reply, class... Ts>
caf::result<Reply> forward(pool_actor self, slot_choice at, load kind,
                           std::string camera, Ts... xs) {
  if (!at)
    return no_owner();
  auto i = *at;
  auto rp = self->make_response_promise<Reply>();
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (kind == load::job) {
    slot.jobs += 1;
    auto& l = st.job_of[camera];
    l.slot = i;
    l.n += 1;
  } else if (kind == load::work) {
    slot.in_flight += 1;
  }
  slot.requests += 1;
  auto id = std::make_shared<uint64_t>();
  // Runs once: on the reply, or when the slot's owner goes down first.
  auto settle = once([self, i, kind, camera, id, rp](auto&& reply) mutable {
    auto& st = self->state;
    auto& slot = st.slots[i];
    slot.pending.settle(*id);
    if (kind == load::work)
      slot.in_flight -= 1;
    if (kind == load::job) {
      slot.jobs -= 1;
      auto l = st.job_of.find(camera);
      if (l != st.job_of.end() && l->second.slot == i && --l->second.n == 0)
        st.job_of.erase(l);
    }
    rp.deliver(std::move(reply));
  });
  *id = slot.pending.hold([settle](caf::error e) mutable {
    // A replay-clock wait for a job that is gone with its owner is over.
    if constexpr (std::is_same_v<Reply, bool>)
      settle(true);
    else
      settle(std::move(e));
  });
  self->request(slot.owner, caf::infinite, std::move(xs)...)
    .then([=](Reply& x) mutable { settle(std::move(x)); },
          [=](caf::error& e) mutable { settle(std::move(e)); });
  return rp;
}

/// Slot `i` as `recl-admin nodes` shows it; `r` is its owner's report, if
/// it answered.
device_state state_of(const device_slot& s, const scheduler_report* r) {
  device_state d;
  d.node = s.node;
  d.device = s.device;
  d.link = !s.remote ? "local" : s.gone ? "gone" : r ? "up" : "silent";
  d.jobs = s.jobs;
  d.in_flight = s.in_flight;
  d.requests = s.requests;
  if (r) {
    d.grants = r->grants;
    d.busy_s = r->busy_s;
    d.elapsed_s = r->elapsed_s;
    d.queued = r->queued;
  }
  return d;
}

/// Every owner's report in one, each job and grant naming its device; an
/// empty `answered[i]`: slot i did not answer.
scheduler_report merge(const std::vector<scheduler_report>& parts,
                       const std::vector<bool>& answered,
                       const std::vector<device_slot>& slots) {
  scheduler_report out;
  out.devices = static_cast<uint32_t>(
    std::count_if(slots.begin(), slots.end(), [](auto& s) { return !s.gone; }));
  for (size_t i = 0; i < parts.size(); ++i) {
    auto& r = parts[i];
    out.device_states.push_back(state_of(slots[i], answered[i] ? &r : nullptr));
    if (!answered[i])
      continue;
    if (out.policy.empty()) {
      out.policy = r.policy;
      out.clock = r.clock;
    }
    out.now = std::max(out.now, r.now);
    for (auto& j : r.jobs)
      out.jobs.push_back(slots[i].name + " " + j);
    for (auto g : r.recent) {
      g.device = slots[i].name;
      out.recent.push_back(std::move(g));
    }
    out.busy_s += r.busy_s;
    out.elapsed_s = std::max(out.elapsed_s, r.elapsed_s);
    out.profiling += r.profiling;
    out.training += r.training;
    out.grants += r.grants;
    out.selector_s += r.selector_s;
    out.queued += r.queued;
  }
  return out;
}

/// Asks every owner for its report and merges them; an owner that cannot
/// answer (being restarted, or a worker's that is gone) is left out.
caf::result<scheduler_report> report(pool_actor self) {
  auto rp = self->make_response_promise<scheduler_report>();
  auto n = self->state.slots.size();
  auto parts = std::make_shared<std::vector<scheduler_report>>(n);
  auto answered = std::make_shared<std::vector<bool>>(n, false);
  // One more than the owners: the last call is below, after asking them
  // (so that a pool without owners answers too).
  auto left = std::make_shared<size_t>(n + 1);
  auto one = [=]() mutable {
    if (--*left > 0)
      return;
    auto& st = self->state;
    auto out = merge(*parts, *answered, st.slots);
    if (st.traffic)
      out.links = st.traffic->snapshot();
    rp.deliver(std::move(out));
  };
  for (size_t i = 0; i < n; ++i) {
    if (self->state.slots[i].gone) {
      one();
      continue;
    }
    // Bounded: a worker's owner may go down before it answers (an owner
    // answers between micro-windows, so a busy one may take a while).
    self
      ->request(self->state.slots[i].owner, std::chrono::seconds(30),
                scheduler_atom_v)
      .then(
        [=](scheduler_report& r) mutable {
          (*parts)[i] = std::move(r);
          (*answered)[i] = true;
          one();
        },
        [=](caf::error&) mutable { one(); });
  }
  one();
  return rp;
}

/// A local owner that failed is started again on its device; a worker's is
/// left out, and what it held fails to the senders.
void on_down(pool_actor self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (size_t i = 0; i < st.slots.size(); ++i) {
    auto& slot = st.slots[i];
    if (slot.gone || slot.owner.address() != dm.source)
      continue;
    auto held = slot.pending.fail_all(caf::make_error(
      ec::model, "the GPU owner on " + slot.name + " went down"));
    for (auto j = st.job_of.begin(); j != st.job_of.end();)
      j = j->second.slot == i ? st.job_of.erase(j) : std::next(j);
    if (slot.remote) {
      log::warning("gpu-pool", "the GPU owner on ", slot.name, " left (",
                   describe(dm.reason), "); ", held,
                   " request(s) it held failed");
      slot.gone = true;
      continue;
    }
    log::error("gpu-pool", "the GPU owner on ", slot.name, " failed (",
               describe(dm.reason), "); starting it again");
    start_owner(self, i);
  }
}

/// A worker node's owner joins: placed like a local one from now on. It
/// has loaded the current gating network from the coordinator's store.
void join(pool_actor self, const std::string& node, const std::string& device,
          const caf::actor& owner) {
  auto& st = self->state;
  device_slot slot;
  slot.name = device.empty() ? node : node + "/" + device;
  slot.node = node;
  slot.device = device;
  slot.owner = caf::actor_cast<gpu_owner_actor>(owner);
  slot.remote = true;
  self->monitor(slot.owner);
  log::info("gpu-pool", slot.name, " joined; ", st.slots.size() + 1,
            " devices");
  st.slots.push_back(std::move(slot));
}

gpu_pool_actor::behavior_type
gpu_pool(pool_actor self, gpu_owner_config cfg, std::shared_ptr<kv> db,
         std::vector<std::string> devices,
         std::shared_ptr<cluster_traffic> traffic) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.db = std::move(db);
  st.traffic = std::move(traffic);
  for (auto& d : devices) {
    device_slot slot;
    slot.name = d;
    slot.device = d;
    st.slots.push_back(std::move(slot));
  }
  for (size_t i = 0; i < st.slots.size(); ++i)
    start_owner(self, i);
  self->set_down_handler([=](const caf::down_msg& dm) { on_down(self, dm); });
  log::info("gpu-pool", st.slots.size(), " devices, one GPU owner each");
  return {
    [=](check_atom, labelled_window& lw, uint32_t k,
        std::vector<std::string>& own,
        std::vector<std::string>& zoo) -> caf::result<check_result> {
      return forward<check_result>(self, least_busy(self->state), load::work,
                                   "", check_atom_v, std::move(lw), k,
                                   std::move(own), std::move(zoo));
    },
    [=](train_atom, labelled_window& lw, std::string& start,
        std::vector<std::string>& rivals) -> caf::result<training_result> {
      auto cam = lw.source.camera;
      auto at = place_job(self->state, cam);
      if (at)
        log::info("gpu-pool", cam, "/", lw.source.index, " trains on ",
                  self->state.slots[*at].name);
      return forward<training_result>(self, at, load::job, cam, train_atom_v,
                                      std::move(lw), std::move(start),
                                      std::move(rivals));
    },
    [=](await_atom, std::string& cam) -> caf::result<bool> {
      auto l = self->state.job_of.find(cam);
      if (l == self->state.job_of.end())
        return true;
      return forward<bool>(self, l->second.slot, load::wait, "", await_atom_v,
                           std::move(cam));
    },
    [=](stream_atom, std::string& cam,
        uint32_t w) -> caf::result<std::vector<streamed_step>> {
      auto l = self->state.job_of.find(cam);
      if (l == self->state.job_of.end())
        return std::vector<streamed_step>{};
      return forward<std::vector<streamed_step>>(
        self, l->second.slot, load::wait, "", stream_atom_v, std::move(cam), w);
    },
    [=](fetch_atom, std::string& id) -> caf::result<std::string> {
      return forward<std::string>(self, least_busy(self->state), load::work, "",
                                  fetch_atom_v, std::move(id));
    },
    [=](fetch_atom, std::string& id, std::string& base_id,
        std::string& base_hash, bool half) -> caf::result<std::string> {
      return forward<std::string>(
        self, least_busy(self->state), load::work, "", fetch_atom_v,
        std::move(id), std::move(base_id), std::move(base_hash), half);
    },
    [=](admit_atom, std::vector<candidate>& news,
        std::vector<gating_sample>& samples) -> caf::result<gating_update> {
      return forward<gating_update>(self, first_live(self->state), load::work,
                                    "", admit_atom_v, std::move(news),
                                    std::move(samples));
    },
    [=](prune_atom,
        std::vector<std::string>& gone) -> caf::result<gating_update> {
      return forward<gating_update>(self, first_live(self->state), load::work,
                                    "", prune_atom_v, std::move(gone));
    },
    [=](commit_atom, uint64_t version, bool ok) {
      for (auto& s : self->state.slots)
        if (!s.gone)
          self->send(s.owner, commit_atom_v, version, ok);
    },
    [=](join_atom, const std::string& node, const std::string& device,
        const caf::actor& owner) { join(self, node, device, owner); },
    [=](scheduler_atom) { return report(self); },
    [=](tick_atom) {
      // Each owner ticks itself; the pool has nothing to do.
    },
  };
}

} // namespace

gpu_pool_actor spawn_gpu_pool(caf::actor_system& sys, gpu_owner_config cfg,
                              std::shared_ptr<kv> db,
                              std::vector<std::string> devices,
                              std::shared_ptr<cluster_traffic> traffic) {
  return sys.spawn(gpu_pool, std::move(cfg), std::move(db), std::move(devices),
                   std::move(traffic));
}

} // namespace recl
