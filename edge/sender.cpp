#include "edge/sender.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

namespace recl {

window_sender::window_sender(server_link::settings s,
                             std::function<void(const std::string&)> say,
                             size_t max_queued, double poll_s)
  : link_(std::move(s), std::move(say)), max_queued_(max_queued),
    poll_s_(poll_s), thread_([this] { run(); }) {}

window_sender::~window_sender() {
  {
    std::lock_guard<std::mutex> lock{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void window_sender::rethrow_locked() {
  if (fatal_)
    std::rethrow_exception(fatal_);
}

bool window_sender::submit(uint32_t index, std::vector<frame> frames, float fps,
                           held_model model) {
  std::lock_guard<std::mutex> lock{mtx_};
  rethrow_locked();
  if (queue_.size() >= max_queued_) {
    ++dropped_queue_;
    return false;
  }
  queue_.push_back({index, std::move(frames), fps, std::move(model)});
  cv_.notify_all();
  return true;
}

std::vector<window_sender::answered> window_sender::take() {
  std::lock_guard<std::mutex> lock{mtx_};
  rethrow_locked();
  return std::exchange(done_, {});
}

void window_sender::drain() {
  std::unique_lock<std::mutex> lock{mtx_};
  cv_.wait(lock, [&] { return fatal_ || (queue_.empty() && !busy_); });
  rethrow_locked();
}

server_limits window_sender::limits() const {
  std::lock_guard<std::mutex> lock{mtx_};
  return limits_;
}

uint64_t window_sender::dropped() const {
  std::lock_guard<std::mutex> lock{mtx_};
  return dropped_queue_ + dropped_link_;
}

std::vector<size_t> steps_after(const std::vector<streamed_step>& steps,
                                float best) {
  std::vector<size_t> out;
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].accuracy > best) {
      out.push_back(i);
      best = steps[i].accuracy;
    }
  return out;
}

/// New steps of the last answered window's job, as replies that serve them.
void window_sender::poll_steps(std::unique_lock<std::mutex>& lock) {
  auto w = *polled_;
  lock.unlock();
  auto steps = link_.streamed(w);
  lock.lock();
  if (polled_ != w)
    return;
  for (auto i : steps_after(steps, best_taken_)) {
    best_taken_ = steps[i].accuracy;
    answered a;
    a.index = w;
    a.step = ++steps_taken_;
    a.at = steps[i].at;
    a.reply.swap = true;
    a.reply.model_id = steps[i].model_id;
    a.reply.source = "streamed";
    a.reply.accuracy = steps[i].accuracy;
    a.reply.weights.assign(steps[i].weights.begin(), steps[i].weights.end());
    done_.push_back(std::move(a));
  }
}

void window_sender::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    auto ready = [&] { return stop_ || !queue_.empty(); };
    if (poll_s_ > 0 && polled_) {
      // Between windows: the last one's job may have news.
      if (!cv_.wait_for(lock, std::chrono::duration<double>(poll_s_), ready)) {
        poll_steps(lock);
        continue;
      }
    }
    cv_.wait(lock, ready);
    if (queue_.empty() || fatal_)
      break; // stopping, everything sent
    auto j = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    std::optional<window_reply> reply;
    std::exception_ptr failed;
    try {
      reply = link_.send(j.index, j.frames, j.fps, j.model);
    } catch (const fatal_refusal&) {
      failed = std::current_exception();
    }
    lock.lock();
    busy_ = false;
    limits_ = link_.limits();
    dropped_link_ = link_.dropped();
    if (reply) {
      done_.push_back({j.index, j.frames.size(), std::move(*reply)});
      polled_ = j.index;
      steps_taken_ = 0;
      best_taken_ = -1;
    }
    if (failed) {
      fatal_ = failed;
      queue_.clear();
    }
    cv_.notify_all();
  }
  lock.unlock();
  link_.close();
}

} // namespace recl
