#include "actors/actors.hpp"

#include "common/record.hpp"
#include "common/util.hpp"

#include <caf/actor_system_config.hpp>
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

namespace {

void write(record_writer& w, const frame_labels& x) {
  w.u32(static_cast<uint32_t>(x.width));
  w.u32(static_cast<uint32_t>(x.height));
  w.u32(static_cast<uint32_t>(x.boxes.size()));
  for (auto& b : x.boxes) {
    for (float v : {b.x0, b.y0, b.x1, b.y1, b.score})
      w.f32(v);
    w.u32(static_cast<uint32_t>(b.cls));
  }
}

frame_labels read_labels(record_reader& r) {
  frame_labels x;
  x.width = static_cast<int32_t>(r.u32());
  x.height = static_cast<int32_t>(r.u32());
  x.boxes.resize(r.count(24));
  for (auto& b : x.boxes) {
    for (float* v : {&b.x0, &b.y0, &b.x1, &b.y1, &b.score})
      *v = r.f32();
    b.cls = static_cast<int32_t>(r.u32());
  }
  return x;
}

} // namespace

std::string gating_sample::encode() const {
  record_writer w{"GS01"};
  w.bytes(jpeg);
  write(w, labels);
  w.u32(static_cast<uint32_t>(experts.size()));
  for (auto& e : experts)
    w.str(e);
  w.u32(static_cast<uint32_t>(scores.size()));
  for (float x : scores)
    w.f32(x);
  return w.out();
}

gating_sample gating_sample::decode(const std::string& bytes) {
  record_reader r{bytes, "GS01"};
  gating_sample x;
  x.jpeg = r.bytes();
  x.labels = read_labels(r);
  x.experts.resize(r.count(4));
  for (auto& e : x.experts)
    e = r.str();
  x.scores.resize(r.count(4));
  for (auto& v : x.scores)
    v = r.f32();
  r.done();
  return x;
}

std::string encode(const candidate& x) {
  record_writer w{"QC01"};
  w.str(x.model_id);
  auto& i = x.info;
  w.str(i.id);
  w.str(i.origin_camera);
  w.u32(i.origin_window);
  w.u64(static_cast<uint64_t>(i.admitted_unix_ms));
  w.u64(i.weight_bytes);
  w.f32(i.accuracy);
  w.u64(i.admitted_seq);
  w.u32(i.chosen);
  w.f32(x.best_rival);
  w.u32(static_cast<uint32_t>(x.frames.size()));
  for (auto& f : x.frames) {
    w.bytes(f.bytes);
    w.u64(f.ts_ms);
  }
  w.u32(static_cast<uint32_t>(x.labels.size()));
  for (auto& l : x.labels)
    write(w, l);
  return w.out();
}

candidate decode_candidate(const std::string& bytes) {
  record_reader r{bytes, "QC01"};
  candidate x;
  x.model_id = r.str();
  auto& i = x.info;
  i.id = r.str();
  i.origin_camera = r.str();
  i.origin_window = r.u32();
  i.admitted_unix_ms = static_cast<int64_t>(r.u64());
  i.weight_bytes = r.u64();
  i.accuracy = r.f32();
  i.admitted_seq = r.u64();
  i.chosen = r.u32();
  x.best_rival = r.f32();
  x.frames.resize(r.count(12));
  for (auto& f : x.frames) {
    f.bytes = r.bytes();
    f.ts_ms = r.u64();
  }
  x.labels.resize(r.count(12));
  for (auto& l : x.labels)
    l = read_labels(r);
  r.done();
  return x;
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
