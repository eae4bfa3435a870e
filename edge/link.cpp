#include "edge/link.hpp"

#include "common/util.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace recl {

namespace {

/// Refusals no retry can fix.
bool fatal(const std::string& why) {
  for (auto prefix : {"unauthorized", "forbidden", "bad_camera_id"})
    if (why.rfind(prefix, 0) == 0)
      return true;
  return why.rfind("session_closed", 0) == 0
         && why.find("registered again") != std::string::npos;
}

/// Failures of the connection rather than of the window.
bool connection_lost(const std::string& why) {
  return why.rfind("disconnected", 0) == 0 || why.rfind("shutting_down", 0) == 0
         || why.rfind("session_closed", 0) == 0;
}

} // namespace

server_link::server_link(settings s,
                         std::function<void(const std::string&)> say)
  : s_(std::move(s)), say_(std::move(say)) {}

bool server_link::connect() {
  if (c_)
    return true;
  if (now_ms() < next_try_ms_)
    return false;
  try {
    auto c = std::make_unique<client>(s_.server, 256ull << 20, s_.tls);
    limits_ = c->register_camera(s_.camera, s_.token);
    c_ = std::move(c);
  } catch (const rpc_error& e) {
    if (fatal(e.what()))
      throw fatal_refusal(e.what());
    broken(e.what());
    return false;
  }
  say_(std::string{ever_connected_ ? "reconnected" : "connected"} + " to "
       + s_.server);
  ever_connected_ = true;
  backoff_s_ = 1;
  return true;
}

void server_link::broken(const std::string& why) {
  c_.reset();
  next_try_ms_ = now_ms() + backoff_s_ * 1000;
  say_("server unreachable (" + why + "); trying again in "
       + std::to_string(static_cast<int>(backoff_s_)) + " s");
  backoff_s_ = std::min(s_.max_backoff_s, backoff_s_ * 2);
}

std::optional<window_reply> server_link::send(uint32_t index,
                                              const std::vector<frame>& frames,
                                              float fps,
                                              const held_model& model) {
  for (int attempt = 1; connect(); ++attempt) {
    try {
      return c_->update(index, frames, fps, model);
    } catch (const rpc_error& e) {
      std::string why = e.what();
      if (fatal(why))
        throw fatal_refusal(why);
      auto wait = retry_after_s(e);
      if (wait >= 0 && attempt < 10) {
        say_("window " + std::to_string(index)
             + ": server busy, sending it again in "
             + std::to_string(static_cast<int>(wait)) + " s");
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        continue;
      }
      if (connection_lost(why))
        broken(why);
      else
        say_("window " + std::to_string(index) + ": " + why);
      break;
    }
  }
  ++dropped_;
  say_("window " + std::to_string(index) + " dropped ("
       + std::to_string(dropped_) + " so far)");
  return std::nullopt;
}

std::vector<streamed_step> server_link::streamed(uint32_t index) {
  if (!c_ || no_streaming_)
    return {};
  try {
    return c_->streamed(index, false);
  } catch (const rpc_error& e) {
    std::string why = e.what();
    if (connection_lost(why)) {
      broken(why);
    } else {
      no_streaming_ = true;
      say_("the server does not stream models (" + why + ")");
    }
    return {};
  }
}

void server_link::close() {
  if (!c_)
    return;
  try {
    c_->close_session();
  } catch (const rpc_error&) {
    // Gone already: nothing to close.
  }
  c_.reset();
}

} // namespace recl
