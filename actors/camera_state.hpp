#pragma once
// The camera actor's state, shared by its two files: camera.cpp (the actor,
// its retrained models and their admission) and window.cpp (one window's
// journey from frames to reply).

#include "actors/actors.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace recl {

struct camera_state {
  static inline const char* name = "camera";
  std::string id;
  camera_deps deps;
  camera_info info;
  uint32_t pending = 0; // training requests not answered yet
  bool closing = false; // the session ended; quit when pending is 0
  /// --admission next: the last retrained model, waiting for the next
  /// window's safety check to say whether it is promising.
  std::optional<candidate> on_probation;
  /// --train-windows N: the camera's last N-1 windows that went to
  /// training (frames and labels, not decoded), oldest first.
  std::deque<labelled_window> recent;
  /// --stream-models: windows whose job has not ended, the steps of the
  /// last jobs that did (by window; kept only once the edge has asked for
  /// steps, since each is a model), and what waits for a job to end (an
  /// edge asking for its steps, a window naming one of them), called with
  /// its steps.
  std::set<uint32_t> training;
  bool edge_fetches = false; ///< the edge asked for steps in this session
  std::map<uint32_t, std::vector<streamed_step>> streamed;
  std::multimap<uint32_t,
                std::function<void(const std::vector<streamed_step>&)>>
    on_job_end;

  /// The training request for window `lw`: it, after the frames of the
  /// windows in `recent`; then remembers it there.
  labelled_window for_training(const labelled_window& lw);

  /// Writes the camera's record and, in the same batch, deletes the models
  /// in `drop`; "" or why it failed (logged, not fatal to the reply).
  std::string persist(const std::vector<std::string>& drop = {});

  /// `was` (an id the record named until now) if it is one of the camera's
  /// own retrained models and nothing names it any more: neither the edge's
  /// model, nor the last retrained one, nor the model on probation; else
  /// nothing. It is deleted with the record that stops naming it, so that
  /// the store keeps at most two retrained models per camera.
  std::vector<std::string> superseded(const std::string& was) const;

  /// What kind of model an id is, as the edge is told.
  std::string source_of(const std::string& model) const;

  /// The next window's sampling rate (AMS's rule on label drift).
  float next_rate(const labelled_window& lw) const;

  /// The answer "keep your model", with the window's labels and timing.
  decision make_decision(const labelled_window& lw) const;

  /// Counts a served window in the camera's record and persists it; "" or
  /// why persisting failed.
  std::string account(const labelled_window& lw, const decision& d);
};

using camera_self = camera_actor::stateful_pointer<camera_state>;

/// Takes one window from the edge to its reply, then to training
/// (window.cpp). Delivers the decision, or the error, to `rp`.
void begin_window(camera_self self, window w,
                  caf::typed_response_promise<decision> rp);

/// --admission next: judges the model on probation on this window's
/// candidates' scores (camera.cpp).
void judge_probation(camera_self self, const std::vector<std::string>& ids,
                     const std::vector<float>& scores);

/// Window `w`'s job ended (or failed): keeps its streamed steps for the
/// edge and answers those waiting for them (camera.cpp).
void on_job_ended(camera_self self, uint32_t w,
                  std::vector<streamed_step> steps);

/// A job ended: its model becomes the camera's last retrained model and, if
/// promising, a candidate for the zoo (camera.cpp).
void on_trained(camera_self self, const labelled_window& lw,
                training_result& r);

} // namespace recl
