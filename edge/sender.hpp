#pragma once
// Sends an edge's windows on a thread of its own (issue 15), so that the
// edge's inference never waits for the server: the edge hands a window over
// and goes on with its frames; replies are picked up between frames. The
// thread owns the server_link (its client's event loop lives there). At
// most one window is in flight and `max_queued` wait; one more is dropped
// and counted.

#include "edge/link.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace recl {

/// Which of a job's steps an edge that already ran steps up to held-out
/// accuracy `best` has not run yet, in order. Each step beats the ones
/// before it, so these are the steps that beat `best`; this also finds the
/// step that replaced the last one of a full list.
std::vector<size_t> steps_after(const std::vector<streamed_step>& steps,
                                float best);

class window_sender {
public:
  /// A window the server answered, or (`step` > 0) the step-th model its
  /// job streamed, as a reply that serves it.
  struct answered {
    uint32_t index = 0;
    size_t frames = 0;
    window_reply reply;
    size_t step = 0;
    float at = 0; ///< a step's moment, as a share of the job's budget
  };

  /// With `poll_s` > 0, asks every `poll_s` seconds, while no window is
  /// in flight, for the models the last answered window's job streamed.
  window_sender(server_link::settings s,
                std::function<void(const std::string&)> say,
                size_t max_queued = 1, double poll_s = 0);
  /// Sends what is queued, closes the session and ends the thread.
  ~window_sender();

  window_sender(const window_sender&) = delete;
  window_sender& operator=(const window_sender&) = delete;

  /// Queues window `index`; false when the queue is full and it is dropped.
  /// Rethrows a fatal_refusal the link met.
  bool submit(uint32_t index, std::vector<frame> frames, float fps,
              held_model model);

  /// The windows answered since the last call, oldest first. Rethrows a
  /// fatal_refusal the link met.
  std::vector<answered> take();

  /// Blocks until nothing is queued or in flight; rethrows as take().
  void drain();

  /// What the server takes in one window (defaults until connected).
  server_limits limits() const;

  /// Windows dropped: the queue was full, or the server was away.
  uint64_t dropped() const;

private:
  struct job {
    uint32_t index;
    std::vector<frame> frames;
    float fps;
    held_model model;
  };

  void run();
  void poll_steps(std::unique_lock<std::mutex>& lock);
  void rethrow_locked();

  server_link link_;
  size_t max_queued_;
  double poll_s_;
  std::optional<uint32_t> polled_; ///< the last answered window
  size_t steps_taken_ = 0;         ///< of its job's steps
  float best_taken_ = -1; ///< their best held-out accuracy (steps_after)
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  std::vector<answered> done_;
  std::exception_ptr fatal_;
  server_limits limits_;
  uint64_t dropped_queue_ = 0, dropped_link_ = 0;
  bool busy_ = false, stop_ = false;
  std::thread thread_; // last: starts once the rest is ready
};

} // namespace recl
