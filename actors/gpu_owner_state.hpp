#pragma once
// The GPU owner's state, shared by gpu_owner.cpp (the actor, Algorithm 1)
// and gpu_owner_zoo.cpp (gating updates for admission and pruning). Internal
// to actors/: nothing outside includes it.

#include "actors/actors.hpp"
#include "actors/records.hpp"
#include "actors/scheduler.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/embedder.hpp"
#include "gpu/expert.hpp"
#include "gpu/gating.hpp"
#include "gpu/metrics.hpp"
#include "gpu/teacher.hpp"
#include "gpu/trainer.hpp"
#include "store/store.hpp"
#include "store/keys.hpp"

#include <caf/typed_response_promise.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>

namespace recl::detail {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

inline std::vector<std::vector<box>>
boxes_of(const std::vector<frame_labels>& xs) {
  std::vector<std::vector<box>> out;
  out.reserve(xs.size());
  for (auto& x : xs)
    out.push_back(x.boxes);
  return out;
}

inline image decode(const std::vector<uint8_t>& bytes) {
  auto m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U,
                                const_cast<uint8_t*>(bytes.data())),
                        cv::IMREAD_COLOR);
  if (m.empty())
    throw std::runtime_error("not a decodable image");
  return to_image(m);
}

/// One retraining job: its trainer (model, optimizer, frames) stays resident
/// until its window's budget is spent.
struct job {
  std::string id;
  std::string camera; ///< "" for the generalist
  uint32_t window = 0;
  std::string start_id;
  std::vector<std::string> rivals;
  std::unique_ptr<trainer> train;
  std::unique_ptr<trainer> profiler; ///< ekya: a copy on a subset
  labelled_frames holdout;
  labelled_frames subset; ///< ekya: what its micro-profiler trains on
  double acc = -1;
  uint32_t micro_windows = 0;
  double device_s = 0;
  size_t frames = 0;        ///< trained on
  size_t history = 0;       ///< of them, from the camera's earlier windows
  double added_at = 0;      ///< on the owner's clock
  double best_holdout = -1; ///< --stream-models: the best held-out accuracy
  std::vector<streamed_step> steps; ///< --stream-models, in time order
  caf::typed_response_promise<training_result> rp;
  bool has_rp = false;
};

struct gpu_owner_state {
  static inline const char* name = "gpu-owner";

  gpu_owner_config cfg;
  std::shared_ptr<kv> db;
  std::unique_ptr<expert> base;
  std::unique_ptr<expert> generalist;

  // Experts by id, least recently used first.
  std::list<std::pair<std::string, std::unique_ptr<expert>>> cache;

  std::unique_ptr<gating> gate;
  std::vector<std::string> gate_ids;
  uint64_t gate_version = 0;
  std::optional<gating_update> pending; // prepared, not yet committed
  std::unique_ptr<gating> pending_gate;

  // ODIN: the autoencoder and each expert's centroid.
  std::unique_ptr<embedder> odin;
  std::map<std::string, std::vector<float>> centroids;
  std::unique_ptr<embedder> pending_odin;

  std::unique_ptr<scheduler> sched;
  std::map<std::string, job> jobs;
  bool ticking = false;
  double replay_units = 0; // the replay clock: micro-windows granted
  clock_type::time_point started = clock_type::now();
  double busy_s = 0;
  double selector_s = 0; ///< part of busy_s: gating / ODIN updates
  uint64_t grants = 0;
  std::deque<grant_record> recent;
  // Cameras waiting (replay clock) for their job to end.
  std::map<std::string, std::vector<caf::typed_response_promise<bool>>> waiting;

  // The generalist's replay buffer: recent labelled frames of all cameras.
  std::deque<std::pair<image, std::vector<box>>> buffer;
  bool buffer_fresh = false;

  bool models() const { return base != nullptr; }

  double now() const {
    return cfg.clock == clock_kind::replay ? replay_units
                                           : seconds_since(started);
  }

  /// The window's frames, decoded: as the labeler decoded them, or (a
  /// window from another node) decoded here.
  std::shared_ptr<const std::vector<image>>
  images_of(const labelled_window& lw) const {
    if (lw.images)
      return lw.images;
    auto imgs = std::make_shared<std::vector<image>>();
    for (auto& f : lw.source.frames)
      imgs->push_back(decode(f.bytes));
    return imgs;
  }

  /// The expert with this id, loading it into the cache if needed; nullptr
  /// when unknown.
  expert* find(const std::string& id) {
    if (id == "base")
      return base.get();
    if (id == "generalist")
      return generalist.get();
    for (auto i = cache.begin(); i != cache.end(); ++i)
      if (i->first == id) {
        cache.splice(cache.end(), cache, i);
        return cache.back().second.get();
      }
    std::optional<std::string> bytes;
    if (auto w = db->get(family::experts, keys::weights(id)))
      bytes = std::move(w);
    else if (auto m = db->get(family::experts, keys::model(id)))
      bytes = std::move(m);
    if (!bytes)
      return nullptr;
    auto x = expert::from_bytes(*bytes, cfg.expert);
    cache.emplace_back(id, std::move(x));
    while (cache.size() > std::max<uint32_t>(1, cfg.expert_cache))
      cache.pop_front();
    return cache.back().second.get();
  }

  void forget(const std::string& id) {
    cache.remove_if([&](auto& kv) { return kv.first == id; });
  }

  double accuracy(expert& x, const std::vector<image>& imgs,
                  const std::vector<std::vector<box>>& truth) {
    return detection_accuracy(x.detect_for_scoring(imgs), truth);
  }

  /// Per-frame scores of `x` on `imgs` (gating targets).
  std::vector<float> frame_scores(expert& x, const std::vector<image>& imgs,
                                  const std::vector<std::vector<box>>& truth) {
    auto dets = x.detect(imgs);
    std::vector<float> out;
    for (size_t i = 0; i < imgs.size(); ++i)
      out.push_back(static_cast<float>(frame_score(dets[i], truth[i])));
    return out;
  }

  /// The gating network's version and outputs, in the form of schema 2 or
  /// of before; none when no network was saved.
  std::optional<gating_index> read_gating_index() const {
    if (auto v = db->get(family::gating, keys::gating_index))
      return decode_gating_index(*v);
    auto ids = db->get(family::gating, keys::legacy_gating_experts);
    if (!ids)
      return std::nullopt;
    auto ver = db->get(family::gating, keys::legacy_gating_version);
    return gating_index_from_text(*ids, ver ? *ver : "");
  }

  void load_gating() {
    auto ck = db->get(family::gating, keys::gating_checkpoint);
    auto index = read_gating_index();
    if (!ck || ck->empty() || !index)
      return;
    gate = gating::from_bytes(*ck);
    gate_ids = index->experts;
    gate_version = index->version;
    if (auto o = db->get(family::gating, keys::odin); o && !o->empty())
      odin = embedder::from_bytes(*o);
    db->scan(family::gating, keys::centroid_prefix,
             [&](std::string_view k, std::string_view v) {
               centroids[std::string{k.substr(keys::centroid_prefix.size())}]
                 = decode_centroid(v);
               return true;
             });
    if (gate->experts() != gate_ids.size()) {
      log::error("gpu-owner", "gating checkpoint has ", gate->experts(),
                 " outputs for ", gate_ids.size(), " experts; ignoring it");
      gate.reset();
      gate_ids.clear();
    }
  }
};

/// Splits a window's frames into training frames and a held-out slice (every
/// fourth frame; with fewer than four frames both use all of them). The
/// first `history` frames (earlier windows', --train-windows) only train:
/// what measures the job is the window's own.
inline void split_window(const std::vector<image>& imgs,
                         const std::vector<std::vector<box>>& truth,
                         labelled_frames& train, labelled_frames& holdout,
                         size_t history = 0) {
  size_t h = std::min(history, imgs.size());
  size_t own = imgs.size() - h;
  for (size_t i = 0; i < imgs.size(); ++i) {
    bool held = i >= h && own >= 4 && (i - h) % 4 == 3;
    auto& dst = held ? holdout : train;
    dst.frames.push_back(imgs[i]);
    dst.labels.push_back(truth[i]);
  }
  if (holdout.frames.empty()) {
    holdout.frames.assign(imgs.begin() + h, imgs.end());
    holdout.labels.assign(truth.begin() + h, truth.end());
  }
}

/// Loads the base expert, the generalist and the gating network named by
/// the configuration; without a base expert (or when it fails to load) the
/// owner runs without models and every window keeps the edge's model.
void load_models(gpu_owner_state& st);

/// One window's selection and safety check: the configured selector's
/// top-K for `lw` (gating or ODIN; the oracle proposes `zoo`, every zoo
/// expert), then `own` (the camera's candidates), each scored on all frames
/// and on the even and odd ones. --selector compare also scores gating's and
/// ODIN's first choices and `zoo`, into `compare`.
caf::expected<check_result>
select_and_check(gpu_owner_state& st, const labelled_window& lw, uint32_t k,
                 const std::vector<std::string>& own,
                 const std::vector<std::string>& zoo);

/// A model's serialized weights.
caf::expected<std::string> weights_of(gpu_owner_state& st,
                                      const std::string& id);

/// Model `id` as an encoded update for an edge holding `base_id` with
/// content hash `base_hash` (a delta when this side has that model).
caf::expected<std::string> update_of(gpu_owner_state& st, const std::string& id,
                                     const std::string& base_id,
                                     const std::string& base_hash, bool half);

/// The scheduler's state for the admin.
scheduler_report report_of(const gpu_owner_state& st);

/// A model's accuracy on labelled frames (the safety check's measure).
double accuracy_on(expert& model, const labelled_frames& xs);

/// Steps one job keeps (and an edge fetches) at most.
inline constexpr size_t max_streamed_steps = 8;

/// --stream-models, after a micro-window of camera job `j`: keeps its model
/// as a step when it beats, on the held-out slice, the model it started
/// from and every earlier step.
void maybe_stream(gpu_owner_state& st, job& j);

/// Grows the gating network by `news`, relabels and subsamples the gating
/// samples, fine-tunes; kept pending until committed.
caf::expected<gating_update>
prepare_admission(gpu_owner_state& st, const std::vector<candidate>& news,
                  const std::vector<gating_sample>& samples);

/// The gating network without `gone`'s outputs; kept pending.
gating_update prepare_prune(gpu_owner_state& st,
                            const std::vector<std::string>& gone);

/// Installs (ok) or drops the pending update of `version`.
void commit_update(gpu_owner_state& st, uint64_t version, bool ok);

} // namespace recl::detail
