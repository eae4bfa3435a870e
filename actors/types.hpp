#pragma once
// The messages actors exchange: those that also cross the wire
// (schema/messages.hpp), those only actors see, and CAF's inspectors for all.

#include "gpu/image.hpp"
#include "schema/messages.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recl {

/// A window together with its teacher labels and what labelling cost.
struct labelled_window {
  window source;
  std::vector<frame_labels> labels; ///< one per frame, same order
  double queue_ms = 0;              ///< waiting for the labeler
  double decode_ms = 0;             ///< JPEG decoding, all frames
  double teacher_ms = 0;            ///< teacher inference, all frames
  double link_ms = 0; ///< a worker's labeler: the trip there and back
  /// The frames as the labeler decoded them, so that nothing decodes them
  /// again. Not serialized: an actor on another node decodes `source`.
  std::shared_ptr<const std::vector<image>> images;
  /// Where it was labelled: a worker node's labeler ("NODE/labeler:N"),
  /// or "" for this node's own.
  std::string labeler;
  /// A training request only: how many leading frames (and labels) are
  /// the camera's earlier windows (--train-windows), for training and not
  /// for measuring it. The window's own frames follow them.
  uint32_t history = 0;
};

/// The answer to one window's selection and safety check (one request to
/// the GPU owner): the candidates, the selector's proposals first, and each
/// one's score on all the window's frames, on the even and on the odd ones
/// (-1: no such model).
struct check_result {
  std::vector<std::string> ids;
  std::vector<float> all, even, odd;
  selector_comparison compare; ///< --selector compare only
  double select_ms = 0;        ///< the selector's inference
  double check_ms = 0;         ///< scoring the candidates

  /// The score on all frames of candidate `id`, or -1.
  float score_of(const std::string& id) const {
    for (size_t i = 0; i < ids.size() && i < all.size(); ++i)
      if (ids[i] == id)
        return all[i];
    return -1.f;
  }
};

/// The id of the model camera `cam`'s job for window `w` makes (and every
/// step it streams carries).
inline std::string retrained_id(const std::string& cam, uint32_t w) {
  return "r-" + cam + "-" + std::to_string(w);
}

/// What a retraining job delivered when its window ended.
struct training_result {
  std::string camera;
  uint32_t window = 0;
  std::string model_id;              ///< the retrained model (persisted)
  std::string start_id;              ///< the model it started from
  float accuracy = 0;                ///< on the window's held-out slice
  std::vector<std::string> rivals;   ///< the window's other candidates
  std::vector<float> rival_accuracy; ///< on the same slice (-1: unknown)
  uint32_t micro_windows = 0;
  double device_s = 0;
  std::vector<streamed_step> steps; ///< --stream-models: in time order
};

/// One training sample of the gating network: a frame, its teacher labels
/// and each expert's score on it.
struct gating_sample {
  std::vector<uint8_t> jpeg;
  frame_labels labels;
  std::vector<std::string> experts;
  std::vector<float> scores;
};

/// A promising model on its way into the zoo.
struct candidate {
  std::string model_id; ///< the retrained model it came from
  expert_info info;
  float best_rival = 0;
  std::vector<frame> frames;        ///< its window's frames ...
  std::vector<frame_labels> labels; ///< ... and their teacher labels
};

/// A new gating network prepared by the GPU owner for the zoo to persist;
/// it takes effect when the zoo commits it.
struct gating_update {
  uint64_t version = 0;
  std::string checkpoint;             ///< gating::to_bytes(); "" = no network
  std::vector<std::string> experts;   ///< output order
  std::vector<gating_sample> samples; ///< the new sample set
  double prepare_ms = 0;
  // ODIN's selector (--selector odin): its autoencoder and each expert's
  // mean embedding of its training frames.
  std::string odin;
  std::vector<std::string> centroid_ids;
  std::vector<std::vector<float>> centroids;
};

// -- inspectors ----------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, box& x) {
  return f(caf::meta::type_name("recl.box"), x.x0, x.y0, x.x1, x.y1, x.score,
           x.cls);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame& x) {
  return f(caf::meta::type_name("recl.frame"), x.bytes, x.ts_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, window& x) {
  return f(caf::meta::type_name("recl.window"), x.camera, x.index, x.frames,
           x.sample_fps, x.model_id, x.model_hash, x.updates, x.arrived_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_labels& x) {
  return f(caf::meta::type_name("recl.frame_labels"), x.width, x.height,
           x.boxes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, labelled_window& x) {
  return f(caf::meta::type_name("recl.labelled_window"), x.source, x.labels,
           x.queue_ms, x.decode_ms, x.teacher_ms, x.link_ms, x.labeler,
           x.history);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, check_result& x) {
  return f(caf::meta::type_name("recl.check_result"), x.ids, x.all, x.even,
           x.odd, x.compare, x.select_ms, x.check_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, window_timing& x) {
  return f(caf::meta::type_name("recl.timing"), x.queue_ms, x.decode_ms,
           x.teacher_ms, x.select_ms, x.check_ms, x.fetch_ms, x.link_ms,
           x.total_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, selector_comparison& x) {
  return f(caf::meta::type_name("recl.selector_comparison"), x.gating, x.odin,
           x.oracle);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision& x) {
  return f(caf::meta::type_name("recl.decision"), x.window, x.swap, x.model_id,
           x.weights, x.update, x.labels, x.next_sample_fps, x.time, x.teacher,
           x.source, x.accuracy, x.current_accuracy, x.zoo_size, x.candidates,
           x.compare, x.saved, x.note);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_stats& x) {
  return f(caf::meta::type_name("recl.edge_stats"), x.camera, x.window,
           x.frames_seen, x.model_id, x.accuracy);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, camera_info& x) {
  return f(caf::meta::type_name("recl.camera_info"), x.id, x.windows,
           x.frames_labelled, x.last_reply_ms, x.last_reply_unix_ms, x.model_id,
           x.last_retrained_id, x.connected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, expert_info& x) {
  return f(caf::meta::type_name("recl.expert_info"), x.id, x.origin_camera,
           x.origin_window, x.admitted_unix_ms, x.weight_bytes, x.accuracy,
           x.admitted_seq, x.chosen);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, streamed_step& x) {
  return f(caf::meta::type_name("recl.streamed_step"), x.at, x.accuracy,
           x.model_id, x.weights);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, training_result& x) {
  return f(caf::meta::type_name("recl.training_result"), x.camera, x.window,
           x.model_id, x.start_id, x.accuracy, x.rivals, x.rival_accuracy,
           x.micro_windows, x.device_s, x.steps);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gating_sample& x) {
  return f(caf::meta::type_name("recl.gating_sample"), x.jpeg, x.labels,
           x.experts, x.scores);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, candidate& x) {
  return f(caf::meta::type_name("recl.candidate"), x.model_id, x.info,
           x.best_rival, x.frames, x.labels);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gating_update& x) {
  return f(caf::meta::type_name("recl.gating_update"), x.version, x.checkpoint,
           x.experts, x.samples, x.prepare_ms, x.odin, x.centroid_ids,
           x.centroids);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_record& x) {
  return f(caf::meta::type_name("recl.grant_record"), x.at, x.job, x.profile,
           x.acc_before, x.acc_after, x.cost, x.switch_ms, x.device);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, device_state& x) {
  return f(caf::meta::type_name("recl.device_state"), x.node, x.device, x.link,
           x.jobs, x.in_flight, x.requests, x.grants, x.busy_s, x.elapsed_s,
           x.queued);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_traffic& x) {
  return f(caf::meta::type_name("recl.link_traffic"), x.node, x.store_requests,
           x.bytes_sent, x.bytes_received, x.experts_sent, x.experts_moved,
           x.expert_bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scheduler_report& x) {
  return f(caf::meta::type_name("recl.scheduler_report"), x.policy, x.clock,
           x.now, x.jobs, x.recent, x.busy_s, x.elapsed_s, x.profiling,
           x.training, x.grants, x.selector_s, x.queued, x.devices,
           x.device_states, x.links);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_info& x) {
  return f(caf::meta::type_name("recl.status_info"), x.uptime_s, x.teacher,
           x.store_bytes, x.data_dir, x.cameras, x.version, x.store_fault,
           x.store_free_bytes);
}

/// The zoo since recld started, for /metrics.
struct zoo_stats {
  uint64_t experts = 0;  ///< in the zoo now
  uint64_t queued = 0;   ///< candidates waiting for admission
  uint64_t admitted = 0; ///< experts admitted
  uint64_t pruned = 0;   ///< experts pruned (by rule, by hand, for room)
  uint64_t refused = 0;  ///< candidates refused (store over its budget)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, zoo_stats& x) {
  return f(caf::meta::type_name("recl.zoo_stats"), x.experts, x.queued,
           x.admitted, x.pruned, x.refused);
}

/// The steps of a window's journey where it can wait (window.cpp), as
/// /metrics counts the windows in each.
enum class window_stage { budget, label, check, reply, count };

/// Their names, in order (/metrics' stage label).
inline const char* const window_stage_names[]
  = {"budget", "label", "check", "reply"};

/// Everything /metrics shows of the node, in one answer.
struct metrics_snapshot {
  status_info status;
  scheduler_report scheduler;
  zoo_stats zoo;
  /// Windows in each stage now (indexed by window_stage).
  std::vector<int64_t> stages;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metrics_snapshot& x) {
  return f(caf::meta::type_name("recl.metrics_snapshot"), x.status, x.scheduler,
           x.zoo, x.stages);
}

} // namespace recl
