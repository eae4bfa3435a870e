#pragma once
// The architecture in one file: every actor interface of recld, the atoms
// they speak with, the error codes they answer with, and the factories that
// spawn them. Read this first. (CAF 0.17.6 syntax.)
//
//  edge ──Cap'n Proto──▶ gateway ──▶ node ──spawns──▶ camera (one per session)
//                                     camera ─ label ──▶ labeler (teacher pool)
//                                     camera ─ select ─▶ selector ─▶ zoo
//                                     camera ─ check/train ─▶ gpu-owner ─▶ trainer-job
//                                     camera ─ stats ──▶ admin

#include "actors/modes.hpp"
#include "actors/types.hpp"
#include "actors/zoo_policy.hpp"
#include "gpu/expert.hpp"
#include "gpu/teacher_options.hpp"
#include "gpu/trainer.hpp"

#include <caf/fwd.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace recl {

class store;
class kv;
struct gpu_owner_config;
struct node_welcome;

/// Errors recld answers with; each carries a message naming what was wrong.
enum class ec : uint8_t {
  unspecified = 1,
  bad_frame,      ///< a frame is not a decodable image
  bad_window,     ///< e.g. an empty window
  limit_exceeded, ///< more frames or bytes than the limits allow
  session_closed, ///< the session was closed or superseded
  unauthorized,   ///< wrong token
  bad_camera_id,  ///< not 1-64 of [A-Za-z0-9._-]
  storage,        ///< the store failed (RocksDB)
  model,          ///< a model failed (OpenCV, LibTorch)
  unknown_expert, ///< no such expert in the zoo
};

/// The name of an error code, e.g. "bad_frame".
const char* to_string(ec x);

/// "bad_frame: window 3, frame 2: not a decodable image" for recl errors,
/// CAF's rendering otherwise.
std::string describe(const caf::error& x);

} // namespace recl

CAF_ERROR_CODE_ENUM(recl::ec, "recl")

// -- atoms (at most 10 characters) and type IDs ----------------------------------

CAF_BEGIN_TYPE_ID_BLOCK(recl, caf::first_custom_type_id)
CAF_ADD_ATOM(recl, recl, label_atom, "label")
CAF_ADD_ATOM(recl, recl, update_atom, "update")
CAF_ADD_ATOM(recl, recl, report_atom, "report")
CAF_ADD_ATOM(recl, recl, check_atom, "check")
CAF_ADD_ATOM(recl, recl, train_atom, "train")
CAF_ADD_ATOM(recl, recl, admit_atom, "admit")
CAF_ADD_ATOM(recl, recl, prune_atom, "prune")
CAF_ADD_ATOM(recl, recl, list_atom, "list")
CAF_ADD_ATOM(recl, recl, status_atom, "status")
CAF_ADD_ATOM(recl, recl, register_atom, "register")
CAF_ADD_ATOM(recl, recl, camstats_atom, "camstats")
CAF_ADD_ATOM(recl, recl, connected_atom, "connected")
CAF_ADD_ATOM(recl, recl, tick_atom, "tick")
CAF_ADD_ATOM(recl, recl, fetch_atom, "fetch")
CAF_ADD_ATOM(recl, recl, await_atom, "await")
CAF_ADD_ATOM(recl, recl, commit_atom, "commit")
CAF_ADD_ATOM(recl, recl, scheduler_atom, "scheduler")
CAF_ADD_ATOM(recl, recl, selected_atom, "selected")
CAF_ADD_ATOM(recl, recl, result_atom, "result")
CAF_ADD_ATOM(recl, recl, restart_atom, "restart")
CAF_ADD_ATOM(recl, recl, close_atom, "close")
CAF_ADD_ATOM(recl, recl, zoostats_atom, "zoostats")
CAF_ADD_ATOM(recl, recl, metrics_atom, "metrics")
CAF_ADD_ATOM(recl, recl, join_atom, "join")
CAF_ADD_ATOM(recl, recl, hello_atom, "hello")
CAF_ADD_ATOM(recl, recl, kv_get_atom, "kvget")
CAF_ADD_ATOM(recl, recl, kv_put_atom, "kvput")
CAF_ADD_ATOM(recl, recl, kv_scan_atom, "kvscan")
CAF_ADD_ATOM(recl, recl, stream_atom, "stream")
CAF_ADD_TYPE_ID(recl, (recl::box))
CAF_ADD_TYPE_ID(recl, (recl::frame))
CAF_ADD_TYPE_ID(recl, (recl::window))
CAF_ADD_TYPE_ID(recl, (recl::frame_labels))
CAF_ADD_TYPE_ID(recl, (recl::labelled_window))
CAF_ADD_TYPE_ID(recl, (recl::check_result))
CAF_ADD_TYPE_ID(recl, (recl::window_timing))
CAF_ADD_TYPE_ID(recl, (recl::selector_comparison))
CAF_ADD_TYPE_ID(recl, (recl::decision))
CAF_ADD_TYPE_ID(recl, (recl::edge_stats))
CAF_ADD_TYPE_ID(recl, (recl::camera_info))
CAF_ADD_TYPE_ID(recl, (recl::expert_info))
CAF_ADD_TYPE_ID(recl, (recl::status_info))
CAF_ADD_TYPE_ID(recl, (std::vector<recl::expert_info>))
CAF_ADD_TYPE_ID(recl, (std::vector<float>))
CAF_ADD_TYPE_ID(recl, (recl::training_result))
CAF_ADD_TYPE_ID(recl, (recl::streamed_step))
CAF_ADD_TYPE_ID(recl, (std::vector<recl::streamed_step>))
CAF_ADD_TYPE_ID(recl, (recl::gating_sample))
CAF_ADD_TYPE_ID(recl, (recl::candidate))
CAF_ADD_TYPE_ID(recl, (recl::gating_update))
CAF_ADD_TYPE_ID(recl, (recl::grant_record))
CAF_ADD_TYPE_ID(recl, (recl::scheduler_report))
CAF_ADD_TYPE_ID(recl, (std::vector<recl::candidate>))
CAF_ADD_TYPE_ID(recl, (std::vector<recl::gating_sample>))
CAF_ADD_TYPE_ID(recl, (std::vector<std::vector<float>>))
CAF_ADD_TYPE_ID(recl, (recl::zoo_stats))
CAF_ADD_TYPE_ID(recl, (recl::metrics_snapshot))
CAF_ADD_TYPE_ID(recl, (recl::device_state))
CAF_ADD_TYPE_ID(recl, (recl::link_traffic))
CAF_ADD_TYPE_ID(recl, (std::vector<recl::device_state>))
CAF_ADD_TYPE_ID(recl, (recl::gpu_owner_config))
CAF_ADD_TYPE_ID(recl, (recl::node_welcome))
CAF_END_TYPE_ID_BLOCK(recl)

namespace recl {

class cluster_traffic; // cluster.hpp

// -- interfaces ----------------------------------------------------------------

/// The teacher: decodes a window's frames and labels each (detached: blocks).
using labeler_actor = caf::typed_actor<
  // Labels every frame; fails with bad_frame naming the first bad frame.
  caf::replies_to<label_atom, window>::with<labelled_window>>;

/// The labeler pool (labeler_pool.cpp): with worker nodes, the cameras'
/// labeler, over this node's labelers and those workers offer.
using labeler_pool_actor = labeler_actor::extend<
  // A worker node offers a labeler: (node, the labeler).
  caf::reacts_to<join_atom, label_atom, std::string, caf::actor>,
  // The node restarted a local labeler: (the dead one, its successor).
  caf::reacts_to<restart_atom, caf::actor_addr, caf::actor>,
  // Each labeler as `recl-admin nodes` shows it (device "labeler:N").
  caf::replies_to<scheduler_atom>::with<std::vector<device_state>>>;

/// The zoo: expert registry and checkpoints in the store; the admission
/// queue (alpha, gamma) and pruning (eta, q).
using zoo_actor = caf::typed_actor<
  // Lists the experts (without weights).
  caf::replies_to<list_atom>::with<std::vector<expert_info>>,
  // Counts since start, for /metrics.
  caf::replies_to<zoostats_atom>::with<zoo_stats>>::
  extend<
    // A retrained model that beat its window's rivals by alpha: queued; at
    // gamma queued models the batch is admitted. Answers its queue position
    // (0 = admitted now).
    caf::replies_to<admit_atom, candidate>::with<uint64_t>,
    // Which model a window was served (the selection log).
    caf::reacts_to<selected_atom, std::string>,
    // Prunes by the eta/q rule ("") or one expert by id; answers the ids
    // removed.
    caf::replies_to<prune_atom, std::string>::with<std::vector<std::string>>,
    // A component it talks to was restarted: (dead actor, its replacement).
    caf::reacts_to<restart_atom, caf::actor_addr, caf::actor>>;

/// The selector: proposes zoo experts by policy (--selector) and has the
/// GPU owner score them in the same request as the safety check.
using selector_actor = caf::typed_actor<
  // Selection and safety check for a labelled window: the top-K (by the
  // policy) and the camera's own candidates, each scored.
  caf::replies_to<check_atom, labelled_window, uint32_t,
                  std::vector<std::string>>::with<check_result>,
  // A component it talks to was restarted: (dead actor, its replacement).
  caf::reacts_to<restart_atom, caf::actor_addr, caf::actor>>;

/// A retraining job: one camera's model, optimizer and frames, resident.
using trainer_job_actor = caf::typed_actor<
  // Trains for one micro-window; answers the accuracy gain per second.
  caf::replies_to<train_atom>::with<double>>;

/// The only actor that touches the accelerator (see gpu_owner.cpp).
using gpu_owner_actor = caf::typed_actor<
  // Selection and safety check in one request (priority lane): the
  // configured selector's top-K (gating or ODIN; with --selector oracle the
  // given zoo experts), then the camera's own candidates, every one scored
  // on the window. Args: window, K, own candidates, the zoo's experts
  // (oracle and compare only).
  caf::replies_to<check_atom, labelled_window, uint32_t,
                  std::vector<std::string>,
                  std::vector<std::string>>::with<check_result>,
  // A retraining request (window, starting model, the window's other
  // candidates) for this window's budget; answered when the job ends.
  caf::replies_to<train_atom, labelled_window, std::string,
                  std::vector<std::string>>::with<training_result>,
  // Replay clock: answers once the camera has no live job.
  caf::replies_to<await_atom, std::string>::with<bool>,
  // --stream-models: the steps a camera's live job for a window has made so
  // far (none if that job is not live here).
  caf::replies_to<stream_atom, std::string,
                  uint32_t>::with<std::vector<streamed_step>>,
  // A model's weights.
  caf::replies_to<fetch_atom, std::string>::with<std::string>,
  // A model as an update (schema/model_update.hpp, encoded) for an edge
  // that holds (model id, content hash); true: fp16.
  caf::replies_to<fetch_atom, std::string, std::string, std::string,
                  bool>::with<std::string>,
  // Prepares the gating network for admitted experts and the stored
  // samples; takes effect on commit.
  caf::replies_to<admit_atom, std::vector<candidate>,
                  std::vector<gating_sample>>::with<gating_update>,
  // Prepares the gating network without pruned experts.
  caf::replies_to<prune_atom, std::vector<std::string>>::with<gating_update>,
  // The zoo persisted (true) or dropped (false) a prepared update.
  caf::reacts_to<commit_atom, uint64_t, bool>,
  // Recent grants and live jobs.
  caf::replies_to<scheduler_atom>::with<scheduler_report>,
  // One micro-window (sent to itself).
  caf::reacts_to<tick_atom>>;

/// One per edge session.
using camera_actor = caf::typed_actor<
  // One model-update window: label, select, check, reply; never waits for
  // training.
  caf::replies_to<update_atom, window>::with<decision>,
  // Statistics the edge reports about itself.
  caf::reacts_to<report_atom, edge_stats>,
  // --stream-models: the steps of window N's job; true: all of them once
  // it has ended, false: those made so far (none if it was not retrained
  // or streamed nothing).
  caf::replies_to<stream_atom, uint32_t,
                  bool>::with<std::vector<streamed_step>>,
  // A component it talks to was restarted: (dead actor, its replacement).
  caf::reacts_to<restart_atom, caf::actor_addr, caf::actor>>;

/// Answers state queries for recl-admin.
using admin_actor
  = caf::typed_actor<caf::replies_to<status_atom>::with<status_info>,
                     // A camera's record after each window.
                     caf::reacts_to<camstats_atom, camera_info>,
                     // A camera's session opened (true) or ended (false).
                     caf::reacts_to<connected_atom, std::string, bool>>;

/// The GPU pool (gpu_pool.cpp): the GPU owner's interface, and owners of
/// worker nodes joining it.
using gpu_pool_actor = gpu_owner_actor::extend<
  // (node, device, the owner): placed like a local one until it goes down.
  caf::reacts_to<join_atom, std::string, std::string, caf::actor>>;

/// The root: spawns, monitors and shuts down the others.
using node_actor = caf::typed_actor<
  // Opens a camera session: spawns its camera actor.
  caf::replies_to<register_atom, std::string>::with<camera_actor>,
  // Ends a camera session (the edge left or was superseded): the camera
  // finishes its retraining jobs, and shows offline at once.
  caf::reacts_to<close_atom, camera_actor>,
  // Daemon status (delegated to the admin actor).
  caf::replies_to<status_atom>::with<status_info>,
  // The zoo's experts (delegated to the zoo).
  caf::replies_to<list_atom>::with<std::vector<expert_info>>,
  // Pruning by rule ("") or by id (delegated to the zoo).
  caf::replies_to<prune_atom, std::string>::with<std::vector<std::string>>,
  // The GPU owner's recent grants.
  caf::replies_to<scheduler_atom>::with<scheduler_report>,
  // A worker node offers a GPU owner: (node, device, the owner); passed on
  // to the GPU pool (cluster.cpp).
  caf::reacts_to<join_atom, std::string, std::string, caf::actor>,
  // A worker node offers a labeler: (node, the labeler); passed on to the
  // labeler pool.
  caf::reacts_to<join_atom, label_atom, std::string, caf::actor>,
  // What /metrics shows: status, scheduler and zoo, asked at once.
  caf::replies_to<metrics_atom>::with<metrics_snapshot>>;

// -- factories -----------------------------------------------------------------

/// The learning side's settings.
struct gpu_owner_config {
  /// The device it runs models on ("cpu:N" is the CPU); "" = the process's
  /// default (one device).
  std::string device;
  std::string base_expert; ///< archive file; "" = no models (keep always)
  expert_options expert;
  train_options train;
  std::string scheduler = "recl";
  /// recl: gains this close to the best are ties (scheduler.hpp).
  double gain_tolerance = 0.01;
  gain_frames gains_on = gain_frames::window;
  uint32_t profile_epochs = 5; ///< ekya
  clock_kind clock = clock_kind::wall;
  double budget = 30; ///< a job's window: seconds or micro-windows
  bool generalist = true;
  bool camera_jobs = true; ///< false: requests only feed the generalist
  uint32_t generalist_frames = 128; ///< its replay buffer
  uint32_t expert_cache = 32;
  uint32_t gating_samples = 256;
  int gating_epochs = 10;
  selector_kind selector = selector_kind::gating;
  int odin_epochs = 10;
  /// --stream-models: a job keeps its model at each new best on the
  /// held-out slice, for the edge to run while the job goes on; the last
  /// such step is the job's model.
  bool stream = false;
};

// A coordinator hands its learning and teacher settings to each worker
// that joins (cluster.cpp, node_welcome), so these cross node links.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, expert_options& x) {
  return f(caf::meta::type_name("recl.expert_options"), x.input_width,
           x.input_height, x.score_threshold, x.nms_threshold, x.classes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, train_options& x) {
  return f(caf::meta::type_name("recl.train_options"), x.batch, x.optimizer,
           x.lr, x.warmup_steps, x.weight_decay, x.replay_share, x.flip,
           x.frozen_stages, x.average_decay, x.seed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gpu_owner_config& x) {
  return f(caf::meta::type_name("recl.gpu_owner_config"), x.device,
           x.base_expert, x.expert, x.train, x.scheduler, x.gain_tolerance,
           x.gains_on, x.profile_epochs, x.clock, x.budget, x.generalist,
           x.camera_jobs, x.generalist_frames, x.expert_cache, x.gating_samples,
           x.gating_epochs, x.selector, x.odin_epochs, x.stream);
}

/// What a coordinator tells a worker node that says hello, besides its
/// store: how to learn and how to label, and hashes of the files both must
/// hold (a worker uses its own copies).
struct node_welcome {
  gpu_owner_config learning; ///< no device, base file or fleet generalist
  std::string base_hash;     ///< of the coordinator's base expert (cluster.hpp)
  teacher_options teacher;   ///< its spec names the coordinator's file
  std::string teacher_hash;  ///< of that file (cluster.hpp)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, teacher_options& x) {
  return f(caf::meta::type_name("recl.teacher_options"), x.spec, x.classes,
           x.score_threshold, x.nms_threshold, x.input_width, x.input_height,
           x.tiling, x.auto_tile_width, x.flip, x.extra_input);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_welcome& x) {
  return f(caf::meta::type_name("recl.node_welcome"), x.learning, x.base_hash,
           x.teacher, x.teacher_hash);
}

/// Settings the node hands to its components.
struct node_config {
  std::string data_dir;
  std::string teacher_spec = "hog";
  std::vector<int> classes;
  float score_threshold = 0.3f;
  float nms_threshold = 0.45f;
  int teacher_width = 416;
  int teacher_height = 416;
  std::string tiling = "off";
  bool flip = false;   ///< teacher also runs on the mirrored frame
  int extra_input = 0; ///< a second whole-frame teacher pass (0: none)
  uint32_t labelers = 1;
  uint32_t top_k = 10;
  selection_rule selection = selection_rule::lineage;
  admission_rule admission = admission_rule::next;
  train_start train_from = train_start::served;
  std::string version;
  selector_kind selector = selector_kind::gating;
  bool retrain = true;          ///< false: selection only (no training)
  uint32_t retrain_windows = 0; ///< retrain only a camera's first N (0: all)
  uint32_t train_windows = 1;   ///< a job trains on the camera's last N windows
  double alpha = 0.02;
  float min_fps = 0.1f, max_fps = 10.0f;   ///< AMS sampling bounds
  uint64_t max_reply_bytes = 256ull << 20; ///< the RPC message limit
  gpu_owner_config gpu;
  /// One GPU owner per device (parse_devices); one entry: no pool, unless
  /// worker nodes may join (`cluster`).
  std::vector<std::string> devices;
  bool no_devices = false; ///< --devices none: only worker nodes' (cluster)
  bool cluster = false;
  /// With `cluster`: what the worker nodes' links carry (cluster.hpp).
  std::shared_ptr<cluster_traffic> traffic;
  zoo_options zoo;
};

/// A labeler running `opts`' teacher (detached). Throws if the teacher fails
/// to load, before any actor exists.
labeler_actor spawn_labeler(caf::actor_system& sys,
                            const teacher_options& opts);

class teacher;

/// A labeler running an already loaded teacher (detached).
labeler_actor spawn_labeler(caf::actor_system& sys,
                            std::shared_ptr<teacher> model);

/// The labeler a worker node offers the coordinator, in front of its own
/// `inner` (labeler.cpp): it counts a window's wait on this node's clock and
/// answers without the window's frames, which the coordinator still holds.
/// It ends with `inner`.
labeler_actor spawn_offered_labeler(caf::actor_system& sys,
                                    labeler_actor inner);

/// The labeler pool over this node's labelers `local` (labeler_pool.cpp).
labeler_pool_actor spawn_labeler_pool(caf::actor_system& sys,
                                      std::vector<labeler_actor> local);

/// How many experts the zoo holds: the zoo keeps it, cameras read it for
/// their replies. (Asked as a message, a reply waited 25-35 ms whenever the
/// zoo was busy with other work: measured with recl-bench-cluster.)
using zoo_size_gauge = std::shared_ptr<std::atomic<uint64_t>>;

zoo_actor spawn_zoo(caf::actor_system& sys, std::shared_ptr<store> db,
                    zoo_options opts, gpu_owner_actor gpu, zoo_size_gauge size);

selector_actor spawn_selector(caf::actor_system& sys, selector_kind policy,
                              zoo_actor zoo, gpu_owner_actor gpu);

gpu_owner_actor spawn_gpu_owner(caf::actor_system& sys, gpu_owner_config cfg,
                                std::shared_ptr<kv> db);

/// One GPU owner per device in `devices` (parse_devices), behind the GPU
/// owner's interface (gpu_pool.cpp); `traffic` (null: none) is the worker
/// nodes' store traffic that its report shows.
gpu_pool_actor spawn_gpu_pool(caf::actor_system& sys, gpu_owner_config cfg,
                              std::shared_ptr<kv> db,
                              std::vector<std::string> devices,
                              std::shared_ptr<cluster_traffic> traffic = {});

admin_actor spawn_admin(caf::actor_system& sys, std::shared_ptr<store> db,
                        std::string teacher, std::string version);

/// How many windows are in each stage of their journey (window_stage), for
/// every camera at once: the node's, shared with its cameras.
struct window_stages {
  std::atomic<int64_t> n[static_cast<size_t>(window_stage::count)] = {};

  /// The counts now, by stage.
  std::vector<int64_t> now() const {
    std::vector<int64_t> out;
    for (auto& x : n)
      out.push_back(x.load());
    return out;
  }
};

/// Everything a camera actor talks to.
struct camera_deps {
  labeler_actor labeler;
  selector_actor selector;
  gpu_owner_actor gpu_owner;
  zoo_actor zoo;
  admin_actor admin;
  std::shared_ptr<store> db;
  std::shared_ptr<window_stages> stages;
  zoo_size_gauge zoo_size;
  uint32_t top_k = 10;
  std::string teacher;
  bool generalist = true;
  bool retrain = true;
  uint32_t retrain_windows = 0;
  uint32_t train_windows = 1;
  selection_rule selection = selection_rule::lineage; ///< modes.hpp
  admission_rule admission = admission_rule::next;    ///< modes.hpp
  train_start train_from = train_start::served;       ///< modes.hpp
  double alpha = 0.02;
  float min_fps = 0.1f, max_fps = 10.0f;
  uint64_t max_reply_bytes = 256ull << 20;
  double agree_high = 0.85, agree_low = 0.6; ///< AMS thresholds
};

camera_actor spawn_camera(caf::actor_system& sys, std::string id,
                          camera_deps deps);

/// Deletes the retrained models that no camera record names (left by a
/// crash between a job's end and its camera's record, or by an older
/// build); returns how many. Run before any camera starts.
size_t drop_unnamed_models(store& db);

/// The teacher the node's labelers run (a worker's too: recld --join
/// --labelers).
teacher_options teacher_options_of(const node_config& cfg);

/// The node and all components. Throws if a component cannot start (e.g.
/// the teacher model cannot be loaded). With worker nodes (`cfg.cluster`)
/// the cameras label through a labeler pool, and `cfg.labelers` may be 0.
node_actor spawn_node(caf::actor_system& sys, std::shared_ptr<store> db,
                      const node_config& cfg);

/// Registers recl's message types with a config.
void add_message_types(caf::actor_system_config& cfg);

} // namespace recl
