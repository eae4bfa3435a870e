#include "edge/client.hpp"

#include "common/util.hpp"
#include "schema/recl.capnp.h"

#include <capnp/ez-rpc.h>
#include <cstdlib>
#include <optional>

namespace recl {

namespace {

/// The server's reason, without kj's "remote exception: " decoration.
std::string reason(const kj::Exception& e) {
  std::string text = e.getDescription().cStr();
  for (auto prefix : {"remote exception: ", "Disconnected: "}) {
    auto p = text.find(prefix);
    if (p == 0)
      text = text.substr(std::string{prefix}.size());
  }
  if (e.getType() == kj::Exception::Type::DISCONNECTED)
    return "disconnected: " + text;
  return text;
}

template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const kj::Exception& e) {
    throw rpc_error(reason(e));
  }
}

} // namespace

struct client::impl {
  std::unique_ptr<capnp::EzRpcClient> ez;
  std::optional<rpc::Recl::Client> root;
  std::optional<rpc::CameraSession::Client> session;

  /// The Admin capability for `token` (one round trip).
  rpc::Admin::Client admin(const std::string& token) {
    auto req = root->adminRequest();
    req.setToken(token);
    return req.send().wait(ez->getWaitScope()).getAdmin();
  }
};

client::client(const std::string& server, uint64_t max_message_bytes)
  : impl_(std::make_unique<impl>()) {
  guarded([&] {
    capnp::ReaderOptions ro;
    ro.traversalLimitInWords = max_message_bytes / 8 + 1;
    impl_->ez = std::make_unique<capnp::EzRpcClient>(server, 0, ro);
    impl_->root.emplace(impl_->ez->getMain<rpc::Recl>());
    return 0;
  });
}

client::~client() {
  try {
    impl_->session.reset();
    impl_->root.reset();
    impl_->ez.reset();
  } catch (...) {
    // Tearing down a broken connection must not throw from a destructor.
  }
}

server_limits client::register_camera(const std::string& camera,
                                      const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto req = impl_->root->registerRequest();
    req.setCamera(camera);
    req.setToken(token);
    auto resp = req.send().wait(ws);
    impl_->session.emplace(resp.getSession());
    auto l = resp.getLimits();
    server_limits out;
    out.max_frames = l.getMaxFrames();
    out.max_frame_bytes = l.getMaxFrameBytes();
    out.max_message_bytes = l.getMaxMessageBytes();
    return out;
  });
}

window_reply client::update(uint32_t index,
                            const std::vector<encoded_frame>& frames,
                            float sample_fps, const std::string& model_id) {
  if (!impl_->session)
    throw rpc_error("no camera session: register first");
  return guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto req = impl_->session->updateRequest();
    auto w = req.initWindow();
    w.setIndex(index);
    w.setSampleFps(sample_fps);
    w.setModelId(model_id);
    auto list = w.initFrames(static_cast<unsigned>(frames.size()));
    window_reply out;
    for (size_t i = 0; i < frames.size(); ++i) {
      auto f = list[static_cast<unsigned>(i)];
      f.setJpeg(kj::arrayPtr(frames[i].bytes.data(), frames[i].bytes.size()));
      f.setTimestampMs(frames[i].ts_ms);
      out.request_bytes += frames[i].bytes.size();
    }
    auto t0 = now_ms();
    auto resp = req.send().wait(ws);
    out.round_trip_ms = now_ms() - t0;
    auto d = resp.getDecision();
    out.window = d.getWindow();
    out.swap = d.getAction() == rpc::Decision::Action::SWAP;
    out.model_id = d.getModelId();
    auto wt = d.getWeights();
    out.weights.assign(wt.begin(), wt.end());
    for (auto fl : d.getLabels()) {
      frame_labels x;
      x.width = static_cast<int32_t>(fl.getWidth());
      x.height = static_cast<int32_t>(fl.getHeight());
      for (auto b : fl.getBoxes())
        x.boxes.push_back(box{b.getX0(), b.getY0(), b.getX1(), b.getY1(),
                              b.getScore(), b.getCls()});
      out.labels.push_back(std::move(x));
    }
    out.next_sample_fps = d.getNextSampleFps();
    auto t = d.getTiming();
    out.timing.queue_ms = t.getQueueMs();
    out.timing.decode_ms = t.getDecodeMs();
    out.timing.teacher_ms = t.getTeacherMs();
    out.timing.select_ms = t.getSelectMs();
    out.timing.check_ms = t.getCheckMs();
    out.timing.total_ms = t.getTotalMs();
    out.teacher = d.getTeacher();
    out.source = d.getSource();
    out.accuracy = d.getAccuracy();
    out.current_accuracy = d.getCurrentAccuracy();
    out.zoo_size = d.getZooSize();
    out.candidates = d.getCandidates();
    out.sel_gating = d.getSelGating();
    out.sel_odin = d.getSelOdin();
    out.sel_oracle = d.getSelOracle();
    return out;
  });
}

void client::report(uint32_t window, uint64_t frames_seen,
                    const std::string& model_id, float accuracy) {
  if (!impl_->session)
    throw rpc_error("no camera session: register first");
  guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto req = impl_->session->reportRequest();
    auto s = req.initStats();
    s.setWindow(window);
    s.setFramesSeen(frames_seen);
    s.setModelId(model_id);
    s.setAccuracy(accuracy);
    req.send().wait(ws);
    return 0;
  });
}

void client::close_session() {
  if (!impl_->session)
    return;
  guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    impl_->session->closeRequest().send().wait(ws);
    return 0;
  });
}

server_status client::status(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto admin = impl_->admin(token);
    auto resp = admin.statusRequest().send().wait(ws);
    auto s = resp.getStatus();
    server_status out;
    out.uptime_s = s.getUptimeS();
    out.teacher = s.getTeacher();
    out.store_bytes = s.getStoreBytes();
    out.data_dir = s.getDataDir();
    out.version = s.getVersion();
    for (auto c : s.getCameras()) {
      camera_status x;
      x.id = c.getId();
      x.windows = c.getWindows();
      x.frames_labelled = c.getFramesLabelled();
      x.last_reply_ms = c.getLastReplyMs();
      x.last_reply_unix_ms = c.getLastReplyUnixMs();
      x.connected = c.getConnected();
      x.model_id = c.getModelId();
      x.last_retrained_id = c.getLastRetrainedId();
      out.cameras.push_back(std::move(x));
    }
    return out;
  });
}

std::vector<expert_info> client::zoo(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto admin = impl_->admin(token);
    auto resp = admin.zooRequest().send().wait(ws);
    std::vector<expert_info> out;
    for (auto e : resp.getExperts()) {
      expert_info x;
      x.id = e.getId();
      x.origin_camera = e.getOriginCamera();
      x.origin_window = e.getOriginWindow();
      x.admitted_unix_ms = e.getAdmittedUnixMs();
      x.weight_bytes = e.getWeightBytes();
      x.accuracy = e.getAccuracy();
      x.chosen = e.getChosen();
      out.push_back(std::move(x));
    }
    return out;
  });
}

scheduler_report client::scheduler(const std::string& token) {
  return guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto admin = impl_->admin(token);
    auto resp = admin.schedulerRequest().send().wait(ws);
    auto r = resp.getReport();
    scheduler_report out;
    out.policy = r.getPolicy();
    out.clock = r.getClock();
    out.now = r.getNow();
    for (auto j : r.getJobs())
      out.jobs.emplace_back(j);
    for (auto g : r.getRecent()) {
      grant_record x;
      x.at = g.getAt();
      x.job = g.getJob();
      x.profile = g.getProfile();
      x.acc_before = g.getAccBefore();
      x.acc_after = g.getAccAfter();
      x.cost = g.getCost();
      x.switch_ms = g.getSwitchMs();
      out.recent.push_back(std::move(x));
    }
    out.busy_s = r.getBusyS();
    out.elapsed_s = r.getElapsedS();
    out.profiling = r.getProfiling();
    out.training = r.getTraining();
    out.grants = r.getGrants();
    out.selector_s = r.getSelectorS();
    return out;
  });
}

std::vector<std::string> client::prune(const std::string& token,
                                       const std::string& id) {
  return guarded([&] {
    auto& ws = impl_->ez->getWaitScope();
    auto admin = impl_->admin(token);
    auto preq = admin.pruneRequest();
    preq.setId(id);
    auto resp = preq.send().wait(ws);
    std::vector<std::string> out;
    for (auto x : resp.getRemoved())
      out.emplace_back(x);
    return out;
  });
}

std::string load_token(const std::string& token, const std::string& file) {
  if (!token.empty())
    return token;
  if (!file.empty()) {
    try {
      return trim(read_file(file));
    } catch (const std::exception& e) {
      throw rpc_error(std::string{e.what()} + " (token file)");
    }
  }
  if (auto* env = std::getenv("RECL_TOKEN"))
    return env;
  return "";
}

} // namespace recl
