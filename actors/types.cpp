#include "actors/actors.hpp"

#include "common/util.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <sstream>

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

/// Calls `f(key, value)` for every `key=value` line of `text`. A value `f`
/// cannot parse (it throws) leaves its field at the default: the rest of a
/// damaged record still counts.
template <class F>
void read_fields(const std::string& text, F f) {
  for (auto& line : split(text, '\n')) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    try {
      f(line.substr(0, eq), line.substr(eq + 1));
    } catch (const std::exception&) {
    }
  }
}

std::string encode(const camera_info& x) {
  std::ostringstream out;
  out << "windows=" << x.windows << "\n"
      << "frames_labelled=" << x.frames_labelled << "\n"
      << "last_reply_ms=" << x.last_reply_ms << "\n"
      << "last_reply_unix_ms=" << x.last_reply_unix_ms << "\n"
      << "model_id=" << x.model_id << "\n"
      << "last_retrained_id=" << x.last_retrained_id << "\n";
  return out.str();
}

camera_info decode_camera_info(const std::string& id, const std::string& text) {
  camera_info x;
  x.id = id;
  read_fields(text, [&](const std::string& key, const std::string& val) {
    if (key == "windows")
      x.windows = std::stoull(val);
    else if (key == "frames_labelled")
      x.frames_labelled = std::stoull(val);
    else if (key == "last_reply_ms")
      x.last_reply_ms = std::stod(val);
    else if (key == "last_reply_unix_ms")
      x.last_reply_unix_ms = std::stoll(val);
    else if (key == "model_id")
      x.model_id = val;
    else if (key == "last_retrained_id")
      x.last_retrained_id = val;
  });
  return x;
}

std::string encode(const expert_info& x) {
  std::ostringstream out;
  out.precision(9);
  out << "origin_camera=" << x.origin_camera << "\n"
      << "origin_window=" << x.origin_window << "\n"
      << "admitted_unix_ms=" << x.admitted_unix_ms << "\n"
      << "weight_bytes=" << x.weight_bytes << "\n"
      << "accuracy=" << x.accuracy << "\n"
      << "admitted_seq=" << x.admitted_seq << "\n";
  return out.str();
}

expert_info decode_expert_info(const std::string& id, const std::string& text) {
  expert_info x;
  x.id = id;
  read_fields(text, [&](const std::string& key, const std::string& val) {
    if (key == "origin_camera")
      x.origin_camera = val;
    else if (key == "origin_window")
      x.origin_window = static_cast<uint32_t>(std::stoul(val));
    else if (key == "admitted_unix_ms")
      x.admitted_unix_ms = std::stoll(val);
    else if (key == "weight_bytes")
      x.weight_bytes = std::stoull(val);
    else if (key == "accuracy")
      x.accuracy = std::stof(val);
    else if (key == "admitted_seq")
      x.admitted_seq = std::stoull(val);
  });
  return x;
}

template <class T>
std::string to_bytes(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = x;
  if (auto err = sink(copy))
    throw std::runtime_error("cannot serialize: " + caf::to_string(err));
  return std::string{buf.begin(), buf.end()};
}

template <class T>
T from_bytes(const std::string& bytes) {
  T x;
  caf::binary_deserializer src{nullptr, bytes.data(), bytes.size()};
  if (auto err = src(x))
    throw std::runtime_error("damaged record: " + caf::to_string(err));
  if (src.remaining() != 0)
    throw std::runtime_error("damaged record: trailing bytes");
  return x;
}

template std::string to_bytes<candidate>(const candidate&);
template candidate from_bytes<candidate>(const std::string&);
template std::string to_bytes<gating_sample>(const gating_sample&);
template gating_sample from_bytes<gating_sample>(const std::string&);

std::string gating_sample::encode() const {
  return to_bytes(*this);
}

gating_sample gating_sample::decode(const std::string& bytes) {
  return from_bytes<gating_sample>(bytes);
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
