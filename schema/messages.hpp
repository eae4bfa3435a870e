#pragma once
// The messages that cross the wire between recld and its clients, as plain
// C++ structs. schema/recl.capnp is their Cap'n Proto form and
// schema/wire.hpp converts between the two; the actors exchange the same
// structs (actors/types.hpp adds CAF's inspectors). Nothing here knows of
// CAF or Cap'n Proto.

#include "gpu/detection.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace recl {

/// One sampled frame as the edge sent it.
struct frame {
  std::vector<uint8_t> bytes; ///< JPEG or PNG
  uint64_t ts_ms = 0;         ///< position in the camera's stream
};

/// How an edge takes a served model (schema/model_update.hpp).
enum class update_form : uint8_t {
  archive = 0,    ///< the whole LibTorch archive (clients before deltas)
  delta = 1,      ///< the tensors that differ, else all of them; exact
  delta_half = 2, ///< the same, floating-point tensors as fp16
};

/// One model-update window of one camera.
struct window {
  std::string camera;
  uint32_t index = 0;
  std::vector<frame> frames;
  float sample_fps = 0;
  std::string model_id;   ///< what the edge runs now ("" = none)
  std::string model_hash; ///< its content hash ("" = unknown)
  update_form updates = update_form::archive;
  double arrived_ms = 0; ///< now_ms() when the gateway received it
};

/// Server-side time spent on one window, in milliseconds.
struct window_timing {
  double queue_ms = 0;   ///< waiting for a labeler
  double decode_ms = 0;  ///< image decoding
  double teacher_ms = 0; ///< teacher inference
  double select_ms = 0;  ///< selection (top-K)
  double check_ms = 0;   ///< safety check (candidates evaluated)
  double fetch_ms = 0;   ///< the served model's weights, from a GPU owner
  double link_ms = 0;    ///< to and from a worker node's labeler
  double total_ms = 0;   ///< arrival to reply
};

/// With the server's --selector compare (same-zoo comparison of selectors,
/// experiment 2): the accuracy on a window of the gating network's first
/// choice, ODIN's first choice and the best zoo expert (-1: none / not
/// compared).
struct selector_comparison {
  float gating = -1;
  float odin = -1;
  float oracle = -1;
};

/// The answer to one window.
struct decision {
  uint32_t window = 0;
  bool swap = false;            ///< false: keep the current model
  std::string model_id;         ///< the model to run
  std::vector<uint8_t> weights; ///< when the edge lacks the model
  std::vector<uint8_t> update;  ///< instead, for update_form delta(_half)
  std::vector<frame_labels> labels;
  float next_sample_fps = 0;
  window_timing time;
  std::string teacher;
  std::string source;          ///< zoo, retrained, generalist, base, kept
  float accuracy = -1;         ///< the chosen model on this window (-1: none)
  float current_accuracy = -1; ///< the edge's model on this window
  uint32_t zoo_size = 0;
  uint32_t candidates = 0; ///< models the safety check evaluated
  selector_comparison compare;
  bool saved = true; ///< false: the store could not record the window
  std::string note;  ///< why, when not saved
};

/// A job's model where it beat, on the window's held-out slice, the model
/// it started from and everything streamed before (recld --stream-models):
/// the edge may run it while the job goes on (CameraSession.streamed).
struct streamed_step {
  float at = 0;         ///< when, as a share of the job's budget (0..1]
  float accuracy = 0;   ///< on the window's held-out slice
  std::string model_id; ///< the job's model id (the last step's is persisted)
  std::string weights;  ///< the model's archive bytes
};

/// Statistics an edge reports about itself.
struct edge_stats {
  std::string camera;
  uint32_t window = 0;
  uint64_t frames_seen = 0;
  std::string model_id;
  float accuracy = -1;
};

/// What the server accepts in one window, announced at registration.
struct server_limits {
  uint32_t max_frames = 256;
  uint64_t max_frame_bytes = 8ull << 20;
  uint64_t max_message_bytes = 256ull << 20;
};

/// What the server knows about one camera; persisted in `cameras`
/// (actors/records.hpp encodes it).
struct camera_info {
  std::string id;
  uint64_t windows = 0;
  uint64_t frames_labelled = 0;
  double last_reply_ms = 0;
  int64_t last_reply_unix_ms = 0;
  std::string model_id;          ///< current model ("" = the edge's own)
  std::string last_retrained_id; ///< last model retrained for it
  bool connected = false;        ///< not persisted
};

/// One expert in the zoo, without its weights.
struct expert_info {
  std::string id;
  std::string origin_camera;
  uint32_t origin_window = 0;
  int64_t admitted_unix_ms = 0;
  uint64_t weight_bytes = 0;
  float accuracy = 0;        ///< on its window's held-out frames
  uint64_t admitted_seq = 0; ///< selections made before its admission
  uint32_t chosen = 0;       ///< times served in the last q selections
};

/// A named credential as the admin interface lists it (never its secret).
struct credential_info {
  std::string name;
  std::string role;    ///< "camera", "viewer" or "admin"
  std::string cameras; ///< camera role: the glob of ids it may register
  int64_t created_unix_ms = 0;
};

/// One decision of the GPU owner's scheduler.
struct grant_record {
  double at = 0; ///< clock when granted
  std::string job;
  bool profile = false;
  float acc_before = 0;
  float acc_after = 0;
  double cost = 0;      ///< clock units
  double switch_ms = 0; ///< choosing the job and reaching its resident state
  std::string device;   ///< where it ran (--devices; "" with one device)
};

/// One device's GPU owner, for `recl-admin nodes`.
struct device_state {
  std::string node;   ///< "" for the coordinator's own
  std::string device; ///< "cpu:0", "cuda:1", ...
  /// "local"; a worker's: "up", "gone" (it left or its link dropped) or
  /// "silent" (up, but it did not answer this report in time).
  std::string link;
  uint32_t jobs = 0;      ///< training requests placed on it, not answered
  uint32_t in_flight = 0; ///< other requests not answered
  uint64_t requests = 0;  ///< requests the pool has sent it
  uint64_t grants = 0;
  double busy_s = 0;
  double elapsed_s = 0;
  uint32_t queued = 0;
};

/// What crossed the link between the coordinator's store and one worker
/// node: model weights and checkpoints mostly.
struct link_traffic {
  std::string node;
  uint64_t store_requests = 0; ///< gets, puts and scans it asked for
  uint64_t bytes_sent = 0;     ///< values sent to it
  uint64_t bytes_received = 0; ///< values it wrote
  /// Model weights sent (an admitted expert's or a retrained model's), on
  /// every read; the distinct models among them; their bytes.
  uint64_t experts_sent = 0;
  uint64_t experts_moved = 0;
  uint64_t expert_bytes = 0;
};

/// The scheduler as `recl-admin scheduler` shows it.
struct scheduler_report {
  std::string policy;
  std::string clock;
  double now = 0;
  std::vector<std::string> jobs; ///< one line per live job
  std::vector<grant_record> recent;
  double busy_s = 0;    ///< device time spent on grants and priority work
  double elapsed_s = 0; ///< since the GPU owner started
  double profiling = 0; ///< clock units spent profiling (ekya)
  double training = 0;  ///< clock units spent training
  uint64_t grants = 0;
  /// Device seconds spent updating the selectors (the gating network and
  /// ODIN: relabelling and training on admissions, shrinking on prunes).
  double selector_s = 0;
  /// Requests waiting in the GPU owner's mailbox (safety checks, selection,
  /// training submissions): the depth of the device's queue.
  uint32_t queued = 0;
  /// Devices, one GPU owner each (--devices): busy_s is their sum.
  uint32_t devices = 1;
  /// Each device, gone ones included (empty with one device, no pool).
  std::vector<device_state> device_states;
  /// Each worker node's store traffic (empty without worker nodes).
  std::vector<link_traffic> links;
};

/// The answer to an admin's status query.
struct status_info {
  double uptime_s = 0;
  std::string teacher;
  uint64_t store_bytes = 0;
  std::string data_dir;
  std::vector<camera_info> cameras;
  std::string version;
  std::string store_fault;       ///< why writes fail ("" = writable)
  uint64_t store_free_bytes = 0; ///< free on the data directory's disk
};

} // namespace recl
