// The zoo: the registry of expert models, their admission queue and the
// selection log that decides pruning (rules in zoo_policy.hpp).
//
// Key layout in `experts`:
//   info/<id>    expert_info as key=value lines     (admitted experts)
//   weights/<id> serialized weights                  (admitted experts)
//   queue/<id>   weights of a promising model waiting for admission
//   qinfo/<id>   the candidate (info, frames, labels) waiting with it
//   model/<id>   retrained models not in the zoo (written by the GPU owner)
// `samples`: s/<n> -> gating_sample; `gating`: checkpoint, experts, version;
// `selections`: s/<20-digit seq> -> model id served.
//
// An admission (experts + samples + gating checkpoint, queue entries
// removed) and a pruning (experts removed + gating checkpoint) are each one
// atomic write: a crash leaves the old zoo or the new one. For tests of that
// claim RECL_CRASH_AT=admit-prepared|admit-written (common/fault.hpp) makes
// the process kill itself (SIGKILL) at that point.

#include "actors/actors.hpp"
#include "actors/records.hpp"

#include "common/fault.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "store/store.hpp"
#include "store/keys.hpp"

#include <caf/all.hpp>

#include <cstdio>

namespace recl {

namespace {

struct zoo_state {
  static inline const char* name = "zoo";
  std::shared_ptr<store> db;
  zoo_options opts;
  gpu_owner_actor gpu;
  zoo_size_gauge size; ///< experts.size(), for the cameras
  std::map<std::string, expert_info> experts;
  std::vector<candidate> queue;
  selection_log log{3000};
  bool busy = false; // an admission or pruning is in flight
  uint64_t admitted = 0, pruned = 0, refused = 0; // since start
  // Prune requests that came while busy: (id or "", promise).
  std::vector<std::pair<std::string,
                        caf::typed_response_promise<std::vector<std::string>>>>
    deferred;

  void load() {
    experts.clear();
    db->scan(family::experts, keys::info_prefix,
             [&](std::string_view k, std::string_view v) {
               auto id = std::string{k.substr(keys::info_prefix.size())};
               try {
                 experts[id] = decode_expert_info(id, v);
               } catch (const std::exception& e) {
                 // Its weights are there: serve it with what is known.
                 log::error("zoo", "damaged description of expert ", id, ": ",
                            e.what());
                 experts[id].id = id;
               }
               return true;
             });
    queue.clear();
    db->scan(family::experts, keys::queued_info_prefix,
             [&](std::string_view k, std::string_view v) {
               try {
                 queue.push_back(decode_candidate(v));
               } catch (const std::exception& e) {
                 log::error("zoo", "damaged queue entry ", std::string{k}, ": ",
                            e.what());
               }
               return true;
             });
    log = selection_log{opts.q};
    db->scan(family::selections, keys::seq_prefix,
             [&](std::string_view k, std::string_view v) {
               log.record(keys::seq_of(k), std::string{v});
               return true;
             });
  }

  std::vector<expert_info> list() const {
    std::vector<expert_info> out;
    for (auto& kv : experts) {
      auto x = kv.second;
      x.chosen = log.count(x.id);
      out.push_back(std::move(x));
    }
    return out;
  }

  std::vector<gating_sample> samples() const {
    std::vector<gating_sample> out;
    db->scan(family::samples, keys::seq_prefix,
             [&](std::string_view, std::string_view v) {
               try {
                 out.push_back(decode_gating_sample(v));
               } catch (const std::exception& e) {
                 log::error("zoo",
                            "skipping a damaged gating sample: ", e.what());
               }
               return true;
             });
    return out;
  }
};

using self_ptr = zoo_actor::stateful_pointer<zoo_state>;

void put_gating(write_batch& b, const gating_update& up) {
  b.put(family::gating, keys::gating_checkpoint, up.checkpoint);
  b.put(family::gating, keys::gating_index,
        encode(gating_index{up.version, up.experts}));
  b.erase(family::gating, keys::legacy_gating_experts);
  b.erase(family::gating, keys::legacy_gating_version);
  if (!up.odin.empty())
    b.put(family::gating, keys::odin, up.odin);
  for (size_t i = 0; i < up.centroid_ids.size(); ++i)
    b.put(family::gating, keys::centroid(up.centroid_ids[i]),
          encode_centroid(up.centroids[i]));
}

void next_job(self_ptr self);

/// Admits the whole queue in one batch.
void admit_batch(self_ptr self) {
  auto& st = self->state;
  if (st.busy || st.queue.empty() || st.queue.size() < st.opts.gamma)
    return;
  st.busy = true;
  auto batch = st.queue;
  std::vector<gating_sample> kept;
  try {
    kept = st.samples();
  } catch (const std::exception& e) {
    log::error("zoo", "cannot read gating samples: ", e.what());
  }
  log::info("zoo", "admitting ", batch.size(), " experts (", kept.size(),
            " gating samples kept)");
  self->request(st.gpu, caf::infinite, admit_atom_v, batch, kept)
    .then(
      [=](gating_update& up) {
        auto& st = self->state;
        crash_at("admit-prepared");
        try {
          write_batch b;
          std::vector<expert_info> admitted;
          for (auto& c : batch) {
            auto w = st.db->get(family::experts, keys::queued(c.info.id));
            if (!w)
              throw std::runtime_error("queued weights of " + c.info.id
                                       + " are missing");
            auto info = c.info;
            info.admitted_unix_ms = unix_ms();
            info.admitted_seq = st.log.total();
            info.weight_bytes = w->size();
            b.put(family::experts, keys::info(info.id), encode(info));
            b.put(family::experts, keys::weights(info.id), *w);
            b.erase(family::experts, keys::queued(info.id));
            b.erase(family::experts, keys::queued_info(info.id));
            admitted.push_back(info);
          }
          std::vector<std::string> old;
          st.db->scan(family::samples, keys::seq_prefix,
                      [&](std::string_view k, std::string_view) {
                        old.emplace_back(k);
                        return true;
                      });
          for (auto& k : old)
            b.erase(family::samples, k);
          for (size_t i = 0; i < up.samples.size(); ++i)
            b.put(family::samples, keys::seq(i), encode(up.samples[i]));
          put_gating(b, up);
          st.db->write(b);
          crash_at("admit-written");
          for (auto& info : admitted)
            st.experts[info.id] = info;
          *st.size = st.experts.size();
          st.admitted += admitted.size();
          st.queue.erase(st.queue.begin(),
                         st.queue.begin()
                           + static_cast<std::ptrdiff_t>(batch.size()));
          self->send(st.gpu, commit_atom_v, up.version, true);
          log::info("zoo", "admitted ", batch.size(), " experts; zoo size ",
                    st.experts.size(), ", gating v", up.version,
                    " prepared in ", static_cast<int>(up.prepare_ms), " ms");
        } catch (const std::exception& e) {
          log::error("zoo", "admission failed, zoo unchanged: ", e.what());
          self->send(st.gpu, commit_atom_v, up.version, false);
        }
        st.busy = false;
        next_job(self);
      },
      [=](caf::error& e) {
        log::error("zoo", "admission failed, zoo unchanged: ", describe(e));
        self->state.busy = false;
        next_job(self);
      });
}

/// Removes `ids` from the zoo and the gating network in one batch.
void prune_batch(
  self_ptr self, std::vector<std::string> ids,
  std::optional<caf::typed_response_promise<std::vector<std::string>>> rp) {
  auto& st = self->state;
  st.busy = true;
  self->request(st.gpu, caf::infinite, prune_atom_v, ids)
    .then(
      [=](gating_update& up) mutable {
        auto& st = self->state;
        try {
          write_batch b;
          for (auto& id : ids) {
            b.erase(family::experts, keys::info(id));
            b.erase(family::experts, keys::weights(id));
            b.erase(family::gating, keys::centroid(id));
          }
          put_gating(b, up);
          st.db->write(b);
          // Under a budget the room must really come back now.
          if (st.opts.budget_bytes > 0)
            st.db->compact();
          for (auto& id : ids)
            st.experts.erase(id);
          *st.size = st.experts.size();
          st.pruned += ids.size();
          self->send(st.gpu, commit_atom_v, up.version, true);
          log::info("zoo", "pruned ", ids.size(), " experts; zoo size ",
                    st.experts.size());
          if (rp)
            rp->deliver(ids);
        } catch (const std::exception& e) {
          self->send(st.gpu, commit_atom_v, up.version, false);
          log::error("zoo", "pruning failed, zoo unchanged: ", e.what());
          if (rp)
            rp->deliver(caf::make_error(ec::storage, e.what()));
        }
        st.busy = false;
        next_job(self);
      },
      [=](caf::error& e) mutable {
        self->state.busy = false;
        if (rp)
          rp->deliver(std::move(e));
        next_job(self);
      });
}

std::vector<std::string> prunable(const zoo_state& st) {
  std::map<std::string, uint64_t> zoo;
  for (auto& kv : st.experts)
    zoo[kv.first] = kv.second.admitted_seq;
  return st.log.to_prune(zoo, st.opts.eta);
}

/// Starts a prune request: by rule ("") or one id.
void start_prune(self_ptr self, const std::string& id,
                 caf::typed_response_promise<std::vector<std::string>> rp) {
  auto& st = self->state;
  std::vector<std::string> gone;
  if (id.empty()) {
    gone = prunable(st);
  } else {
    if (!st.experts.count(id)) {
      rp.deliver(caf::make_error(ec::unknown_expert,
                                 "no expert '" + id + "' in the zoo"));
      return;
    }
    gone.push_back(id);
  }
  if (gone.empty()) {
    rp.deliver(gone);
    return;
  }
  prune_batch(self, gone, rp);
}

/// After an admission or pruning: deferred prune requests, then the queue.
void next_job(self_ptr self) {
  auto& st = self->state;
  while (!st.busy && !st.deferred.empty()) {
    auto [id, rp] = st.deferred.front();
    st.deferred.erase(st.deferred.begin());
    start_prune(self, id, rp);
  }
  admit_batch(self);
}

/// Over --store-budget: why no expert may be admitted now, after starting
/// to prune the least chosen one for room ("" when within budget).
std::string over_budget(self_ptr self) {
  auto& st = self->state;
  auto budget = st.opts.budget_bytes;
  if (budget == 0)
    return "";
  auto used = st.db->disk_bytes();
  if (used <= budget)
    return "";
  std::map<std::string, uint64_t> zoo;
  for (auto& kv : st.experts)
    zoo[kv.first] = kv.second.admitted_seq;
  auto victim = st.log.least_chosen(zoo);
  auto why = "the store holds " + human_bytes(used) + ", over its budget of "
             + human_bytes(budget) + " (--store-budget): no admission";
  log::warning("zoo", why,
               victim.empty() ? "; the zoo is empty, nothing to prune"
                              : "; pruning the least chosen expert " + victim);
  if (!victim.empty() && !st.busy)
    prune_batch(self, {victim}, std::nullopt);
  return why;
}

/// Queues a promising model for admission (durably, before answering);
/// admits the queue once it holds gamma. Answers the position in the queue,
/// 0 when admitted at once.
caf::result<uint64_t> queue_candidate(self_ptr self, candidate c) {
  auto& st = self->state;
  if (auto why = over_budget(self); !why.empty()) {
    ++st.refused;
    return caf::make_error(ec::storage, why);
  }
  c.info.id = "e-" + c.info.origin_camera + "-"
              + std::to_string(c.info.origin_window) + "-" + random_hex(3);
  try {
    auto w = st.db->get(family::experts, keys::model(c.model_id));
    if (!w)
      return caf::make_error(ec::unknown_expert,
                             "no retrained model " + c.model_id);
    write_batch b;
    b.put(family::experts, keys::queued(c.info.id), *w);
    b.put(family::experts, keys::queued_info(c.info.id), encode(c));
    st.db->write(b);
  } catch (const std::exception& e) {
    return caf::make_error(ec::storage, e.what());
  }
  st.queue.push_back(std::move(c));
  log::info("zoo", "queued ", st.queue.back().info.id, " (accuracy ",
            st.queue.back().info.accuracy, " vs best rival ",
            st.queue.back().best_rival, "); ", st.queue.size(), "/",
            st.opts.gamma, " queued");
  uint64_t pos = st.queue.size();
  if (admit_now(pos, st.opts.gamma)) {
    admit_batch(self);
    return uint64_t{0};
  }
  return pos;
}

/// Logs that a window was served `id` and prunes what the log condemns.
void record_selection(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto seq = st.log.total();
  auto dropped = st.log.record(seq, id);
  try {
    write_batch b;
    b.put(family::selections, keys::seq(seq), id);
    for (auto d : dropped)
      b.erase(family::selections, keys::seq(d));
    st.db->write(b);
  } catch (const std::exception& e) {
    log::error("zoo", "cannot log a selection: ", e.what());
  }
  if (!st.busy) {
    auto gone = prunable(st);
    if (!gone.empty())
      prune_batch(self, gone, std::nullopt);
  }
}

zoo_actor::behavior_type zoo(self_ptr self, std::shared_ptr<store> db,
                             zoo_options opts, gpu_owner_actor gpu,
                             zoo_size_gauge size) {
  auto& st = self->state;
  st.db = std::move(db);
  st.opts = opts;
  st.gpu = std::move(gpu);
  st.size = std::move(size);
  st.load();
  *st.size = st.experts.size();
  log::info("zoo", st.experts.size(), " experts, ", st.queue.size(),
            " queued for admission, ", st.log.total(), " selections logged");
  // A queue that reached gamma before a crash is admitted now.
  admit_batch(self);
  return {
    [=](restart_atom, const caf::actor_addr& dead, const caf::actor& x) {
      auto& st = self->state;
      if (st.gpu.address() == dead) {
        st.gpu = caf::actor_cast<gpu_owner_actor>(x);
        // An admission in flight died with the old GPU owner; the queue is
        // still persisted: try again.
        st.busy = false;
        next_job(self);
      }
    },
    [=](list_atom) -> caf::result<std::vector<expert_info>> {
      return self->state.list();
    },
    [=](zoostats_atom) -> caf::result<zoo_stats> {
      auto& st = self->state;
      return zoo_stats{st.experts.size(), st.queue.size(), st.admitted,
                       st.pruned, st.refused};
    },
    [=](admit_atom, candidate& c) -> caf::result<uint64_t> {
      return queue_candidate(self, std::move(c));
    },
    [=](selected_atom, const std::string& id) { record_selection(self, id); },
    [=](prune_atom,
        const std::string& id) -> caf::result<std::vector<std::string>> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::vector<std::string>>();
      if (st.busy)
        st.deferred.emplace_back(id, rp); // after the admission in flight
      else
        start_prune(self, id, rp);
      return rp;
    },
  };
}

} // namespace

zoo_actor spawn_zoo(caf::actor_system& sys, std::shared_ptr<store> db,
                    zoo_options opts, gpu_owner_actor gpu,
                    zoo_size_gauge size) {
  return sys.spawn(zoo, std::move(db), opts, std::move(gpu), std::move(size));
}

} // namespace recl
