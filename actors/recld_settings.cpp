#include "actors/recld_settings.hpp"

#include "actors/scheduler.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/detection.hpp"
#include "gpu/device.hpp"
#include "gpu/label_cache.hpp"
#include "gpu/teacher.hpp"

#include <cstdlib>
#include <filesystem>
#include <tuple>
#include <unistd.h>

namespace fs = std::filesystem;

namespace recl {

namespace {

/// The service's and the teacher's options, in --help order.
void add_service_options(options& o) {
  o.add("data-dir", "DIR", "where the store lives (created if missing)")
    .add("store-reserve-mib", "N",
         "free space a write must leave on the data directory's disk; below "
         "it writes are refused and retraining pauses until space returns (0: "
         "no check)",
         "64")
    .add("store-budget-mib", "N",
         "most the store may hold on disk: over it no expert is admitted "
         "and the least chosen one is pruned (0: no budget)",
         "0")
    .add("listen", "HOST:PORT", "RPC address; port 0 picks a free port",
         "127.0.0.1:7450")
    .add("config", "FILE", "read settings from FILE (key = value lines)")
    .add("teacher", "SPEC",
         "yolox:PATH or hog (default: yolox from --data if present, else hog)")
    .add("data", "DIR",
         "shared data folder (default: $RECL_DATA, else ../shared/data)")
    .add("classes", "LIST", "COCO classes the teacher keeps",
         "person,bicycle,car,motorcycle,bus,truck,traffic light,stop sign")
    .add("score-threshold", "X", "teacher score threshold", "0.3")
    .add("nms-threshold", "X", "teacher NMS IoU threshold", "0.45")
    .add("teacher-input", "WxH", "teacher input size, multiples of 32",
         "416x416")
    .add("teacher-tiling", "MODE",
         "off, on, or auto (whole frame + 2x2 tiles for frames <= 400 px "
         "wide or >= 2.5:1)",
         "off")
    .add("teacher-flip", "on|off",
         "also run the teacher on the mirrored frame and fuse the two "
         "views' boxes (~2x the cost)",
         "off")
    .add("teacher-extra-input", "SIDE",
         "a second whole-frame teacher pass at SIDExSIDE (multiple of 32), "
         "boxes fused with the first; 0: none",
         "0")
    .add("labelers", "N", "teacher threads (a worker: 0 unless given)", "1")
    .add("top-k", "K", "experts the selector proposes", "10")
    .add("max-frames", "N", "most frames in one window", "256")
    .add("max-frame-mib", "N", "largest frame in MiB", "8")
    .add("max-message-mib", "N", "largest RPC message in MiB", "256")
    .add("max-connections", "N", "connections open at once, in all", "1024")
    .add("max-connections-per-peer", "N",
         "connections open at once from one IP address", "64")
    .add("max-windows-in-flight", "N",
         "windows served at once; more are refused with 'busy' and a time "
         "to retry after (edges retry)",
         "32")
    .add("drain-seconds", "S",
         "on SIGTERM or SIGINT: stop taking windows and answer those in "
         "flight, for at most S seconds",
         "30")
    .add("handshake-timeout", "S",
         "seconds a new connection has to show the token before it is "
         "closed",
         "10")
    .add("token", "SECRET",
         "the master token (role admin); edges get their own with "
         "'recl-admin credentials add'")
    .add("token-file", "FILE",
         "read the master token from FILE (default: DIR/auth-token, created "
         "with a random token if missing)")
    .add(
      "metrics-listen", "HOST:PORT",
      "serve GET /metrics (Prometheus), /healthz and /readyz over HTTP there "
      "(unauthenticated: keep it on loopback or a private network; "
      "default: off)")
    .add("tls-cert", "FILE",
         "PEM certificate (chain) of this server: with --tls-key, every RPC "
         "connection is TLS (edges then need --tls-ca or --tls)")
    .add("tls-key", "FILE", "PEM private key for --tls-cert")
    .add("tls-client-ca", "FILE",
         "with --tls-cert: every client must present a certificate signed "
         "by the PEM CA certificate in FILE (edges and admins: --tls-cert "
         "and --tls-key)")
    .add_flag("admin-remote",
              "answer the admin interface on non-loopback connections too "
              "(default: loopback only)")
    .add("log-level", "LEVEL", "error, warning, info or debug", "info");
}

/// The models' and adaptation's options, in --help order.
void add_adaptation_options(options& o) {
  o.add("base-expert", "FILE",
        "the expert every model starts from (recl-pretrain or recl-convert "
        "output; default: base.pt, else yolox_nano.pt, in $RECL_CACHE or "
        "~/.cache/recl, made from the teacher's ONNX weights when neither "
        "is there; 'none': no selection or retraining)")
    .add("expert-input", "WxH", "expert input size, multiples of 32", "256x160")
    .add("selector", "POLICY",
         "gating, odin, oracle, none, or compare (gating serves; each reply "
         "also scores what gating, ODIN and the oracle pick from the same zoo)",
         "gating")
    .add("scheduler", "POLICY", "recl, round-robin, fair or ekya", "recl")
    .add("gain-tolerance", "X",
         "recl scheduler: gains this close to the best are ties, won by the "
         "least trained job (0: exact argmax)",
         "0.01")
    .add("gain-frames", "SET",
         "what Algorithm 1 measures gains on: window (all the window's "
         "frames) or holdout (its held-out quarter)",
         "window")
    .add("selection", "RULE",
         "safety check: lineage (the camera's own line unless another "
         "candidate wins on half the frames and beats it on the other "
         "half), confirm (the same against the edge's model alone) or all "
         "(best on all frames)",
         "lineage")
    .add("admission", "WHEN",
         "when a retrained model is judged promising: next (at the "
         "camera's next window, on frames it never trained on) or holdout "
         "(when its job ends, on the held-out quarter)",
         "next")
    .add("train-from", "MODEL",
         "what a window's retraining starts from: served (the model the "
         "safety check served, a zoo expert too) or line (the camera's own "
         "line: its last retrained model, or the edge's model if that "
         "scored higher)",
         "served")
    .add("seed", "N", "seed of retraining (shuffles, augmentation)", "1")
    .add("clock", "CLOCK",
         "wall (live) or replay (evaluation: a camera's next window waits "
         "for its previous budget)",
         "wall")
    .add("window-seconds", "T",
         "wall clock: a retraining job's budget in seconds", "30")
    .add("budget", "N", "replay clock: a job's budget in micro-windows", "10")
    .add("generalist", "on|off",
         "the fleet generalist (one device only; off by default with "
         "several --devices)",
         "on")
    .add("devices", "LIST",
         "one GPU owner per device: cpu:N splits the CPU into N owners (tests, "
         "benchmarks), cuda:0,cuda:1,... one per GPU (default: the one "
         "device, CUDA if there is one, else the CPU); none: a "
         "coordinator's are all on worker nodes")
    .add("cluster-listen", "HOST:PORT",
         "coordinator: accept worker nodes here (TLS both ways: "
         "--cluster-cert, --cluster-key, --cluster-ca)")
    .add("join", "HOST:PORT",
         "worker: offer this node's --devices and --labelers to the "
         "coordinator at HOST:PORT (no store, no RPC). It learns and labels "
         "with the coordinator's settings; give it the same base expert and "
         "teacher model files (or the same --data)")
    .add("node-name", "NAME", "worker: its name (default: HOSTNAME-PID)")
    .add("cluster-cert", "FILE", "this node's PEM certificate for node links")
    .add("cluster-key", "FILE", "its PEM key")
    .add("cluster-ca", "FILE",
         "the PEM CA certificate every node's certificate must be signed by")
    .add("retrain", "on|off", "retraining (off: selection only)", "on")
    .add("camera-jobs", "on|off",
         "per-camera retraining jobs (off: windows only feed the generalist)",
         "on")
    .add("retrain-windows", "N",
         "retrain only each camera's first N windows (0 = every window; 1 = "
         "one-time adaptation)",
         "0")
    .add("train-windows", "N",
         "a camera's retraining job trains on its last N windows' frames "
         "(and is measured on the newest window's alone)",
         "1")
    .add("stream-models", "on|off",
         "a job keeps its model at each new best on the window's held-out "
         "frames, and the edge may fetch those steps (CameraSession.streamed) "
         "to run them while the job goes on; the last step is the job's model "
         "(once its edge has asked for steps, each camera holds its last two "
         "windows' steps in memory, up to 16 models)",
         "off")
    .add("alpha", "X", "admission margin over every rival (accuracy)", "0.02")
    .add("gamma", "N", "promising models admitted together", "2")
    .add("eta", "N", "prune experts chosen fewer than N times ...", "4")
    .add("q", "N", "... in the last N selections", "3000")
    .add("gating-samples", "N", "gating training frames kept", "256")
    .add("expert-cache", "N", "experts kept in memory", "32")
    .add("profile-epochs", "N", "ekya: micro-profiling epochs per job", "5")
    .add("frozen-stages", "N",
         "backbone stages retraining leaves as they "
         "are (0-4; 2 trains faster and, measured, "
         "better)",
         "2")
    .add("min-sample-fps", "F", "AMS: lowest sampling rate sent back", "0.1")
    .add("max-sample-fps", "F", "AMS: highest sampling rate sent back", "10")
    .add("threads", "N", "LibTorch threads (0 = one per core)", "0");
}

std::string default_data_dir() {
  if (auto* env = std::getenv("RECL_DATA"); env && *env)
    return env;
  return "../shared/data";
}

/// `name`'s value, on or off; fails naming it otherwise.
bool on_off(const options& o, const char* name) {
  auto v = o.get(name);
  if (v != "on" && v != "off")
    o.fail(name, "'" + v + "' is neither on nor off");
  return v == "on";
}

/// A mode, parsed once; a bad one fails naming the choices.
template <class Parse>
auto mode(const options& o, const char* name, Parse parse) {
  try {
    return parse(o.get(name));
  } catch (const std::invalid_argument& e) {
    o.fail(name, e.what());
  }
}

/// The service: the store's folder, logging, the RPC address and limits,
/// the token, threads.
void read_service(daemon_settings& s, const options& o) {
  if (!o.given("data-dir") && !o.given("join"))
    throw usage_error("--data-dir is required (see --help)");
  s.node.data_dir = o.get("data-dir");
  s.store.reserve_bytes
    = static_cast<uint64_t>(o.get_int("store-reserve-mib", 0, 1 << 20)) << 20;
  try {
    log::set_level(log::parse_level(o.get("log-level")));
  } catch (const std::invalid_argument& e) {
    o.fail("log-level", e.what());
  }
  try {
    parse_endpoint(o.get("listen"));
  } catch (const std::invalid_argument& e) {
    o.fail("listen", e.what());
  }
  s.gw.listen = o.get("listen");
  s.gw.max_frames = static_cast<uint32_t>(o.get_int("max-frames", 1, 100000));
  s.gw.max_frame_bytes
    = static_cast<uint64_t>(o.get_int("max-frame-mib", 1, 512)) << 20;
  s.gw.max_message_bytes
    = static_cast<uint64_t>(o.get_int("max-message-mib", 1, 2047)) << 20;
  s.node.max_reply_bytes = s.gw.max_message_bytes;
  s.gw.max_connections
    = static_cast<uint32_t>(o.get_int("max-connections", 1, 1 << 20));
  s.gw.max_connections_per_peer
    = static_cast<uint32_t>(o.get_int("max-connections-per-peer", 1, 1 << 20));
  s.gw.handshake_timeout_s = o.get_double("handshake-timeout", 0.1, 3600);
  s.gw.max_windows_in_flight
    = static_cast<uint32_t>(o.get_int("max-windows-in-flight", 1, 1 << 20));
  s.drain_s = o.get_double("drain-seconds", 0, 3600);
  if (o.given("token") && o.given("token-file"))
    throw usage_error("give --token or --token-file, not both");
  if (o.given("token")) {
    s.gw.token = o.get("token");
    if (s.gw.token.size() < 8)
      o.fail("token", "must be at least 8 characters");
  }
  s.token_file = o.given("token-file") ? o.get("token-file")
                                       : s.node.data_dir + "/auth-token";
  s.gw.admin_remote = o.flag("admin-remote");
  if (o.given("tls-cert") != o.given("tls-key"))
    throw usage_error("give --tls-cert and --tls-key together");
  if (o.given("tls-client-ca") && !o.given("tls-cert"))
    throw usage_error("--tls-client-ca needs --tls-cert and --tls-key");
  for (auto name : {"tls-cert", "tls-key", "tls-client-ca"})
    if (o.given(name) && !fs::is_regular_file(o.get(name)))
      o.fail(name, "'" + o.get(name) + "' is not a readable file");
  s.gw.tls_cert_file = o.get("tls-cert");
  s.gw.tls_key_file = o.get("tls-key");
  s.gw.tls_client_ca_file = o.get("tls-client-ca");
  if (o.given("metrics-listen")) {
    s.gw.metrics_listen = o.get("metrics-listen");
    try {
      parse_endpoint(s.gw.metrics_listen);
    } catch (const std::invalid_argument& e) {
      o.fail("metrics-listen", e.what());
    }
  }
  s.node.version = recld_version;
  s.threads = static_cast<int>(o.get_int("threads", 0, 256));
}

/// The teacher: its model, classes, thresholds, input, tiling, mirror view
/// and instances.
void read_teacher(node_config& n, const options& o) {
  try {
    n.classes = parse_class_set(o.get("classes"));
  } catch (const std::invalid_argument& e) {
    o.fail("classes", e.what());
  }
  n.score_threshold
    = static_cast<float>(o.get_double("score-threshold", 0.01, 0.99));
  n.nms_threshold
    = static_cast<float>(o.get_double("nms-threshold", 0.01, 0.99));
  std::tie(n.teacher_width, n.teacher_height)
    = o.get_size("teacher-input", 2048);
  try {
    n.tiling = parse_tiling(o.get("teacher-tiling"));
  } catch (const std::invalid_argument& e) {
    o.fail("teacher-tiling", e.what());
  }
  n.labelers = static_cast<uint32_t>(o.get_int("labelers", 0, 64));
  if (o.given("teacher")) {
    n.teacher_spec = o.get("teacher");
    if (n.teacher_spec != "hog" && n.teacher_spec.rfind("yolox:", 0) != 0)
      o.fail("teacher",
             "'" + n.teacher_spec + "' is neither yolox:PATH nor hog");
  } else {
    auto data = o.given("data") ? o.get("data") : default_data_dir();
    auto model = data + "/models/yolox_nano.onnx";
    if (fs::exists(model))
      model = fs::absolute(model).lexically_normal().string();
    n.teacher_spec = fs::exists(model) ? "yolox:" + model : "hog";
  }
  n.flip = on_off(o, "teacher-flip");
  n.extra_input = static_cast<int>(o.get_int("teacher-extra-input", 0, 2048));
  if (n.extra_input % 32 != 0)
    o.fail("teacher-extra-input", "must be a multiple of 32");
}

/// The expert models: the base every model starts from, their input and
/// classes (the teacher's).
void read_models(gpu_owner_config& g, const node_config& n, const options& o) {
  if (o.given("base-expert") && o.get("base-expert") == "none") {
    g.base_expert.clear();
  } else if (o.given("base-expert")) {
    g.base_expert = o.get("base-expert");
    if (!fs::exists(g.base_expert))
      o.fail("base-expert", "no such file '" + g.base_expert + "'");
  } else {
    auto dir = default_cache_dir();
    for (auto name : {"/base.pt", "/yolox_nano.pt"})
      if (fs::exists(dir + name)) {
        g.base_expert = dir + name;
        break;
      }
  }
  std::tie(g.expert.input_width, g.expert.input_height)
    = o.get_size("expert-input", 1024);
  g.expert.classes = n.classes.empty() ? default_classes() : n.classes;
}

/// Adaptation: selection, the scheduler and its clock, retraining and the
/// zoo's rules.
void read_adaptation(node_config& n, const options& o) {
  auto& g = n.gpu;
  n.top_k = static_cast<uint32_t>(o.get_int("top-k", 1, 1000));
  n.selector = mode(o, "selector", parse_selector);
  g.selector = n.selector;
  g.scheduler = o.get("scheduler");
  try {
    parse_sched_policy(g.scheduler);
  } catch (const std::invalid_argument& e) {
    o.fail("scheduler", e.what());
  }
  g.clock = mode(o, "clock", parse_clock);
  g.budget = g.clock == clock_kind::wall
               ? o.get_double("window-seconds", 0.5, 86400)
               : static_cast<double>(o.get_int("budget", 1, 100000));
  g.generalist = on_off(o, "generalist");
  read_devices(n, o);
  n.retrain = on_off(o, "retrain");
  g.camera_jobs = on_off(o, "camera-jobs");
  if (!g.camera_jobs && !g.generalist)
    o.fail("camera-jobs", "off needs --generalist on (nothing would train)");
  n.retrain_windows
    = static_cast<uint32_t>(o.get_int("retrain-windows", 0, 1000000));
  n.train_windows = static_cast<uint32_t>(o.get_int("train-windows", 1, 100));
  g.stream = on_off(o, "stream-models");
  n.alpha = o.get_double("alpha", 0, 1);
  n.zoo.alpha = n.alpha;
  n.zoo.gamma = static_cast<uint32_t>(o.get_int("gamma", 1, 1000));
  n.zoo.eta = static_cast<uint32_t>(o.get_int("eta", 0, 1000000));
  n.zoo.budget_bytes
    = static_cast<uint64_t>(o.get_int("store-budget-mib", 0, 1 << 30)) << 20;
  n.zoo.q = static_cast<uint32_t>(o.get_int("q", 1, 10000000));
  g.gating_samples
    = static_cast<uint32_t>(o.get_int("gating-samples", 8, 100000));
  g.expert_cache = static_cast<uint32_t>(o.get_int("expert-cache", 1, 100000));
  g.profile_epochs = static_cast<uint32_t>(o.get_int("profile-epochs", 1, 100));
  g.gain_tolerance = o.get_double("gain-tolerance", 0, 1);
  g.gains_on = mode(o, "gain-frames", parse_gain_frames);
  n.selection = mode(o, "selection", parse_selection);
  g.train.seed = static_cast<uint64_t>(o.get_int("seed", 0, 1000000000));
  n.admission = mode(o, "admission", parse_admission);
  n.train_from = mode(o, "train-from", parse_train_start);
  g.train.frozen_stages
    = static_cast<int>(o.get_int("frozen-stages", 0, max_frozen_stages));
  n.min_fps = static_cast<float>(o.get_double("min-sample-fps", 0.01, 1000));
  n.max_fps = static_cast<float>(o.get_double("max-sample-fps", 0.01, 1000));
  if (n.min_fps > n.max_fps)
    o.fail("min-sample-fps", "is above --max-sample-fps");
}

} // namespace

options make_options() {
  options o{"recld", "--data-dir DIR [options]",
            "The RECL adaptation server: labels edge cameras' frames with a "
            "teacher,\nanswers with the best expert, and keeps a durable, "
            "shared model zoo."};
  add_service_options(o);
  add_adaptation_options(o);
  return o;
}

/// Every setting, from the command line and --config; fails naming the
/// first bad one.
daemon_settings read_settings(options& o) {
  daemon_settings s;
  read_service(s, o);
  read_teacher(s.node, o);
  read_models(s.node.gpu, s.node, o);
  // No base expert given or cached: made at start from the teacher's ONNX
  // weights (the shipped YOLOX-Nano), so that a plain recld adapts.
  // (A teacher file that is missing fails the start on its own, later.)
  if (!o.given("base-expert") && s.node.gpu.base_expert.empty()
      && s.node.teacher_spec.rfind("yolox:", 0) == 0
      && fs::exists(s.node.teacher_spec.substr(6)))
    s.provision_from = s.node.teacher_spec.substr(6);
  read_adaptation(s.node, o);
  read_cluster(s, o);
  return s;
}

} // namespace recl
