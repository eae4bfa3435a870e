// The GPU owner's part in zoo changes: the gating network (and ODIN's
// centroids) for an admission or a pruning, prepared on the device and kept
// pending until the zoo has written it (see zoo.cpp).

#include "actors/gpu_owner_state.hpp"
#include "store/keys.hpp"

#include <random>

namespace recl::detail {

caf::expected<gating_update>
prepare_admission(gpu_owner_state& st, const std::vector<candidate>& news,
                  const std::vector<gating_sample>& samples) {
  // Grows the gating network by the new experts, relabels samples (new
  // experts on the kept samples, every expert on the new frames), keeps
  // the sample set at its size and fine-tunes. Nothing changes until
  // the zoo commits.
  if (!st.models())
    return caf::make_error(ec::model, "no expert models");
  auto t0 = clock_type::now();
  try {
    gating_update up;
    up.version = st.gate_version + 1;
    up.experts = st.gate_ids;
    for (auto& c : news)
      up.experts.push_back(c.info.id);
    // Make the new experts known to the cache (their weights are in the
    // candidate queue, not yet under weights/).
    for (auto& c : news)
      if (!st.find(c.info.id)) {
        auto w = st.db->get(family::experts, keys::queued(c.info.id));
        if (!w)
          return caf::make_error(ec::unknown_expert,
                                 "candidate " + c.info.id + " has no weights");
        st.cache.emplace_back(c.info.id, expert::from_bytes(*w, st.cfg.expert));
      }
    std::vector<gating_sample> all = samples;
    for (auto& c : news)
      for (size_t i = 0; i < c.frames.size() && i < c.labels.size(); ++i) {
        gating_sample s;
        s.jpeg = c.frames[i].bytes;
        s.labels = c.labels[i];
        all.push_back(std::move(s));
      }
    // Keep the set at its size: a seeded subsample.
    if (all.size() > st.cfg.gating_samples) {
      std::mt19937_64 rng{st.cfg.train.seed + up.version};
      std::shuffle(all.begin(), all.end(), rng);
      all.resize(st.cfg.gating_samples);
    }
    // Only gating and ODIN select with the network. Under --selector none
    // or oracle the samples are kept as they are and no network is trained
    // (the zoo holds none; a later admission under gating scores what is
    // missing and trains one): relabelling every sample with every expert
    // would cost device time for nothing.
    std::unique_ptr<gating> g;
    if (st.cfg.selector != selector_kind::none
        && st.cfg.selector != selector_kind::oracle) {
      // Score every expert missing from a sample on it.
      std::vector<image> imgs;
      for (auto& s : all)
        imgs.push_back(decode(s.jpeg));
      for (auto& id : up.experts) {
        std::vector<size_t> need;
        for (size_t i = 0; i < all.size(); ++i)
          if (std::find(all[i].experts.begin(), all[i].experts.end(), id)
              == all[i].experts.end())
            need.push_back(i);
        if (need.empty())
          continue;
        auto x = st.find(id);
        if (!x)
          return caf::make_error(ec::unknown_expert, "no expert " + id);
        std::vector<image> sub;
        std::vector<std::vector<box>> truth;
        for (auto i : need) {
          sub.push_back(imgs[i]);
          truth.push_back(all[i].labels.boxes);
        }
        auto sc = st.frame_scores(*x, sub, truth);
        for (size_t n = 0; n < need.size(); ++n) {
          all[need[n]].experts.push_back(id);
          all[need[n]].scores.push_back(sc[n]);
        }
      }
      // Grow (or create) the network and fine-tune it.
      if (st.gate)
        g = gating::from_bytes(st.gate->to_bytes());
      else
        g = std::make_unique<gating>(0);
      g->grow(up.experts.size() - g->experts());
      std::vector<std::vector<float>> targets;
      for (auto& s : all) {
        std::vector<float> row;
        for (auto& id : up.experts) {
          auto p = std::find(s.experts.begin(), s.experts.end(), id);
          row.push_back(
            p == s.experts.end()
              ? 0.0f
              : s.scores[static_cast<size_t>(p - s.experts.begin())]);
        }
        targets.push_back(std::move(row));
      }
      if (!imgs.empty())
        g->train(imgs, targets, st.cfg.gating_epochs);
      up.checkpoint = g->to_bytes();
      if (st.cfg.selector == selector_kind::odin
          || st.cfg.selector == selector_kind::compare) {
        // ODIN's autoencoder is trained once, on the first admission's
        // frames, then kept fixed so that centroids stay comparable.
        std::unique_ptr<embedder> e;
        if (st.odin) {
          e = embedder::from_bytes(st.odin->to_bytes());
        } else {
          e = std::make_unique<embedder>();
          e->train(imgs, st.cfg.odin_epochs);
        }
        for (auto& c : news) {
          std::vector<image> own;
          for (auto& f : c.frames)
            own.push_back(decode(f.bytes));
          up.centroid_ids.push_back(c.info.id);
          up.centroids.push_back(e->embed(own));
        }
        up.odin = e->to_bytes();
        st.pending_odin = std::move(e);
      }
    }
    up.samples = std::move(all);
    up.prepare_ms = seconds_since(t0) * 1000;
    st.pending = up;
    st.pending_gate = std::move(g);
    return up;
  } catch (const std::exception& e) {
    return caf::make_error(ec::model, std::string{"admission: "} + e.what());
  }
}

gating_update prepare_prune(gpu_owner_state& st,
                            const std::vector<std::string>& gone) {
  // The gating network without the pruned experts' outputs.
  gating_update up;
  up.version = st.gate_version + 1;
  std::vector<size_t> keep;
  for (size_t i = 0; i < st.gate_ids.size(); ++i)
    if (std::find(gone.begin(), gone.end(), st.gate_ids[i]) == gone.end()) {
      keep.push_back(i);
      up.experts.push_back(st.gate_ids[i]);
    }
  std::unique_ptr<gating> g;
  if (st.gate && !keep.empty()) {
    g = gating::from_bytes(st.gate->to_bytes());
    g->shrink(keep);
    up.checkpoint = g->to_bytes();
  }
  st.pending = up;
  st.pending_gate = std::move(g);
  return up;
}

void commit_update(gpu_owner_state& st, uint64_t version, bool ok) {
  if (!st.pending || st.pending->version != version)
    return;
  if (ok) {
    st.gate = std::move(st.pending_gate);
    st.gate_ids = st.pending->experts;
    st.gate_version = version;
    if (st.pending_odin)
      st.odin = std::move(st.pending_odin);
    for (size_t i = 0; i < st.pending->centroid_ids.size(); ++i)
      st.centroids[st.pending->centroid_ids[i]] = st.pending->centroids[i];
    for (auto i = st.centroids.begin(); i != st.centroids.end();)
      if (std::find(st.gate_ids.begin(), st.gate_ids.end(), i->first)
          == st.gate_ids.end())
        i = st.centroids.erase(i);
      else
        ++i;
    log::info("gpu-owner", "gating network v", version, " over ",
              st.gate_ids.size(), " experts");
  }
  st.pending.reset();
  st.pending_gate.reset();
  st.pending_odin.reset();
}

} // namespace recl::detail
