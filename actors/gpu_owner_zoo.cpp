// The GPU owner's part in zoo changes: the gating network (and ODIN's
// centroids) for an admission or a pruning, prepared on the device and kept
// pending until the zoo has written it (see zoo.cpp).

#include "actors/gpu_owner_state.hpp"
#include "store/keys.hpp"

#include <random>

namespace recl::detail {

namespace {

/// Makes the new experts known to the model cache: their weights are in the
/// candidate queue, not yet under weights/.
caf::error cache_candidates(gpu_owner_state& st,
                            const std::vector<candidate>& news) {
  for (auto& c : news)
    if (!st.find(c.info.id)) {
      auto w = st.db->get(family::experts, keys::queued(c.info.id));
      if (!w)
        return caf::make_error(ec::unknown_expert,
                               "candidate " + c.info.id + " has no weights");
      st.cache.emplace_back(c.info.id, expert::from_bytes(*w, st.cfg.expert));
    }
  return {};
}

/// The kept samples plus the new experts' frames, subsampled (seeded by
/// `version`) to the configured size.
std::vector<gating_sample> sample_set(const gpu_owner_state& st,
                                      const std::vector<gating_sample>& kept,
                                      const std::vector<candidate>& news,
                                      uint64_t version) {
  std::vector<gating_sample> all = kept;
  for (auto& c : news)
    for (size_t i = 0; i < c.frames.size() && i < c.labels.size(); ++i) {
      gating_sample s;
      s.jpeg = c.frames[i].bytes;
      s.labels = c.labels[i];
      all.push_back(std::move(s));
    }
  if (all.size() > st.cfg.gating_samples) {
    std::mt19937_64 rng{st.cfg.train.seed + version};
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(st.cfg.gating_samples);
  }
  return all;
}

/// Scores every expert of `experts` on the samples that lack its score.
caf::error score_missing(gpu_owner_state& st, std::vector<gating_sample>& all,
                         const std::vector<std::string>& experts,
                         const std::vector<image>& imgs) {
  for (auto& id : experts) {
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
  return {};
}

/// The gating network grown (or created) to `experts` outputs and
/// fine-tuned on the samples' scores.
std::unique_ptr<gating> train_gating(const gpu_owner_state& st,
                                     const std::vector<gating_sample>& all,
                                     const std::vector<std::string>& experts,
                                     const std::vector<image>& imgs) {
  auto g = st.gate ? gating::from_bytes(st.gate->to_bytes())
                   : std::make_unique<gating>(0);
  g->grow(experts.size() - g->experts());
  std::vector<std::vector<float>> targets;
  for (auto& s : all) {
    std::vector<float> row;
    for (auto& id : experts) {
      auto p = std::find(s.experts.begin(), s.experts.end(), id);
      row.push_back(p == s.experts.end()
                      ? 0.0f
                      : s.scores[static_cast<size_t>(p - s.experts.begin())]);
    }
    targets.push_back(std::move(row));
  }
  if (!imgs.empty())
    g->train(imgs, targets, st.cfg.gating_epochs);
  return g;
}

/// ODIN's centroids of the new experts. Its autoencoder is trained once, on
/// the first admission's frames, then kept fixed so that centroids stay
/// comparable.
void update_odin(gpu_owner_state& st, const std::vector<candidate>& news,
                 const std::vector<image>& imgs, gating_update& up) {
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

} // namespace

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
    if (auto err = cache_candidates(st, news))
      return err;
    auto all = sample_set(st, samples, news, up.version);
    // Only gating and ODIN select with the network. Under --selector none
    // or oracle the samples are kept as they are and no network is trained
    // (the zoo holds none; a later admission under gating scores what is
    // missing and trains one): relabelling every sample with every expert
    // would cost device time for nothing.
    std::unique_ptr<gating> g;
    if (st.cfg.selector != selector_kind::none
        && st.cfg.selector != selector_kind::oracle) {
      std::vector<image> imgs;
      for (auto& s : all)
        imgs.push_back(decode(s.jpeg));
      if (auto err = score_missing(st, all, up.experts, imgs))
        return err;
      g = train_gating(st, all, up.experts, imgs);
      up.checkpoint = g->to_bytes();
      if (st.cfg.selector == selector_kind::odin
          || st.cfg.selector == selector_kind::compare)
        update_odin(st, news, imgs, up);
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
  if (!st.pending || st.pending->version != version) {
    // Another device's owner prepared it (--devices): the zoo has stored
    // it, so this owner reads it from the store.
    if (ok && version > st.gate_version) {
      auto before = std::move(st.gate_ids);
      st.gate.reset();
      st.gate_ids.clear();
      st.odin.reset();
      st.centroids.clear();
      st.load_gating();
      // A pruned expert may sit in the cache; the others stay (reading
      // them again costs the store, or a worker node's link, each time).
      for (auto& id : before)
        if (std::find(st.gate_ids.begin(), st.gate_ids.end(), id)
            == st.gate_ids.end())
          st.forget(id);
      log::info("gpu-owner", "gating network v", st.gate_version, " over ",
                st.gate_ids.size(), " experts, from the store");
    }
    return;
  }
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
