// The GPU owner: the only actor that touches the accelerator, on a thread of
// its own. It keeps every model it runs resident: the base expert, a bounded
// cache of zoo and retrained experts, the fleet generalist, the gating
// network and one trainer per live retraining job.
//
// Its mailbox is the priority lane: safety checks, gating inference and
// gating updates are served as they arrive, between micro-windows. Training
// runs one micro-window per `tick` it sends itself; a tick waits behind
// whatever priority work queued up meanwhile. Which job a tick trains is the
// scheduler's choice (actors/scheduler.hpp: Algorithm 1 by default).

#include "actors/gpu_owner_state.hpp"
#include "gpu/device.hpp"
#include "common/fault.hpp"
#include "store/keys.hpp"

#include <caf/all.hpp>

namespace recl {

namespace {

using namespace detail;

using self_ptr = gpu_owner_actor::stateful_pointer<gpu_owner_state>;

/// Lets the camera's next window in (replay clock): its job is over.
void release_waiters(gpu_owner_state& st, const std::string& camera) {
  if (auto w = st.waiting.find(camera); w != st.waiting.end()) {
    for (auto& p : w->second)
      p.deliver(true);
    st.waiting.erase(w);
  }
}

void schedule_tick(self_ptr self) {
  auto& st = self->state;
  if (st.ticking || st.jobs.empty())
    return;
  st.ticking = true;
  self->send(self, tick_atom_v);
}

/// Ends a job: persists its model, measures its rivals on the held-out
/// slice, and answers the camera.
void finish(self_ptr self, job& j) {
  auto& st = self->state;
  auto t0 = clock_type::now();
  if (j.camera.empty()) { // the generalist
    st.generalist = j.train->release();
    try {
      st.db->put(family::experts, keys::generalist, st.generalist->to_bytes());
    } catch (const std::exception& e) {
      log::error("gpu-owner", "cannot persist the generalist: ", e.what());
    }
    log::info("gpu-owner", "generalist: ", j.micro_windows,
              " micro-windows, accuracy ", j.acc);
    st.busy_s += seconds_since(t0);
    return;
  }
  training_result r;
  r.camera = j.camera;
  r.window = j.window;
  r.start_id = j.start_id;
  r.micro_windows = j.micro_windows;
  r.device_s = j.device_s;
  if (j.micro_windows == 0 || (st.cfg.stream && j.steps.empty())) {
    // It never trained, or (streaming) never beat the model it started
    // from on the held-out frames: nothing new to offer. (Offered, such a
    // model became the camera's line, which the safety check favours.)
    r.model_id = "";
    r.accuracy = static_cast<float>(j.acc);
  } else {
    // Streamed: the last step, the best on the held-out slice, is the
    // model the edge runs by now. Parsed once here: keeping a live copy at
    // each step would cost a parse per step (expert::clone round-trips
    // through bytes too).
    auto model = j.steps.empty()
                   ? j.train->release()
                   : expert::from_bytes(j.steps.back().weights, st.cfg.expert);
    r.model_id = retrained_id(j.camera, j.window);
    auto& truth = j.holdout.labels;
    // Its accuracy on the held-out slice, where its rivals are measured too
    // (the last micro-window measured it there already unless gains are
    // measured on the whole window).
    r.accuracy = static_cast<float>(j.acc);
    if (!j.steps.empty())
      r.accuracy = j.steps.back().accuracy;
    else if (st.cfg.gains_on == gain_frames::window) {
      try {
        r.accuracy = static_cast<float>(detection_accuracy(
          model->detect_for_scoring(j.holdout.frames), truth));
      } catch (const std::exception& e) {
        log::warning("gpu-owner", "job ", j.id,
                     ": held-out accuracy: ", e.what());
      }
    }
    try {
      // A streamed model is kept as the edge got it, byte for byte.
      st.db->put(family::experts, keys::model(r.model_id),
                 j.steps.empty() ? model->to_bytes() : j.steps.back().weights);
      st.forget(r.model_id);
      st.cache.emplace_back(r.model_id, std::move(model));
      while (st.cache.size() > std::max<uint32_t>(1, st.cfg.expert_cache))
        st.cache.pop_front();
    } catch (const std::exception& e) {
      log::error("gpu-owner", "cannot persist ", r.model_id, ": ", e.what());
      r.model_id = "";
    }
    for (auto& id : j.rivals) {
      if (id == r.model_id)
        continue;
      float acc = -1;
      try {
        if (auto x = st.find(id))
          acc = static_cast<float>(
            detection_accuracy(x->detect_for_scoring(j.holdout.frames), truth));
      } catch (const std::exception& e) {
        log::warning("gpu-owner", "rival ", id, ": ", e.what());
      }
      r.rivals.push_back(id);
      r.rival_accuracy.push_back(acc);
    }
  }
  r.steps = std::move(j.steps);
  st.busy_s += seconds_since(t0);
  log::info("gpu-owner", "job ", j.id, " ended: ", j.micro_windows,
            " micro-windows on ", j.frames, " frames (", j.history,
            " from earlier windows), ", static_cast<int>(j.device_s * 1000),
            " ms on the device, held-out accuracy ", r.accuracy,
            st.cfg.stream ? ", " + std::to_string(r.steps.size()) + " streamed"
                          : std::string{});
  if (j.has_rp)
    j.rp.deliver(std::move(r));
  release_waiters(st, j.camera);
}

void end_job(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.jobs.find(id);
  if (i == st.jobs.end())
    return;
  st.sched->remove(id);
  finish(self, i->second);
  st.jobs.erase(i);
}

/// Starts a new generalist job on the replay buffer when it has news.
void maybe_start_generalist(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.generalist || !st.generalist || !st.buffer_fresh
      || st.jobs.count("generalist") || st.buffer.size() < 2)
    return;
  std::vector<image> imgs;
  std::vector<std::vector<box>> truth;
  for (auto& [img, b] : st.buffer) {
    imgs.push_back(img);
    truth.push_back(b);
  }
  labelled_frames train, holdout;
  split_window(imgs, truth, train, holdout);
  job j;
  j.id = "generalist";
  j.start_id = "generalist";
  auto opts = st.cfg.train;
  opts.seed = st.cfg.train.seed + st.grants;
  j.holdout = holdout;
  j.train = std::make_unique<trainer>(st.generalist->clone(), std::move(train),
                                      std::move(holdout), opts);
  st.buffer_fresh = false;
  st.sched->add(j.id, st.now(), st.now() + st.cfg.budget);
  st.jobs.emplace(j.id, std::move(j));
}

/// Nothing fits before a deadline: lets the clock reach the soonest one.
void wait_for_deadline(self_ptr self, double now) {
  auto& st = self->state;
  double soonest = 1e300;
  for (auto& kv : st.sched->jobs())
    soonest = std::min(soonest, kv.second.deadline);
  if (st.cfg.clock == clock_kind::replay) {
    st.replay_units = std::max(st.replay_units, soonest);
    schedule_tick(self);
  } else {
    st.ticking = true;
    auto wait = std::chrono::milliseconds(
      static_cast<int64_t>(std::max(0.01, soonest - now) * 1000) + 1);
    self->delayed_send(self, wait, tick_atom_v);
  }
}

/// One micro-window of job `j`: of its training, or (`profile`) of Ekya's
/// micro-profiler, a copy of the starting model trained on half the
/// training frames, out of band.
step_result micro_window(gpu_owner_state& st, job& j, bool profile) {
  if (profile) {
    if (!j.profiler) {
      auto model = st.find(j.start_id);
      auto copy = model ? model->clone() : j.train->model().clone();
      j.profiler = std::make_unique<trainer>(std::move(copy), j.subset,
                                             j.holdout, st.cfg.train);
    }
    return j.profiler->micro_window();
  }
  auto r = j.train->micro_window();
  j.acc = r.acc_after;
  j.micro_windows += 1;
  j.device_s += r.seconds;
  maybe_stream(st, j);
  return r;
}

/// One micro-window for the job the scheduler picks.
void tick(self_ptr self) {
  auto& st = self->state;
  st.ticking = false;
  auto now = st.now();
  for (auto& id : st.sched->expire(now))
    if (auto i = st.jobs.find(id); i != st.jobs.end()) {
      finish(self, i->second);
      st.jobs.erase(i);
    }
  maybe_start_generalist(self);
  auto t_choose = clock_type::now();
  auto g = st.sched->next(now);
  if (!g) {
    if (!st.jobs.empty())
      wait_for_deadline(self, now);
    return;
  }
  auto i = st.jobs.find(g->job);
  if (i == st.jobs.end()) {
    st.sched->remove(g->job);
    schedule_tick(self);
    return;
  }
  auto& j = i->second;
  auto switch_ms = seconds_since(t_choose) * 1000;
  auto t0 = clock_type::now();
  grant_record rec;
  rec.at = now;
  rec.job = j.id;
  rec.profile = g->profile;
  rec.switch_ms = switch_ms;
  try {
    auto r = micro_window(st, j, g->profile);
    double cost = st.cfg.clock == clock_kind::replay ? 1.0 : seconds_since(t0);
    st.sched->report(*g, r.acc_before, r.acc_after, cost);
    rec.acc_before = static_cast<float>(r.acc_before);
    rec.acc_after = static_cast<float>(r.acc_after);
    rec.cost = cost;
    if (st.cfg.clock == clock_kind::replay)
      st.replay_units += 1;
  } catch (const std::exception& e) {
    log::error("gpu-owner", "job ", j.id, " failed: ", e.what());
    // Its camera hears of it, and a replay-clock window waiting on it goes.
    if (j.has_rp)
      j.rp.deliver(
        caf::make_error(ec::model, "retraining " + j.id + ": " + e.what()));
    release_waiters(st, j.camera);
    st.sched->remove(j.id);
    st.jobs.erase(i);
  }
  st.busy_s += seconds_since(t0);
  st.grants += 1;
  st.recent.push_back(rec);
  while (st.recent.size() > 64)
    st.recent.pop_front();
  log::debug("gpu-owner", "granted ", rec.job, rec.profile ? " (profile)" : "",
             ": ", rec.acc_before, " -> ", rec.acc_after, " in ", rec.cost,
             st.cfg.clock == clock_kind::replay ? " units" : " s");
  schedule_tick(self);
}

/// Adds a window's labelled frames to the generalist's replay buffer,
/// dropping the oldest beyond its size.
void feed_generalist(gpu_owner_state& st, const std::vector<image>& imgs,
                     const std::vector<std::vector<box>>& truth) {
  for (size_t i = 0; i < imgs.size(); ++i)
    st.buffer.emplace_back(imgs[i], truth[i]);
  while (st.buffer.size() > st.cfg.generalist_frames)
    st.buffer.pop_front();
  st.buffer_fresh = true;
}

/// A retraining job for the window `lw`, from model `start`, scored at its
/// end against `rivals`; it replaces the camera's previous job. Answers
/// when the job ends (or at once without per-camera jobs).
caf::result<training_result> start_job(self_ptr self, const labelled_window& lw,
                                       const std::string& start,
                                       const std::vector<std::string>& rivals) {
  auto& st = self->state;
  if (!st.models())
    return caf::make_error(ec::model, "no expert models to retrain");
  auto& cam = lw.source.camera;
  if (!st.cfg.camera_jobs) {
    // Generalist only: the window feeds its replay buffer, no job.
    if (st.cfg.generalist) {
      try {
        feed_generalist(st, *st.images_of(lw), boxes_of(lw.labels));
        maybe_start_generalist(self);
        schedule_tick(self);
      } catch (const std::exception& e) {
        return caf::make_error(ec::model, e.what());
      }
    }
    training_result none;
    none.camera = cam;
    none.window = lw.source.index;
    return none;
  }
  // A camera has one job at a time: its previous window's job ends now.
  for (auto& kv : st.jobs)
    if (kv.second.camera == cam) {
      end_job(self, kv.first);
      break;
    }
  job j;
  j.id = cam + "/" + std::to_string(lw.source.index);
  j.camera = cam;
  j.window = lw.source.index;
  j.start_id = start;
  j.rivals = rivals;
  try {
    auto x = st.find(start);
    if (!x)
      return caf::make_error(ec::unknown_expert,
                             "no model '" + start + "' to retrain");
    auto imgs = st.images_of(lw);
    auto truth = boxes_of(lw.labels);
    labelled_frames train, holdout;
    split_window(*imgs, truth, train, holdout, lw.history);
    j.holdout = holdout;
    if (st.cfg.stream && !holdout.frames.empty())
      j.best_holdout = accuracy_on(*x, holdout);
    j.frames = train.frames.size();
    j.history = std::min<size_t>(lw.history, imgs->size());
    // From here on, the window's own frames (earlier windows' were
    // measured and fed to the generalist with their own jobs).
    if (j.history > 0) {
      imgs = std::make_shared<std::vector<image>>(imgs->begin() + j.history,
                                                  imgs->end());
      truth.erase(truth.begin(), truth.begin() + j.history);
    }
    if (st.sched->policy() == sched_policy::ekya)
      for (size_t i = 0; i < train.frames.size(); i += 2) {
        j.subset.frames.push_back(train.frames[i]);
        j.subset.labels.push_back(train.labels[i]);
      }
    auto opts = st.cfg.train;
    opts.seed = st.cfg.train.seed + lw.source.index;
    // Algorithm 1's gains are measured on the whole window (frames the
    // job trains on included) unless told otherwise: the held-out
    // quarter alone is too few frames to rank jobs by.
    labelled_frames gain_set = std::move(holdout);
    if (st.cfg.gains_on == gain_frames::window) {
      gain_set.frames = *imgs;
      gain_set.labels = truth;
    }
    j.train = std::make_unique<trainer>(x->clone(), std::move(train),
                                        std::move(gain_set), opts);
    if (st.cfg.generalist)
      feed_generalist(st, *imgs, truth);
  } catch (const std::exception& e) {
    return caf::make_error(ec::model, std::string{"retraining: "} + e.what());
  }
  j.rp = self->make_response_promise<training_result>();
  j.has_rp = true;
  auto rp = j.rp;
  j.added_at = st.now();
  st.sched->add(j.id, st.now(), st.now() + st.cfg.budget);
  st.jobs.emplace(j.id, std::move(j));
  schedule_tick(self);
  return rp;
}

gpu_owner_actor::behavior_type gpu_owner(self_ptr self, gpu_owner_config cfg,
                                         std::shared_ptr<kv> db) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.db = std::move(db);
  // This runs on the owner's own thread (detached): its models go to its
  // device.
  if (!st.cfg.device.empty())
    gpu::use_device(st.cfg.device);
  st.sched
    = std::make_unique<scheduler>(parse_sched_policy(st.cfg.scheduler),
                                  st.cfg.profile_epochs, st.cfg.gain_tolerance);
  load_models(st);
  return {
    [=](check_atom, const labelled_window& lw, uint32_t k,
        const std::vector<std::string>& own,
        const std::vector<std::string>& zoo) -> caf::result<check_result> {
      return select_and_check(self->state, lw, k, own, zoo);
    },
    [=](
      train_atom, const labelled_window& lw, const std::string& start,
      const std::vector<std::string>& rivals) -> caf::result<training_result> {
      return start_job(self, lw, start, rivals);
    },
    [=](tick_atom) { tick(self); },
    [=](await_atom, const std::string& cam) -> caf::result<bool> {
      auto& st = self->state;
      bool busy = false;
      for (auto& kv : st.jobs)
        busy = busy || kv.second.camera == cam;
      if (!busy || st.cfg.clock != clock_kind::replay)
        return true;
      auto rp = self->make_response_promise<bool>();
      st.waiting[cam].push_back(rp);
      return rp;
    },
    [=](stream_atom, const std::string& cam, uint32_t w) {
      std::vector<streamed_step> out;
      for (auto& kv : self->state.jobs)
        if (kv.second.camera == cam && kv.second.window == w)
          out = kv.second.steps;
      return out;
    },
    [=](fetch_atom, const std::string& id) -> caf::result<std::string> {
      return weights_of(self->state, id);
    },
    [=](fetch_atom, const std::string& id, const std::string& base_id,
        const std::string& base_hash, bool half) -> caf::result<std::string> {
      auto t0 = clock_type::now();
      auto out = update_of(self->state, id, base_id, base_hash, half);
      auto s = seconds_since(t0);
      self->state.busy_s += s;
      if (out)
        log::info("gpu-owner", id, " as an update for an edge holding '",
                  base_id, "': ", human_bytes(out->size()), " in ",
                  static_cast<int>(s * 1000), " ms");
      return out;
    },
    [=](
      admit_atom, const std::vector<candidate>& news,
      const std::vector<gating_sample>& samples) -> caf::result<gating_update> {
      auto t0 = clock_type::now();
      auto up = prepare_admission(self->state, news, samples);
      auto s = seconds_since(t0);
      self->state.busy_s += s;
      self->state.selector_s += s;
      if (!up)
        return std::move(up.error());
      return std::move(*up);
    },
    [=](prune_atom,
        const std::vector<std::string>& gone) -> caf::result<gating_update> {
      auto t0 = clock_type::now();
      auto up = prepare_prune(self->state, gone);
      auto s = seconds_since(t0);
      self->state.busy_s += s;
      self->state.selector_s += s;
      return up;
    },
    [=](commit_atom, uint64_t version, bool ok) {
      commit_update(self->state, version, ok);
    },
    [=](scheduler_atom) -> scheduler_report {
      auto r = report_of(self->state);
      r.queued = static_cast<uint32_t>(self->mailbox().size());
      return r;
    },
  };
}

} // namespace

gpu_owner_actor spawn_gpu_owner(caf::actor_system& sys, gpu_owner_config cfg,
                                std::shared_ptr<kv> db) {
  return sys.spawn<caf::detached>(gpu_owner, std::move(cfg), std::move(db));
}

} // namespace recl
