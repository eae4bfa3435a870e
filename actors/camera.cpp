// The camera actor: one per edge session. Each window (DESIGN.md, "One
// model-update window"):
//   1. (replay clock) wait until this camera's previous job has spent its
//      budget;
//   2. the labeler labels the frames;
//   3. the selector proposes the top-K zoo experts;
//   4. the safety check evaluates top-K + the edge's current model + the
//      camera's last retrained model + the fleet generalist on the labelled
//      frames and serves by the selection rule (zoo_policy.hpp; by default
//      the camera's own line unless a candidate that wins on the even
//      frames also beats it on the odd ones);
//   5. the reply goes out, then the training request (starting from the
//      served model) goes to the GPU owner; the reply never waits for it;
//   6. when the job ends, its model becomes the camera's last retrained
//      model; if it beats every other candidate by alpha at the camera's
//      next window (or, with --admission holdout or once the session has
//      ended, every rival on its held-out frames) it is offered to the zoo.
// The next sampling rate follows AMS: fewer frames when consecutive teacher
// labels agree, more when they change. The camera's record (current and
// last retrained model, counters) is persisted after each change.

#include "actors/actors.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/metrics.hpp"
#include "store/store.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>

namespace recl {

namespace {

struct camera_state {
  static inline const char* name = "camera";
  std::string id;
  camera_deps deps;
  camera_info info;
  uint32_t pending = 0;  // training requests not answered yet
  bool closing = false;  // the session ended; quit when pending is 0
  /// --admission next: the last retrained model, waiting for the next
  /// window's safety check to say whether it is promising.
  std::optional<candidate> on_probation;

  /// Persists the record; a failure is logged, not fatal to the reply.
  void persist() {
    try {
      deps.db->put(family::cameras, id, encode(info));
    } catch (const std::exception& e) {
      log::error("camera", id, ": cannot persist its record: ", e.what());
    }
  }

  /// What kind of model an id is, as the edge is told.
  std::string source_of(const std::string& model) const {
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

  /// AMS's rule on label drift: how much consecutive frames' teacher labels
  /// agree, as the overlap of their per-class box counts (1 = same counts).
  /// High agreement lowers the rate, low agreement raises it. (Box-level IoU
  /// is useless here: at 1 frame/s every car has moved.)
  float next_rate(const labelled_window& lw) const {
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

  decision make_decision(const labelled_window& lw) {
    decision d;
    d.window = lw.source.index;
    d.swap = false;
    d.model_id = lw.source.model_id;
    d.labels = lw.labels;
    d.next_sample_fps = next_rate(lw);
    d.time.queue_ms = lw.queue_ms;
    d.time.decode_ms = lw.decode_ms;
    d.time.teacher_ms = lw.teacher_ms;
    d.teacher = deps.teacher;
    d.source = "kept";
    return d;
  }

  void account(const labelled_window& lw, const decision& d) {
    info.windows += 1;
    info.frames_labelled += lw.labels.size();
    info.last_reply_ms = d.time.total_ms;
    info.last_reply_unix_ms = unix_ms();
    info.model_id = d.model_id;
    info.connected = true;
    persist();
  }
};

using self_ptr = camera_actor::stateful_pointer<camera_state>;

/// Offers a promising retrained model to the zoo.
void offer(self_ptr self, candidate c) {
  self->request(self->state.deps.zoo, caf::infinite, admit_atom_v,
                std::move(c))
    .then([](uint64_t) {},
          [=](caf::error& e) {
            log::warning("camera", self->state.id,
                         ": the zoo refused a candidate: ", describe(e));
          });
}

/// --admission next: the model on probation was scored with every other
/// candidate on this window's frames, none of which it trained on. It is
/// promising if it beats each of them by alpha there.
void judge_probation(self_ptr self, const std::vector<std::string>& ids,
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
  double best = others.empty()
                  ? 0
                  : *std::max_element(others.begin(), others.end());
  log::info("camera", st.id, ": ", c.model_id, " on the next window's ",
            "frames: ", mine, ", best other ", best,
            good ? ": promising" : "");
  if (!good)
    return;
  c.info.accuracy = static_cast<float>(mine);
  c.best_rival = static_cast<float>(best);
  offer(self, std::move(c));
}

/// A job ended: its model becomes the camera's last retrained model and, if
/// promising, a candidate for the zoo.
void on_trained(self_ptr self, const labelled_window& lw,
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
  st.persist();
  // The previous retrained model is dropped unless the edge still runs it.
  if (!old.empty() && old != r.model_id && old != st.info.model_id
      && old.rfind("r-", 0) == 0) {
    try {
      st.deps.db->erase(family::experts, "model/" + old);
    } catch (const std::exception& e) {
      log::warning("camera", st.id, ": cannot drop ", old, ": ", e.what());
    }
  }
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
  double best_rival = rivals.empty()
                        ? 0
                        : *std::max_element(rivals.begin(), rivals.end());
  bool good = promising(r.accuracy, rivals, st.deps.alpha);
  log::info("camera", st.id, ": retrained ", r.model_id, " (window ",
            r.window, ", ", r.micro_windows, " micro-windows): accuracy ",
            r.accuracy, ", best rival ", best_rival,
            good ? ": promising" : "");
  if (!good)
    return;
  c.info.accuracy = r.accuracy;
  c.best_rival = static_cast<float>(best_rival);
  offer(self, std::move(c));
}

/// Safety check done: reply, log the selection, submit the training request.
void serve(self_ptr self, caf::typed_response_promise<decision> rp,
           labelled_window lw, std::vector<std::string> ids,
           std::vector<float> scores, double select_ms, double t_check,
           std::vector<std::string> picks = {},
           size_t real = static_cast<size_t>(-1)) {
  auto& st = self->state;
  auto d = st.make_decision(lw);
  d.time.select_ms = select_ms;
  d.time.check_ms = now_ms() - t_check;
  // The GPU owner scored every id on all frames, then on the even and on
  // the odd frames (the two halves of the "confirm" rule).
  std::vector<float> on_a = scores, on_b = scores;
  if (scores.size() == 3 * ids.size()) {
    auto n = static_cast<std::ptrdiff_t>(ids.size());
    on_a.assign(scores.begin() + n, scores.begin() + 2 * n);
    on_b.assign(scores.begin() + 2 * n, scores.end());
    scores.resize(ids.size());
  }
  // --selector compare: the first `real` ids are the window's candidates;
  // the rest were evaluated only to score what gating, ODIN and the oracle
  // would pick from the same zoo (picks: gating's, ODIN's, then the zoo).
  real = std::min(real, ids.size());
  if (!picks.empty()) {
    auto score_of = [&](const std::string& x) {
      for (size_t i = 0; i < ids.size() && i < scores.size(); ++i)
        if (ids[i] == x)
          return scores[i];
      return -1.f;
    };
    d.compare.gating = picks[0].empty() ? -1.f : score_of(picks[0]);
    d.compare.odin = picks.size() > 1 && !picks[1].empty() ? score_of(picks[1]) : -1.f;
    for (size_t i = 2; i < picks.size(); ++i)
      d.compare.oracle = std::max(d.compare.oracle, score_of(picks[i]));
    ids.resize(real);
    scores.resize(std::min(scores.size(), real));
    on_a.resize(std::min(on_a.size(), real));
    on_b.resize(std::min(on_b.size(), real));
  }
  d.candidates = static_cast<uint32_t>(ids.size());
  auto current = lw.source.model_id;
  float current_score = -1;
  for (size_t i = 0; i < ids.size() && i < scores.size(); ++i)
    if (ids[i] == current)
      current_score = scores[i];
  d.current_accuracy = current_score;
  d.accuracy = current_score;
  std::string start = current.empty() ? "base" : current;
  // The best candidate by the selection rule (camera_deps::selection).
  judge_probation(self, ids, scores);
  auto best = st.deps.selection == selection_rule::lineage
                ? lineage_choice(ids, scores, on_a, on_b, current,
                                 st.info.last_retrained_id)
              : st.deps.selection == selection_rule::confirm
                ? safety_choice(ids, on_a, on_b, current)
                : safety_choice(ids, scores, current);
  if (best < ids.size()) {
    d.swap = true;
    d.model_id = ids[best];
    d.accuracy = scores[best];
    d.source = st.source_of(ids[best]);
    start = ids[best];
  }
  auto finish = [=](decision d) mutable {
    auto& st = self->state;
    d.time.total_ms = now_ms() - lw.source.arrived_ms;
    st.account(lw, d);
    self->send(st.deps.admin, camstats_atom_v, st.info);
    self->send(st.deps.zoo, selected_atom_v,
               d.model_id.empty() ? std::string{"edge"} : d.model_id);
    log::info("camera", st.id, ": window ", d.window, ", ", lw.labels.size(),
              " frames, ", d.candidates, " candidates, ",
              d.swap ? "swap to " + d.model_id + " (" + d.source + ")"
                     : std::string{"keep"},
              ", accuracy ", d.accuracy, ", reply ",
              static_cast<int>(d.time.total_ms), " ms");
    rp.deliver(std::move(d));
    // Training starts after the reply, from the model now served.
    if (!st.deps.retrain)
      return;
    // One-time adaptation: only a camera's first N windows (ever) train.
    if (st.deps.retrain_windows > 0
        && st.info.windows > st.deps.retrain_windows)
      return;
    st.pending += 1;
    auto done = [=] {
      auto& st = self->state;
      st.pending -= 1;
      if (st.closing && st.pending == 0)
        self->quit();
    };
    self
      ->request(st.deps.gpu_owner, caf::infinite, train_atom_v, lw, start,
                ids)
      .then(
        [=](training_result& r) {
          on_trained(self, lw, r);
          done();
        },
        [=](caf::error& e) {
          log::warning("camera", self->state.id,
                       ": retraining failed: ", describe(e));
          done();
        });
  };
  // Zoo size for the edge's display; then weights when swapping.
  self->request(st.deps.zoo, caf::infinite, size_atom_v)
    .then(
      [=](uint64_t n) mutable {
        d.zoo_size = static_cast<uint32_t>(n);
        if (!d.swap) {
          finish(std::move(d));
          return;
        }
        self
          ->request(self->state.deps.gpu_owner, caf::infinite, fetch_atom_v,
                    d.model_id)
          .then(
            [=](std::string& bytes) mutable {
              // The reply must fit one RPC message (labels and all): a model
              // too large for it is not served.
              uint64_t labels = 0;
              for (auto& l : d.labels)
                labels += 64 + 32 * l.boxes.size();
              if (bytes.size() + labels + (64u << 10)
                  > self->state.deps.max_reply_bytes) {
                log::warning("camera", self->state.id, ": ", d.model_id,
                             " (", human_bytes(bytes.size()),
                             ") does not fit the RPC message limit (",
                             human_bytes(self->state.deps.max_reply_bytes),
                             "); keeping");
                d.swap = false;
                d.model_id = lw.source.model_id;
                d.source = "kept";
                d.accuracy = d.current_accuracy;
                finish(std::move(d));
                return;
              }
              d.weights.assign(bytes.begin(), bytes.end());
              finish(std::move(d));
            },
            [=](caf::error& e) mutable {
              log::warning("camera", self->state.id, ": cannot fetch ",
                           d.model_id, ": ", describe(e), "; keeping");
              d.swap = false;
              d.model_id = lw.source.model_id;
              d.source = "kept";
              d.accuracy = d.current_accuracy;
              finish(std::move(d));
            });
      },
      [=](caf::error& e) mutable { finish(std::move(d)); });
}

camera_actor::behavior_type camera(self_ptr self, std::string id,
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
      auto cam = self->state.id;
      // Replay clock: the previous window's budget first.
      self->request(self->state.deps.gpu_owner, caf::infinite, await_atom_v,
                    cam)
        .then(
          [=](bool) mutable {
            auto& st = self->state;
            self
              ->request(st.deps.labeler, caf::infinite, label_atom_v,
                        std::move(w))
              .then(
                [=](labelled_window& lw) mutable {
                  auto t_select = now_ms();
                  auto& st = self->state;
                  self
                    ->request(st.deps.selector, caf::infinite, select_atom_v,
                              lw, st.deps.top_k)
                    .then(
                      [=](std::vector<std::string>& top) mutable {
                        auto& st = self->state;
                        auto select_ms = now_ms() - t_select;
                        // Candidates: top-K, the edge's model, the last
                        // retrained model, the generalist (the base when the
                        // edge runs nothing yet).
                        std::vector<std::string> ids = top;
                        auto add = [&](const std::string& x) {
                          if (!x.empty()
                              && std::find(ids.begin(), ids.end(), x)
                                   == ids.end())
                            ids.push_back(x);
                        };
                        add(lw.source.model_id);
                        add(st.info.last_retrained_id);
                        if (st.deps.generalist)
                          add("generalist");
                        if (lw.source.model_id.empty())
                          add("base");
                        auto t_check = now_ms();
                        auto check = [=](std::vector<std::string> picks) mutable {
                          auto& st = self->state;
                          auto all = ids;
                          for (auto& x : picks)
                            if (!x.empty()
                                && std::find(all.begin(), all.end(), x)
                                     == all.end())
                              all.push_back(x);
                          auto real = ids.size();
                        self
                          ->request(st.deps.gpu_owner, caf::infinite,
                                    evaluate_atom_v, lw, all)
                          .then(
                            [=](std::vector<float>& scores) mutable {
                              serve(self, rp, lw, all, std::move(scores),
                                    select_ms, t_check, picks, real);
                            },
                            [=](caf::error& e) mutable {
                              // No models (or they failed): keep.
                              log::debug("camera", self->state.id,
                                         ": safety check: ", describe(e));
                              auto& st = self->state;
                              auto d = st.make_decision(lw);
                              d.time.select_ms = select_ms;
                              d.time.total_ms = now_ms() - lw.source.arrived_ms;
                              st.account(lw, d);
                              self->send(st.deps.admin, camstats_atom_v,
                                         st.info);
                              log::info("camera", st.id, ": window ",
                                        d.window, ", ", lw.labels.size(),
                                        " frames, teacher ",
                                        static_cast<int>(lw.teacher_ms),
                                        " ms, keep, reply ",
                                        static_cast<int>(d.time.total_ms),
                                        " ms");
                              rp.deliver(std::move(d));
                            });
                        };
                        if (!st.deps.compare_selectors) {
                          check({});
                          return;
                        }
                        self
                          ->request(st.deps.selector, caf::infinite,
                                    compare_atom_v, lw)
                          .then(
                            [=](std::vector<std::string>& picks) mutable {
                              check(std::move(picks));
                            },
                            [=](caf::error& e) mutable {
                              log::warning("camera", self->state.id,
                                           ": selector comparison: ",
                                           describe(e));
                              check({});
                            });
                      },
                      [=](caf::error& e) mutable {
                        log::warning("camera", self->state.id,
                                     ": selection failed: ", describe(e));
                        rp.deliver(std::move(e));
                      });
                },
                [=](caf::error& e) mutable {
                  log::warning("camera", self->state.id, ": ", describe(e));
                  rp.deliver(std::move(e));
                });
          },
          [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
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
    [=](report_atom, const edge_stats& s) {
      log::debug("camera", self->state.id, ": edge reports window ", s.window,
                 ", ", s.frames_seen, " frames seen, model '", s.model_id,
                 "'");
    },
  };
}

} // namespace

camera_actor spawn_camera(caf::actor_system& sys, std::string id,
                          camera_deps deps) {
  return sys.spawn(camera, std::move(id), std::move(deps));
}

} // namespace recl
