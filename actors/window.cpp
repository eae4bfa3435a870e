// One window's journey through the camera actor, top to bottom:
//
//   begin      (replay clock) wait until the camera's previous job has spent
//              its budget; (--stream-models) wait until the job whose step
//              the edge runs has ended, so that the check can score it; then
//              the labeler labels the frames (and decodes them, once, for
//              every step after it);
//   check      selection and the safety check, one request: the selector
//              proposes zoo experts by policy and the GPU owner scores them
//              with the camera's own candidates (the edge's model, its last
//              retrained model, the generalist; the base when the edge runs
//              none) on the teacher-labelled frames (all, even and odd);
//              --selector compare also learns what gating, ODIN and the
//              oracle would have picked;
//   decide     the selection rule (zoo_policy.hpp; by default the camera's
//              own line unless a candidate that wins on the even frames
//              also beats it on the odd ones); the model on probation is
//              judged on the same scores;
//   attach     the zoo's size (a gauge the zoo keeps: no message), and the
//              weights when the edge must swap;
//   answer     the reply goes out and the window is recorded;
//   train      then the training request (from the served model; with
//              --train-windows, the camera's earlier windows' frames too)
//              goes to the GPU owner; the reply never waits for it
//              (camera.cpp handles its result).
//
// A failure before the safety check goes back to the edge as an error; from
// the safety check on, every failure ends in the edge keeping its model.

#include "actors/camera_state.hpp"

#include "actors/zoo_policy.hpp"
#include "store/store.hpp"
#include "common/log.hpp"
#include "common/util.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <memory>

namespace recl {

namespace {

// -- one window's journey ------------------------------------------------------
//
// begin -> (replay clock) await the previous job -> label -> check
// (selection and safety check) -> decide -> attach weights -> answer ->
// submit training. Each step asks one actor and hands the journey to the
// next. A failure before the check goes back to the edge as an error; from
// the check on, every failure ends in the edge keeping its model (`keep`).

/// Which stage a window is in, counted in the node's window_stages (what
/// /metrics shows); it leaves the count when answered or dropped.
struct stage_mark {
  std::shared_ptr<window_stages> counts;
  window_stage at = window_stage::count; ///< none

  void enter(window_stage x) {
    leave();
    if (counts) {
      counts->n[static_cast<size_t>(x)] += 1;
      at = x;
    }
  }
  void leave() {
    if (counts && at != window_stage::count)
      counts->n[static_cast<size_t>(at)] -= 1;
    at = window_stage::count;
  }
  ~stage_mark() { leave(); }
};

/// What the steps of one window have learned so far.
struct journey {
  caf::typed_response_promise<decision> rp;
  stage_mark stage;
  labelled_window lw;
  double t_check = 0; ///< selection and safety check started (now_ms)
  check_result c;     ///< the candidates and their scores
  decision d;
  std::string start; ///< the model the window's training job starts from
};

using journey_ptr = std::shared_ptr<journey>;

void check(camera_self self, journey_ptr j);
void decide(camera_self self, journey_ptr j);
void attach_weights(camera_self self, journey_ptr j);
void answer(camera_self self, journey_ptr j, bool checked = true);
void submit_training(camera_self self, journey_ptr j);

/// The model the edge runs, as a candidate's id ("base" when it runs none).
std::string edge_model(const journey& j) {
  auto& m = j.lw.source.model_id;
  return m.empty() ? "base" : m;
}

/// The one fallback: the edge keeps the model it runs, and a job that
/// trains from the served model starts from that one.
void keep(const camera_state& st, journey& j) {
  j.d.swap = false;
  j.d.model_id = j.lw.source.model_id;
  j.d.source = "kept";
  j.d.accuracy = j.d.current_accuracy;
  if (st.deps.train_from == train_start::served)
    j.start = edge_model(j);
}

/// Waits (replay clock) for the camera's previous job, then labels.
void begin(camera_self self, window w,
           caf::typed_response_promise<decision> rp) {
  auto& st = self->state;
  auto j = std::make_shared<journey>();
  j->rp = std::move(rp);
  j->stage.counts = st.deps.stages;
  j->stage.enter(window_stage::budget);
  auto fail = [=](caf::error& e) {
    log::warning("camera", self->state.id, ": ", describe(e));
    j->stage.leave();
    j->rp.deliver(std::move(e));
  };
  auto model = w.model_id;
  auto index = w.index;
  // The window (its frames) moves along, never copied.
  auto go = [=, w = std::move(w)]() mutable {
    self
      ->request(self->state.deps.gpu_owner, caf::infinite, await_atom_v,
                self->state.id)
      .then(
        [=, w = std::move(w)](bool) mutable {
          j->stage.enter(window_stage::label);
          self
            ->request(self->state.deps.labeler, caf::infinite, label_atom_v,
                      std::move(w))
            .then(
              [=](labelled_window& lw) {
                j->lw = std::move(lw);
                check(self, j);
              },
              fail);
        },
        fail);
  };
  // An edge that polls for steps can name a model of a job still running
  // (its id is the job's, its weights not yet in the store): the safety
  // check could not score it, so the window waits for the job to end.
  for (auto t : st.training)
    if (model == retrained_id(st.id, t)) {
      log::info("camera", st.id, ": window ", index, " runs a step of ", model,
                ", whose job still trains; its check waits for the job to "
                "end");
      st.on_job_end.emplace(
        t, [go = std::move(go)](const std::vector<streamed_step>&) mutable {
          go();
        });
      return;
    }
  go();
}

/// Selection and the safety check: the selector's proposals and the
/// camera's own candidates, scored by the GPU owner in one request.
void check(camera_self self, journey_ptr j) {
  auto& st = self->state;
  std::vector<std::string> own;
  for (auto& x : {j->lw.source.model_id, st.info.last_retrained_id})
    if (!x.empty())
      own.push_back(x);
  if (st.deps.generalist)
    own.push_back("generalist");
  if (j->lw.source.model_id.empty())
    own.push_back("base");
  j->d = st.make_decision(j->lw);
  j->t_check = now_ms();
  j->stage.enter(window_stage::check);
  self
    ->request(st.deps.selector, caf::infinite, check_atom_v, j->lw,
              st.deps.top_k, std::move(own))
    .then(
      [=](check_result& c) {
        j->c = std::move(c);
        decide(self, j);
      },
      [=](caf::error& e) {
        // No models (or they failed): keep, and nothing to train from.
        log::debug("camera", self->state.id, ": safety check: ", describe(e));
        answer(self, j, false);
      });
}

/// Applies the selection rule (camera_deps::selection) to the scores.
void decide(camera_self self, journey_ptr j) {
  auto& st = self->state;
  auto& d = j->d;
  auto& s = j->c;
  auto& ids = s.ids;
  // The check's own time, and its wait for the selector and the device.
  d.time.select_ms = s.select_ms;
  d.time.check_ms = std::max(0.0, now_ms() - j->t_check - s.select_ms);
  d.compare = s.compare;
  d.candidates = static_cast<uint32_t>(ids.size());
  auto current = j->lw.source.model_id;
  d.current_accuracy = s.score_of(current);
  d.accuracy = d.current_accuracy;
  j->start = edge_model(*j);
  judge_probation(self, ids, s.all);
  auto best = st.deps.selection == selection_rule::lineage ? lineage_choice(
                ids, s.all, s.even, s.odd, current, st.info.last_retrained_id)
              : st.deps.selection == selection_rule::confirm
                ? safety_choice(ids, s.even, s.odd, current)
                : safety_choice(ids, s.all, current);
  if (best < ids.size()) {
    d.swap = true;
    d.model_id = ids[best];
    d.accuracy = s.all[best];
    d.source = st.source_of(ids[best]);
    j->start = ids[best];
  }
  if (st.deps.train_from == train_start::line) {
    auto line = line_of(ids, s.all, current, st.info.last_retrained_id);
    if (line < ids.size())
      j->start = ids[line];
  }
  attach_weights(self, j);
}

/// The served model as the edge asked for it: the whole archive, or an
/// update against the model the edge holds (schema/model_update.hpp).
auto fetch_served(camera_self self, const journey_ptr& j) {
  auto& st = self->state;
  auto& w = j->lw.source;
  if (w.updates == update_form::archive)
    return self->request(st.deps.gpu_owner, caf::infinite, fetch_atom_v,
                         j->d.model_id);
  return self->request(st.deps.gpu_owner, caf::infinite, fetch_atom_v,
                       j->d.model_id, w.model_id, w.model_hash,
                       w.updates == update_form::delta_half);
}

/// The zoo's size for the edge's display; the weights when swapping.
void attach_weights(camera_self self, journey_ptr j) {
  j->stage.enter(window_stage::reply);
  if (auto& n = self->state.deps.zoo_size)
    j->d.zoo_size = static_cast<uint32_t>(n->load());
  if (!j->d.swap) {
    answer(self, j);
    return;
  }
  auto t0 = now_ms();
  fetch_served(self, j).then(
    [=](std::string& bytes) {
      auto& st = self->state;
      auto& d = j->d;
      d.time.fetch_ms = now_ms() - t0;
      // The reply must fit one RPC message (labels and all): a model too
      // large for it is not served.
      uint64_t labels = 0;
      for (auto& l : d.labels)
        labels += 64 + 32 * l.boxes.size();
      if (bytes.size() + labels + (64u << 10) > st.deps.max_reply_bytes) {
        log::warning("camera", st.id, ": ", d.model_id, " (",
                     human_bytes(bytes.size()),
                     ") does not fit the RPC message limit (",
                     human_bytes(st.deps.max_reply_bytes), "); keeping");
        keep(st, *j);
      } else if (j->lw.source.updates == update_form::archive) {
        d.weights.assign(bytes.begin(), bytes.end());
      } else {
        d.update.assign(bytes.begin(), bytes.end());
      }
      answer(self, j);
    },
    [=](caf::error& e) {
      log::warning("camera", self->state.id, ": cannot fetch ", j->d.model_id,
                   ": ", describe(e), "; keeping");
      keep(self->state, *j);
      answer(self, j);
    });
}

/// Replies to the edge and records the window; a checked window (the safety
/// check ran) also counts as a selection for the zoo and goes to training.
void answer(camera_self self, journey_ptr j, bool checked) {
  auto& st = self->state;
  auto& d = j->d;
  d.time.total_ms = now_ms() - j->lw.source.arrived_ms;
  if (auto why = st.account(j->lw, d); !why.empty()) {
    d.saved = false;
    d.note = "the server could not record this window: " + why;
  }
  self->send(st.deps.admin, camstats_atom_v, st.info);
  if (checked)
    self->send(st.deps.zoo, selected_atom_v,
               d.model_id.empty() ? std::string{"edge"} : d.model_id);
  log::info("camera", st.id, ": window ", d.window, ", ", j->lw.labels.size(),
            " frames, teacher ", static_cast<int>(j->lw.teacher_ms), " ms",
            j->lw.labeler.empty() ? "" : " on " + j->lw.labeler, ", ",
            d.candidates, " candidates, ",
            d.swap ? "swap to " + d.model_id + " (" + d.source + ")"
                   : std::string{"keep"},
            ", accuracy ", d.accuracy, ", reply ",
            static_cast<int>(d.time.total_ms), " ms");
  j->stage.leave();
  j->rp.deliver(d);
  if (checked)
    submit_training(self, j);
}

/// Training starts after the reply, from the model now served.
void submit_training(camera_self self, journey_ptr j) {
  auto& st = self->state;
  if (!st.deps.retrain)
    return;
  // A job ends by writing its model: none starts while writes fail.
  if (!st.deps.db->writable()) {
    log::info("camera", st.id, ": window ", j->d.window,
              " not retrained: the store is not writable");
    return;
  }
  // One-time adaptation: only a camera's first N windows (ever) train.
  if (st.deps.retrain_windows > 0 && st.info.windows > st.deps.retrain_windows)
    return;
  st.pending += 1;
  auto w = j->lw.source.index;
  st.training.insert(w);
  auto done = [=](std::vector<streamed_step> steps) {
    auto& st = self->state;
    on_job_ended(self, w, std::move(steps));
    st.pending -= 1;
    if (st.closing && st.pending == 0)
      self->quit();
  };
  self
    ->request(st.deps.gpu_owner, caf::infinite, train_atom_v,
              st.for_training(j->lw), j->start, j->c.ids)
    .then(
      [=](training_result& r) {
        on_trained(self, j->lw, r);
        done(std::move(r.steps));
      },
      [=](caf::error& e) {
        log::warning("camera", self->state.id,
                     ": retraining failed: ", describe(e));
        done({});
      });
  // The request carries the decoded frames to the GPU owner; the journey,
  // waiting for the job, needs only the window's bytes and labels.
  j->lw.images.reset();
}
} // namespace

void begin_window(camera_self self, window w,
                  caf::typed_response_promise<decision> rp) {
  begin(self, std::move(w), std::move(rp));
}

} // namespace recl
