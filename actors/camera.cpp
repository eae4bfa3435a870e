// The camera actor: one per edge session. One window's journey, from the
// edge's frames to the reply and the training request, is window.cpp; this
// file is the actor itself and what happens after a window:
//   - when a window's job ends, its model becomes the camera's last
//     retrained model; if it beats every other candidate by alpha at the
//     camera's next window (or, with --admission holdout or once the session
//     has ended, every rival on its held-out frames) it is offered to the
//     zoo;
//   - the next sampling rate follows AMS: fewer frames when consecutive
//     teacher labels agree, more when they change;
//   - the camera's record (current and last retrained model, counters) is
//     persisted after each change;
//   - with --stream-models, the steps of a window's job wait here for the
//     edge to fetch them (CameraSession.streamed), once the edge has asked
//     for steps at all; while the job runs, the GPU owner holding it
//     answers for those made so far.

#include "actors/camera_state.hpp"
#include "actors/records.hpp"

#include "actors/zoo_policy.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/metrics.hpp"
#include "store/store.hpp"
#include "store/keys.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

namespace recl {

std::string camera_state::persist(const std::vector<std::string>& drop) {
  try {
    write_batch b;
    b.put(family::cameras, id, encode(info));
    for (auto& x : drop)
      b.erase(family::experts, keys::model(x));
    deps.db->write(b);
    if (!drop.empty())
      log::debug("camera", id, ": dropped ", drop.size(),
                 " superseded retrained model(s)");
    return "";
  } catch (const std::exception& e) {
    log::warning("camera", id, ": cannot persist its record: ", e.what());
    return e.what();
  }
}

std::vector<std::string>
camera_state::superseded(const std::string& was) const {
  bool named = was == info.model_id || was == info.last_retrained_id
               || (on_probation && on_probation->model_id == was);
  if (named || source_of(was) != "retrained")
    return {};
  return {was};
}

size_t drop_unnamed_models(store& db) {
  std::set<std::string> named;
  db.scan(family::cameras, "", [&](std::string_view k, std::string_view v) {
    auto c = decode_camera_info(std::string{k}, v);
    named.insert(keys::model(c.model_id));
    named.insert(keys::model(c.last_retrained_id));
    return true;
  });
  write_batch b;
  uint64_t bytes = 0;
  db.scan(family::experts, keys::retrained_prefix,
          [&](std::string_view k, std::string_view v) {
            if (!named.count(std::string{k})) {
              b.erase(family::experts, k);
              bytes += v.size();
            }
            return true;
          });
  if (b.size() == 0)
    return 0;
  db.write(b);
  log::info("recld", "dropped ", b.size(),
            " retrained models no camera names (", human_bytes(bytes), ")");
  return b.size();
}

/// What kind of model an id is, as the edge is told.
std::string camera_state::source_of(const std::string& model) const {
  if (model.rfind("e-", 0) == 0)
    return "zoo";
  if (model == "generalist" || model == "base")
    return model;
  if (model.rfind("r-" + id + "-", 0) == 0)
    return "retrained";
  if (model.rfind("r-", 0) == 0)
    return "retrained-elsewhere";
  return "edge";
}

/// --train-windows: more frames of the same scene give more micro-windows
/// something to learn (a job on one 20-frame window learns what it can in
/// about two); after a move, the place left behind trains for N-1 more
/// windows. Measured in bench/results/2026-12-02-devices-tw3: with 3, RECL
/// gains at 4 devices and not at 1, and AMS, serving what it trains
/// unchecked, loses.
labelled_window camera_state::for_training(const labelled_window& lw) {
  if (deps.train_windows <= 1)
    return lw;
  std::vector<frame> frames;
  std::vector<frame_labels> labels;
  for (auto& old : recent) {
    frames.insert(frames.end(), old.source.frames.begin(),
                  old.source.frames.end());
    labels.insert(labels.end(), old.labels.begin(), old.labels.end());
  }
  auto out = lw;
  out.history = static_cast<uint32_t>(labels.size());
  frames.insert(frames.end(), lw.source.frames.begin(), lw.source.frames.end());
  labels.insert(labels.end(), lw.labels.begin(), lw.labels.end());
  out.source.frames = std::move(frames);
  out.labels = std::move(labels);
  out.images.reset(); // the owner decodes the earlier windows' frames anyway
  recent.push_back(lw);
  recent.back().images.reset(); // decoded frames are large: keep the JPEGs
  while (recent.size() >= deps.train_windows)
    recent.pop_front();
  return out;
}

/// AMS's rule on label drift: how much consecutive frames' teacher labels
/// agree, as the overlap of their per-class box counts (1 = same counts).
/// High agreement lowers the rate, low agreement raises it. (Box-level IoU
/// is useless here: at 1 frame/s every car has moved.)
float camera_state::next_rate(const labelled_window& lw) const {
  float fps = lw.source.sample_fps;
  if (fps <= 0 || lw.labels.size() < 2)
    return fps;
  auto counts = [](const frame_labels& f) {
    std::map<int, int> c;
    for (auto& b : f.boxes)
      c[b.cls] += 1;
    return c;
  };
  double agree = 0;
  for (size_t i = 1; i < lw.labels.size(); ++i) {
    auto a = counts(lw.labels[i - 1]);
    auto b = counts(lw.labels[i]);
    int diff = 0, na = 0, nb = 0;
    for (auto& [k, v] : a) {
      na += v;
      diff += std::abs(v - (b.count(k) ? b[k] : 0));
    }
    for (auto& [k, v] : b) {
      nb += v;
      if (!a.count(k))
        diff += v;
    }
    agree += 1.0 - static_cast<double>(diff) / std::max({na, nb, 1}) / 2.0;
  }
  agree /= static_cast<double>(lw.labels.size() - 1);
  if (agree > deps.agree_high)
    fps *= 0.75f;
  else if (agree < deps.agree_low)
    fps *= 1.5f;
  return std::clamp(fps, deps.min_fps, deps.max_fps);
}

decision camera_state::make_decision(const labelled_window& lw) const {
  decision d;
  d.window = lw.source.index;
  d.swap = false;
  d.model_id = lw.source.model_id;
  d.labels = lw.labels;
  d.next_sample_fps = next_rate(lw);
  d.time.queue_ms = lw.queue_ms;
  d.time.decode_ms = lw.decode_ms;
  d.time.teacher_ms = lw.teacher_ms;
  d.time.link_ms = lw.link_ms;
  d.teacher = deps.teacher;
  d.source = "kept";
  return d;
}

std::string camera_state::account(const labelled_window& lw,
                                  const decision& d) {
  auto was = info.model_id;
  info.windows += 1;
  info.frames_labelled += lw.labels.size();
  info.last_reply_ms = d.time.total_ms;
  info.last_reply_unix_ms = unix_ms();
  info.model_id = d.model_id;
  info.connected = true;
  return persist(superseded(was));
}

namespace {

/// Offers a promising retrained model to the zoo.
void offer(camera_self self, candidate c) {
  self->request(self->state.deps.zoo, caf::infinite, admit_atom_v, std::move(c))
    .then([](uint64_t) {},
          [=](caf::error& e) {
            log::warning("camera", self->state.id,
                         ": the zoo refused a candidate: ", describe(e));
          });
}

} // namespace

/// --admission next: the model on probation was scored with every other
/// candidate on this window's frames, none of which it trained on. It is
/// promising if it beats each of them by alpha there.
void judge_probation(camera_self self, const std::vector<std::string>& ids,
                     const std::vector<float>& scores) {
  auto& st = self->state;
  if (!st.on_probation)
    return;
  auto c = std::move(*st.on_probation);
  st.on_probation.reset();
  double mine = -1;
  std::vector<double> others;
  for (size_t i = 0; i < ids.size() && i < scores.size(); ++i) {
    if (ids[i] == c.model_id)
      mine = scores[i];
    else if (scores[i] >= 0)
      others.push_back(scores[i]);
  }
  if (mine < 0)
    return;
  bool good = promising(mine, others, st.deps.alpha);
  double best
    = others.empty() ? 0 : *std::max_element(others.begin(), others.end());
  log::info("camera", st.id, ": ", c.model_id, " on the next window's ",
            "frames: ", mine, ", best other ", best, good ? ": promising" : "");
  if (!good)
    return;
  c.info.accuracy = static_cast<float>(mine);
  c.best_rival = static_cast<float>(best);
  offer(self, std::move(c));
}

/// A job ended: its model becomes the camera's last retrained model and, if
/// promising, a candidate for the zoo.
void on_trained(camera_self self, const labelled_window& lw,
                training_result& r) {
  auto& st = self->state;
  if (r.model_id.empty())
    return;
  auto old = st.info.last_retrained_id;
  st.info.last_retrained_id = r.model_id;
  if (st.closing) {
    // A newer session of this camera may have written the record since:
    // change only the last retrained model.
    try {
      if (auto rec = st.deps.db->get(family::cameras, st.id)) {
        auto now = decode_camera_info(st.id, *rec);
        if (now.windows > st.info.windows) {
          now.last_retrained_id = r.model_id;
          st.info = now;
        }
      }
    } catch (const std::exception& e) {
      log::warning("camera", st.id, ": ", e.what());
    }
  }
  // The previous retrained model goes unless the edge still runs it.
  st.persist(st.superseded(old));
  candidate c;
  c.model_id = r.model_id;
  c.info.origin_camera = st.id;
  c.info.origin_window = r.window;
  c.frames = lw.source.frames;
  c.labels = lw.labels;
  if (st.deps.admission == admission_rule::next && !st.closing) {
    // Judged at the next window's safety check, on frames it never saw.
    // (A camera whose session has ended has no next window: its model is
    // judged on the held-out quarter below.)
    st.on_probation = std::move(c);
    return;
  }
  std::vector<double> rivals;
  for (auto a : r.rival_accuracy)
    if (a >= 0)
      rivals.push_back(a);
  double best_rival
    = rivals.empty() ? 0 : *std::max_element(rivals.begin(), rivals.end());
  bool good = promising(r.accuracy, rivals, st.deps.alpha);
  log::info("camera", st.id, ": retrained ", r.model_id, " (window ", r.window,
            ", ", r.micro_windows, " micro-windows): accuracy ", r.accuracy,
            ", best rival ", best_rival, good ? ": promising" : "");
  if (!good)
    return;
  c.info.accuracy = r.accuracy;
  c.best_rival = static_cast<float>(best_rival);
  offer(self, std::move(c));
}

void on_job_ended(camera_self self, uint32_t w,
                  std::vector<streamed_step> steps) {
  auto& st = self->state;
  st.training.erase(w);
  auto [from, to] = st.on_job_end.equal_range(w);
  std::vector<std::function<void(const std::vector<streamed_step>&)>> calls;
  for (auto i = from; i != to; ++i)
    calls.push_back(std::move(i->second));
  st.on_job_end.erase(from, to);
  for (auto& f : calls)
    f(steps);
  // An edge fetches a window's steps once, right after its reply (while
  // the job runs): the last two windows' are plenty, and an edge that has
  // never asked gets none kept (each step is a model).
  if (!st.edge_fetches)
    return;
  st.streamed[w] = std::move(steps);
  while (st.streamed.size() > 2)
    st.streamed.erase(st.streamed.begin());
}

namespace {

/// The steps of window `w`'s job: all of them if it ended; if it runs,
/// when it ends (`wait`) or those made so far (asked of its GPU owner);
/// none if the window started no job.
caf::result<std::vector<streamed_step>> streamed_of(camera_self self,
                                                    uint32_t w, bool wait) {
  using steps = std::vector<streamed_step>;
  auto& st = self->state;
  if (auto i = st.streamed.find(w); i != st.streamed.end())
    return i->second;
  if (st.training.count(w) == 0)
    return steps{};
  auto rp = self->make_response_promise<steps>();
  if (wait) {
    st.on_job_end.emplace(w, [rp](const steps& xs) mutable { rp.deliver(xs); });
    return rp;
  }
  self->request(st.deps.gpu_owner, caf::infinite, stream_atom_v, st.id, w)
    .then([rp](steps& xs) mutable { rp.deliver(std::move(xs)); },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

camera_actor::behavior_type camera(camera_self self, std::string id,
                                   camera_deps deps) {
  auto& st = self->state;
  st.id = id;
  st.deps = std::move(deps);
  st.info.id = id;
  try {
    if (auto rec = st.deps.db->get(family::cameras, id))
      st.info = decode_camera_info(id, *rec);
  } catch (const std::exception& e) {
    log::error("camera", id, ": cannot read its record: ", e.what());
  }
  st.info.connected = true;
  // The gateway ends a session with reason "normal": a camera with a job in
  // training stays until the job's result is handled. Anything else (the
  // node shutting down) ends it at once.
  self->set_exit_handler([=](const caf::exit_msg& em) {
    auto& st = self->state;
    if (!em.reason && st.pending > 0) {
      st.closing = true;
      st.info.connected = false; // its last records must not say otherwise
      log::info("camera", st.id, ": session ended; waiting for ", st.pending,
                " retraining job(s)");
      return;
    }
    self->quit(em.reason);
  });
  log::info("camera", id, ": session opened (", st.info.windows,
            " windows served before, model '", st.info.model_id,
            "', last retrained '", st.info.last_retrained_id, "')");
  return {
    [=](update_atom, window& w) -> caf::result<decision> {
      if (w.frames.empty())
        return caf::make_error(ec::bad_window,
                               "camera " + w.camera + ", window "
                                 + std::to_string(w.index) + ": no frames");
      auto rp = self->make_response_promise<decision>();
      begin_window(self, std::move(w), rp);
      return rp;
    },
    [=](restart_atom, const caf::actor_addr& dead, const caf::actor& x) {
      auto& d = self->state.deps;
      if (d.labeler.address() == dead)
        d.labeler = caf::actor_cast<labeler_actor>(x);
      if (d.selector.address() == dead)
        d.selector = caf::actor_cast<selector_actor>(x);
      if (d.gpu_owner.address() == dead)
        d.gpu_owner = caf::actor_cast<gpu_owner_actor>(x);
      if (d.zoo.address() == dead)
        d.zoo = caf::actor_cast<zoo_actor>(x);
      if (d.admin.address() == dead)
        d.admin = caf::actor_cast<admin_actor>(x);
    },
    [=](stream_atom, uint32_t w, bool wait) {
      self->state.edge_fetches = true;
      return streamed_of(self, w, wait);
    },
    [=](report_atom, const edge_stats& s) {
      log::debug("camera", self->state.id, ": edge reports window ", s.window,
                 ", ", s.frames_seen, " frames seen, model '", s.model_id, "'");
    },
  };
}

} // namespace

camera_actor spawn_camera(caf::actor_system& sys, std::string id,
                          camera_deps deps) {
  return sys.spawn(camera, std::move(id), std::move(deps));
}

} // namespace recl
