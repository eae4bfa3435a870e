// The camera actor: one per edge session. Each window: label -> top-K ->
// safety check -> reply; the reply never waits for training. Its record
// (windows served, current and last-retrained model) is persisted after each
// window so a restarted daemon resumes it.

#include "actors/actors.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "store/store.hpp"

#include <caf/all.hpp>

namespace recl {

namespace {

struct camera_state {
  static inline const char* name = "camera";
  std::string id;
  camera_deps deps;
  camera_info info;

  /// Persists the record; a failure is logged, not fatal to the reply.
  void persist() {
    try {
      deps.db->put(family::cameras, id, info.encode());
    } catch (const std::exception& e) {
      log::error("camera", id, ": cannot persist its record: ", e.what());
    }
  }

  decision make_decision(const labelled_window& lw, double select_ms) {
    decision d;
    d.window = lw.source.index;
    d.swap = false; // nothing better than the edge's model is known yet
    d.model_id = lw.source.model_id;
    d.labels = lw.labels;
    d.next_sample_fps = lw.source.sample_fps;
    d.time.queue_ms = lw.queue_ms;
    d.time.decode_ms = lw.decode_ms;
    d.time.teacher_ms = lw.teacher_ms;
    d.time.select_ms = select_ms;
    d.time.total_ms = now_ms() - lw.source.arrived_ms;
    d.teacher = deps.teacher;
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

camera_actor::behavior_type
camera(camera_actor::stateful_pointer<camera_state> self, std::string id,
       camera_deps deps) {
  auto& st = self->state;
  st.id = id;
  st.deps = std::move(deps);
  st.info.id = id;
  try {
    if (auto rec = st.deps.db->get(family::cameras, id))
      st.info = camera_info::decode(id, *rec);
  } catch (const std::exception& e) {
    log::error("camera", id, ": cannot read its record: ", e.what());
  }
  st.info.connected = true;
  log::info("camera", id, ": session opened (", st.info.windows,
            " windows served before)");
  return {
    [=](update_atom, window& w) -> caf::result<decision> {
      if (w.frames.empty())
        return caf::make_error(ec::bad_window,
                               "camera " + w.camera + ", window "
                                 + std::to_string(w.index) + ": no frames");
      auto rp = self->make_response_promise<decision>();
      auto& st = self->state;
      self->request(st.deps.labeler, caf::infinite, label_atom_v, std::move(w))
        .then(
          [=](labelled_window& lw) mutable {
            auto t_select = now_ms();
            auto& st = self->state;
            self
              ->request(st.deps.selector, caf::infinite, select_atom_v, lw,
                        st.deps.top_k)
              .then(
                [=](std::vector<std::string>& top_k) mutable {
                  auto& st = self->state;
                  // The safety check needs expert models (learning core);
                  // until then every candidate list leads to "keep".
                  auto d = st.make_decision(lw, now_ms() - t_select);
                  if (!top_k.empty())
                    log::debug("camera", st.id, ": ", top_k.size(),
                               " candidates, no evaluator yet: keep");
                  st.account(lw, d);
                  self->send(st.deps.admin, camstats_atom_v, st.info);
                  log::info("camera", st.id, ": window ", d.window, ", ",
                            lw.labels.size(), " frames, teacher ",
                            static_cast<int>(lw.teacher_ms), " ms, reply ",
                            static_cast<int>(d.time.total_ms), " ms");
                  rp.deliver(std::move(d));
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
      return rp;
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
