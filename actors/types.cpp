#include "actors/actors.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/message.hpp>

namespace recl {

const char* to_string(ec x) {
  switch (x) {
  case ec::unspecified:
    return "unspecified";
  case ec::bad_frame:
    return "bad_frame";
  case ec::bad_window:
    return "bad_window";
  case ec::limit_exceeded:
    return "limit_exceeded";
  case ec::session_closed:
    return "session_closed";
  case ec::unauthorized:
    return "unauthorized";
  case ec::bad_camera_id:
    return "bad_camera_id";
  case ec::storage:
    return "storage";
  case ec::model:
    return "model";
  case ec::unknown_expert:
    return "unknown_expert";
  }
  return "unknown";
}

std::string describe(const caf::error& x) {
  if (!x)
    return "no error";
  if (x.category() != caf::atom("recl"))
    return caf::to_string(x);
  std::string out = to_string(static_cast<ec>(x.code()));
  const auto& ctx = x.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    out += ": " + ctx.get_as<std::string>(0);
  else if (!ctx.empty())
    out += ": " + caf::to_string(ctx);
  return out;
}

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::recl>();
  cfg.add_error_category(
    caf::atom("recl"),
    [](uint8_t code, caf::atom_value, const caf::message& ctx) -> std::string {
      auto out = std::string{"recl."} + to_string(static_cast<ec>(code));
      if (!ctx.empty())
        out += ": " + caf::to_string(ctx);
      return out;
    });
}

} // namespace recl
