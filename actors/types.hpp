#pragma once
// The messages actors exchange: plain structs with CAF inspectors. Frames
// travel as the JPEG bytes the edge sent; decoding happens on the labeler.

#include "gpu/detection.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace recl {

/// One sampled frame as the edge sent it.
struct frame {
  std::vector<uint8_t> bytes; ///< JPEG or PNG
  uint64_t ts_ms = 0;         ///< position in the camera's stream
};

/// One model-update window of one camera.
struct window {
  std::string camera;
  uint32_t index = 0;
  std::vector<frame> frames;
  float sample_fps = 0;
  std::string model_id; ///< what the edge runs now ("" = none)
  double arrived_ms = 0; ///< now_ms() when the gateway received it
};

/// A window together with its teacher labels and what labelling cost.
struct labelled_window {
  window source;
  std::vector<frame_labels> labels; ///< one per frame, same order
  double queue_ms = 0;   ///< waiting for the labeler
  double decode_ms = 0;  ///< JPEG decoding, all frames
  double teacher_ms = 0; ///< teacher inference, all frames
};

/// The answer to one window.
struct decision {
  uint32_t window = 0;
  bool swap = false;             ///< false: keep the current model
  std::string model_id;          ///< the model to run
  std::vector<uint8_t> weights;  ///< when the edge lacks the model
  std::vector<frame_labels> labels;
  float next_sample_fps = 0;
  window_timing time;
  std::string teacher;
};

/// Statistics an edge reports about itself.
struct edge_stats {
  std::string camera;
  uint32_t window = 0;
  uint64_t frames_seen = 0;
  std::string model_id;
  float accuracy = -1;
};

/// What the server knows about one camera; persisted in `cameras`.
struct camera_info {
  std::string id;
  uint64_t windows = 0;
  uint64_t frames_labelled = 0;
  double last_reply_ms = 0;
  int64_t last_reply_unix_ms = 0;
  std::string model_id;          ///< current model ("" = the edge's own)
  std::string last_retrained_id; ///< last model retrained for it
  bool connected = false;        ///< not persisted

  /// Serialises the persisted fields as `key=value` lines.
  std::string encode() const;

  /// Parses `encode()`'s output; unknown keys are ignored.
  static camera_info decode(const std::string& id, const std::string& text);
};

/// One expert in the zoo, without its weights.
struct expert_info {
  std::string id;
  std::string origin_camera;
  uint32_t origin_window = 0;
  int64_t admitted_unix_ms = 0;
  uint64_t weight_bytes = 0;
};

/// The answer to an admin's status query.
struct status_info {
  double uptime_s = 0;
  std::string teacher;
  uint64_t store_bytes = 0;
  std::string data_dir;
  std::vector<camera_info> cameras;
  std::string version;
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
           x.sample_fps, x.model_id, x.arrived_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_labels& x) {
  return f(caf::meta::type_name("recl.frame_labels"), x.width, x.height,
           x.boxes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, labelled_window& x) {
  return f(caf::meta::type_name("recl.labelled_window"), x.source, x.labels,
           x.queue_ms, x.decode_ms, x.teacher_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, window_timing& x) {
  return f(caf::meta::type_name("recl.timing"), x.queue_ms, x.decode_ms,
           x.teacher_ms, x.select_ms, x.total_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision& x) {
  return f(caf::meta::type_name("recl.decision"), x.window, x.swap,
           x.model_id, x.weights, x.labels, x.next_sample_fps, x.time,
           x.teacher);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_stats& x) {
  return f(caf::meta::type_name("recl.edge_stats"), x.camera, x.window,
           x.frames_seen, x.model_id, x.accuracy);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, camera_info& x) {
  return f(caf::meta::type_name("recl.camera_info"), x.id, x.windows,
           x.frames_labelled, x.last_reply_ms, x.last_reply_unix_ms,
           x.model_id, x.last_retrained_id, x.connected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, expert_info& x) {
  return f(caf::meta::type_name("recl.expert_info"), x.id, x.origin_camera,
           x.origin_window, x.admitted_unix_ms, x.weight_bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_info& x) {
  return f(caf::meta::type_name("recl.status_info"), x.uptime_s, x.teacher,
           x.store_bytes, x.data_dir, x.cameras, x.version);
}

} // namespace recl
