#include "schema/wire.hpp"

#include <stdexcept>

namespace recl::wire {

namespace {

unsigned size(size_t n) {
  return static_cast<unsigned>(n);
}

} // namespace

void write(const frame_labels& x, rpc::FrameLabels::Builder out) {
  out.setWidth(static_cast<uint32_t>(x.width));
  out.setHeight(static_cast<uint32_t>(x.height));
  auto boxes = out.initBoxes(size(x.boxes.size()));
  for (size_t j = 0; j < x.boxes.size(); ++j) {
    auto b = boxes[size(j)];
    auto& s = x.boxes[j];
    b.setX0(s.x0);
    b.setY0(s.y0);
    b.setX1(s.x1);
    b.setY1(s.y1);
    b.setScore(s.score);
    b.setCls(s.cls);
  }
}

void read(rpc::FrameLabels::Reader in, frame_labels& x) {
  x.width = static_cast<int32_t>(in.getWidth());
  x.height = static_cast<int32_t>(in.getHeight());
  x.boxes.clear();
  for (auto b : in.getBoxes())
    x.boxes.push_back(box{b.getX0(), b.getY0(), b.getX1(), b.getY1(),
                          b.getScore(), b.getCls()});
}

void write(const window& x, rpc::Window::Builder out) {
  out.setIndex(x.index);
  out.setSampleFps(x.sample_fps);
  out.setModelId(x.model_id);
  out.setModelHash(x.model_hash);
  out.setUpdates(static_cast<rpc::Window::UpdateForm>(x.updates));
  auto list = out.initFrames(size(x.frames.size()));
  for (size_t i = 0; i < x.frames.size(); ++i) {
    auto f = list[size(i)];
    f.setJpeg(kj::arrayPtr(x.frames[i].bytes.data(), x.frames[i].bytes.size()));
    f.setTimestampMs(x.frames[i].ts_ms);
  }
}

void read_header(rpc::Window::Reader in, window& x) {
  x.index = in.getIndex();
  x.sample_fps = in.getSampleFps();
  x.model_id = in.getModelId();
  x.model_hash = in.getModelHash();
  auto form = static_cast<unsigned>(in.getUpdates());
  if (form > static_cast<unsigned>(update_form::delta_half))
    throw std::invalid_argument("unknown update form " + std::to_string(form));
  x.updates = static_cast<update_form>(form);
}

void read(rpc::Frame::Reader in, frame& x) {
  auto data = in.getJpeg();
  x.bytes.assign(data.begin(), data.end());
  x.ts_ms = in.getTimestampMs();
}

void write(const decision& x, rpc::Decision::Builder out) {
  out.setWindow(x.window);
  out.setAction(x.swap ? rpc::Decision::Action::SWAP
                       : rpc::Decision::Action::KEEP);
  out.setModelId(x.model_id);
  if (!x.weights.empty())
    out.setWeights(kj::arrayPtr(x.weights.data(), x.weights.size()));
  if (!x.update.empty())
    out.setUpdate(kj::arrayPtr(x.update.data(), x.update.size()));
  auto labels = out.initLabels(size(x.labels.size()));
  for (size_t i = 0; i < x.labels.size(); ++i)
    write(x.labels[i], labels[size(i)]);
  out.setNextSampleFps(x.next_sample_fps);
  auto t = out.initTiming();
  t.setQueueMs(x.time.queue_ms);
  t.setDecodeMs(x.time.decode_ms);
  t.setTeacherMs(x.time.teacher_ms);
  t.setSelectMs(x.time.select_ms);
  t.setCheckMs(x.time.check_ms);
  t.setFetchMs(x.time.fetch_ms);
  t.setLinkMs(x.time.link_ms);
  t.setTotalMs(x.time.total_ms);
  out.setTeacher(x.teacher);
  out.setSource(x.source);
  out.setAccuracy(x.accuracy);
  out.setCurrentAccuracy(x.current_accuracy);
  out.setZooSize(x.zoo_size);
  out.setCandidates(x.candidates);
  out.setSelGating(x.compare.gating);
  out.setSelOdin(x.compare.odin);
  out.setSelOracle(x.compare.oracle);
  out.setSaved(x.saved);
  out.setNote(x.note);
}

void read(rpc::Decision::Reader in, decision& x) {
  x.window = in.getWindow();
  x.swap = in.getAction() == rpc::Decision::Action::SWAP;
  x.model_id = in.getModelId();
  auto w = in.getWeights();
  x.weights.assign(w.begin(), w.end());
  auto u = in.getUpdate();
  x.update.assign(u.begin(), u.end());
  x.labels.clear();
  for (auto fl : in.getLabels())
    x.labels.push_back(get<frame_labels>(fl));
  x.next_sample_fps = in.getNextSampleFps();
  auto t = in.getTiming();
  x.time.queue_ms = t.getQueueMs();
  x.time.decode_ms = t.getDecodeMs();
  x.time.teacher_ms = t.getTeacherMs();
  x.time.select_ms = t.getSelectMs();
  x.time.check_ms = t.getCheckMs();
  x.time.fetch_ms = t.getFetchMs();
  x.time.link_ms = t.getLinkMs();
  x.time.total_ms = t.getTotalMs();
  x.teacher = in.getTeacher();
  x.source = in.getSource();
  x.accuracy = in.getAccuracy();
  x.current_accuracy = in.getCurrentAccuracy();
  x.zoo_size = in.getZooSize();
  x.candidates = in.getCandidates();
  x.compare.gating = in.getSelGating();
  x.compare.odin = in.getSelOdin();
  x.compare.oracle = in.getSelOracle();
  x.saved = in.getSaved();
  x.note = in.getNote();
}

void write(const std::vector<streamed_step>& xs,
           capnp::List<rpc::StreamedModel>::Builder out) {
  for (size_t i = 0; i < xs.size(); ++i) {
    auto o = out[size(i)];
    o.setAt(xs[i].at);
    o.setAccuracy(xs[i].accuracy);
    o.setModelId(xs[i].model_id);
    auto& w = xs[i].weights;
    o.setWeights(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(w.data()), w.size()));
  }
}

void read(capnp::List<rpc::StreamedModel>::Reader in,
          std::vector<streamed_step>& xs) {
  xs.clear();
  for (auto s : in) {
    streamed_step x;
    x.at = s.getAt();
    x.accuracy = s.getAccuracy();
    x.model_id = s.getModelId();
    auto w = s.getWeights();
    x.weights.assign(reinterpret_cast<const char*>(w.begin()), w.size());
    xs.push_back(std::move(x));
  }
}

void write(const edge_stats& x, rpc::EdgeStats::Builder out) {
  out.setWindow(x.window);
  out.setFramesSeen(x.frames_seen);
  out.setModelId(x.model_id);
  out.setAccuracy(x.accuracy);
}

void read(rpc::EdgeStats::Reader in, edge_stats& x) {
  x.window = in.getWindow();
  x.frames_seen = in.getFramesSeen();
  x.model_id = in.getModelId();
  x.accuracy = in.getAccuracy();
}

void write(const server_limits& x, rpc::Limits::Builder out) {
  out.setMaxFrames(x.max_frames);
  out.setMaxFrameBytes(x.max_frame_bytes);
  out.setMaxMessageBytes(x.max_message_bytes);
}

void read(rpc::Limits::Reader in, server_limits& x) {
  x.max_frames = in.getMaxFrames();
  x.max_frame_bytes = in.getMaxFrameBytes();
  x.max_message_bytes = in.getMaxMessageBytes();
}

void write(const std::vector<expert_info>& xs,
           capnp::List<rpc::ExpertInfo>::Builder out) {
  for (size_t i = 0; i < xs.size(); ++i) {
    auto e = out[size(i)];
    auto& x = xs[i];
    e.setId(x.id);
    e.setOriginCamera(x.origin_camera);
    e.setOriginWindow(x.origin_window);
    e.setAdmittedUnixMs(x.admitted_unix_ms);
    e.setWeightBytes(x.weight_bytes);
    e.setAccuracy(x.accuracy);
    e.setChosen(x.chosen);
  }
}

void read(capnp::List<rpc::ExpertInfo>::Reader in,
          std::vector<expert_info>& xs) {
  xs.clear();
  for (auto e : in) {
    expert_info x;
    x.id = e.getId();
    x.origin_camera = e.getOriginCamera();
    x.origin_window = e.getOriginWindow();
    x.admitted_unix_ms = e.getAdmittedUnixMs();
    x.weight_bytes = e.getWeightBytes();
    x.accuracy = e.getAccuracy();
    x.chosen = e.getChosen();
    xs.push_back(std::move(x));
  }
}

void write(const std::vector<credential_info>& xs,
           capnp::List<rpc::CredentialInfo>::Builder out) {
  for (size_t i = 0; i < xs.size(); ++i) {
    auto e = out[size(i)];
    e.setName(xs[i].name);
    e.setRole(xs[i].role);
    e.setCameras(xs[i].cameras);
    e.setCreatedUnixMs(xs[i].created_unix_ms);
  }
}

void read(capnp::List<rpc::CredentialInfo>::Reader in,
          std::vector<credential_info>& xs) {
  xs.clear();
  for (auto e : in)
    xs.push_back(credential_info{e.getName(), e.getRole(), e.getCameras(),
                                 e.getCreatedUnixMs()});
}

void write(const scheduler_report& x, rpc::SchedulerReport::Builder out) {
  out.setPolicy(x.policy);
  out.setClock(x.clock);
  out.setNow(x.now);
  auto jobs = out.initJobs(size(x.jobs.size()));
  for (size_t i = 0; i < x.jobs.size(); ++i)
    jobs.set(size(i), x.jobs[i]);
  auto rec = out.initRecent(size(x.recent.size()));
  for (size_t i = 0; i < x.recent.size(); ++i) {
    auto g = rec[size(i)];
    auto& r = x.recent[i];
    g.setAt(r.at);
    g.setJob(r.job);
    g.setProfile(r.profile);
    g.setAccBefore(r.acc_before);
    g.setAccAfter(r.acc_after);
    g.setCost(r.cost);
    g.setSwitchMs(r.switch_ms);
    g.setDevice(r.device);
  }
  out.setBusyS(x.busy_s);
  out.setElapsedS(x.elapsed_s);
  out.setProfiling(x.profiling);
  out.setTraining(x.training);
  out.setGrants(x.grants);
  out.setSelectorS(x.selector_s);
  out.setQueued(x.queued);
  out.setDevices(x.devices);
  auto ds = out.initDeviceStates(size(x.device_states.size()));
  for (size_t i = 0; i < x.device_states.size(); ++i) {
    auto d = ds[size(i)];
    auto& s = x.device_states[i];
    d.setNode(s.node);
    d.setDevice(s.device);
    d.setLink(s.link);
    d.setJobs(s.jobs);
    d.setInFlight(s.in_flight);
    d.setRequests(s.requests);
    d.setGrants(s.grants);
    d.setBusyS(s.busy_s);
    d.setElapsedS(s.elapsed_s);
    d.setQueued(s.queued);
  }
  auto ls = out.initLinks(size(x.links.size()));
  for (size_t i = 0; i < x.links.size(); ++i) {
    auto l = ls[size(i)];
    auto& t = x.links[i];
    l.setNode(t.node);
    l.setStoreRequests(t.store_requests);
    l.setBytesSent(t.bytes_sent);
    l.setBytesReceived(t.bytes_received);
    l.setExpertsSent(t.experts_sent);
    l.setExpertsMoved(t.experts_moved);
    l.setExpertBytes(t.expert_bytes);
  }
}

void read(rpc::SchedulerReport::Reader in, scheduler_report& x) {
  x.policy = in.getPolicy();
  x.clock = in.getClock();
  x.now = in.getNow();
  x.jobs.clear();
  for (auto j : in.getJobs())
    x.jobs.emplace_back(j);
  x.recent.clear();
  for (auto g : in.getRecent()) {
    grant_record r;
    r.at = g.getAt();
    r.job = g.getJob();
    r.profile = g.getProfile();
    r.acc_before = g.getAccBefore();
    r.acc_after = g.getAccAfter();
    r.cost = g.getCost();
    r.switch_ms = g.getSwitchMs();
    r.device = g.getDevice();
    x.recent.push_back(std::move(r));
  }
  x.busy_s = in.getBusyS();
  x.elapsed_s = in.getElapsedS();
  x.profiling = in.getProfiling();
  x.training = in.getTraining();
  x.grants = in.getGrants();
  x.selector_s = in.getSelectorS();
  x.queued = in.getQueued();
  x.devices = in.getDevices();
  x.device_states.clear();
  for (auto d : in.getDeviceStates()) {
    device_state s;
    s.node = d.getNode();
    s.device = d.getDevice();
    s.link = d.getLink();
    s.jobs = d.getJobs();
    s.in_flight = d.getInFlight();
    s.requests = d.getRequests();
    s.grants = d.getGrants();
    s.busy_s = d.getBusyS();
    s.elapsed_s = d.getElapsedS();
    s.queued = d.getQueued();
    x.device_states.push_back(std::move(s));
  }
  x.links.clear();
  for (auto l : in.getLinks()) {
    link_traffic t;
    t.node = l.getNode();
    t.store_requests = l.getStoreRequests();
    t.bytes_sent = l.getBytesSent();
    t.bytes_received = l.getBytesReceived();
    t.experts_sent = l.getExpertsSent();
    t.experts_moved = l.getExpertsMoved();
    t.expert_bytes = l.getExpertBytes();
    x.links.push_back(std::move(t));
  }
}

void write(const status_info& x, rpc::Status::Builder out) {
  out.setUptimeS(x.uptime_s);
  out.setTeacher(x.teacher);
  out.setStoreBytes(x.store_bytes);
  out.setDataDir(x.data_dir);
  out.setVersion(x.version);
  out.setStoreFault(x.store_fault);
  out.setStoreFreeBytes(x.store_free_bytes);
  auto cams = out.initCameras(size(x.cameras.size()));
  for (size_t i = 0; i < x.cameras.size(); ++i) {
    auto c = cams[size(i)];
    auto& s = x.cameras[i];
    c.setId(s.id);
    c.setWindows(s.windows);
    c.setLastReplyMs(s.last_reply_ms);
    c.setLastReplyUnixMs(s.last_reply_unix_ms);
    c.setConnected(s.connected);
    c.setFramesLabelled(s.frames_labelled);
    c.setModelId(s.model_id);
    c.setLastRetrainedId(s.last_retrained_id);
  }
}

void read(rpc::Status::Reader in, status_info& x) {
  x.uptime_s = in.getUptimeS();
  x.teacher = in.getTeacher();
  x.store_bytes = in.getStoreBytes();
  x.data_dir = in.getDataDir();
  x.version = in.getVersion();
  x.store_fault = in.getStoreFault();
  x.store_free_bytes = in.getStoreFreeBytes();
  x.cameras.clear();
  for (auto c : in.getCameras()) {
    camera_info s;
    s.id = c.getId();
    s.windows = c.getWindows();
    s.last_reply_ms = c.getLastReplyMs();
    s.last_reply_unix_ms = c.getLastReplyUnixMs();
    s.connected = c.getConnected();
    s.frames_labelled = c.getFramesLabelled();
    s.model_id = c.getModelId();
    s.last_retrained_id = c.getLastRetrainedId();
    x.cameras.push_back(std::move(s));
  }
}

} // namespace recl::wire
