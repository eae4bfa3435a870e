#include "actors/records.hpp"

#include "common/record.hpp"
#include "common/util.hpp"

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace recl {

namespace {

/// True when `data` is a record of kind and version `tag`.
bool tagged(std::string_view data, std::string_view tag) {
  return data.substr(0, tag.size()) == tag;
}

// -- the forms written before store schema 2 -----------------------------------

/// Calls `f(key, value)` for every `key=value` line of a text record. A value
/// `f` cannot parse (it throws) leaves its field at the default.
template <class F>
void read_fields(std::string_view text, F f) {
  for (auto& line : split(std::string{text}, '\n')) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    try {
      f(line.substr(0, eq), line.substr(eq + 1));
    } catch (const std::exception&) {
    }
  }
}

camera_info camera_from_text(std::string_view text) {
  camera_info x;
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

expert_info expert_from_text(std::string_view text) {
  expert_info x;
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

/// "role cameras created_unix_ms salt hash"
credential_record credential_from_text(std::string_view text) {
  credential_record x;
  std::istringstream fields{std::string{text}};
  if (!(fields >> x.role >> x.cameras >> x.created_unix_ms >> x.salt >> x.hash))
    throw std::runtime_error("damaged record: not a credential");
  return x;
}

// -- shared parts ----------------------------------------------------------------

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

void write(record_writer& w, const std::vector<std::string>& xs) {
  w.u32(static_cast<uint32_t>(xs.size()));
  for (auto& x : xs)
    w.str(x);
}

std::vector<std::string> read_strings(record_reader& r) {
  std::vector<std::string> out(r.count(4));
  for (auto& x : out)
    x = r.str();
  return out;
}

/// The expert description's fields, shared by its own record and by a
/// queued candidate's.
void write_fields(record_writer& w, const expert_info& i) {
  w.str(i.origin_camera);
  w.u32(i.origin_window);
  w.u64(static_cast<uint64_t>(i.admitted_unix_ms));
  w.u64(i.weight_bytes);
  w.f32(i.accuracy);
  w.u64(i.admitted_seq);
}

void read_fields(record_reader& r, expert_info& i) {
  i.origin_camera = r.str();
  i.origin_window = r.u32();
  i.admitted_unix_ms = static_cast<int64_t>(r.u64());
  i.weight_bytes = r.u64();
  i.accuracy = r.f32();
  i.admitted_seq = r.u64();
}

} // namespace

// -- cameras and experts ---------------------------------------------------------

std::string encode(const camera_info& x) {
  record_writer w{"CA01"};
  w.u64(x.windows);
  w.u64(x.frames_labelled);
  w.f64(x.last_reply_ms);
  w.u64(static_cast<uint64_t>(x.last_reply_unix_ms));
  w.str(x.model_id);
  w.str(x.last_retrained_id);
  return w.out();
}

camera_info decode_camera_info(const std::string& id, std::string_view data) {
  if (!tagged(data, "CA01")) {
    auto x = camera_from_text(data);
    x.id = id;
    return x;
  }
  record_reader r{data, "CA01"};
  camera_info x;
  x.id = id;
  x.windows = r.u64();
  x.frames_labelled = r.u64();
  x.last_reply_ms = r.f64();
  x.last_reply_unix_ms = static_cast<int64_t>(r.u64());
  x.model_id = r.str();
  x.last_retrained_id = r.str();
  r.done();
  return x;
}

std::string encode(const expert_info& x) {
  record_writer w{"EX01"};
  write_fields(w, x);
  return w.out();
}

expert_info decode_expert_info(const std::string& id, std::string_view data) {
  expert_info x;
  if (!tagged(data, "EX01")) {
    x = expert_from_text(data);
  } else {
    record_reader r{data, "EX01"};
    read_fields(r, x);
    r.done();
  }
  x.id = id;
  return x;
}

// -- the zoo's queue and the gating network's samples ----------------------------

std::string encode(const gating_sample& x) {
  record_writer w{"GS01"};
  w.bytes(x.jpeg);
  write(w, x.labels);
  write(w, x.experts);
  w.u32(static_cast<uint32_t>(x.scores.size()));
  for (float s : x.scores)
    w.f32(s);
  return w.out();
}

gating_sample decode_gating_sample(std::string_view data) {
  record_reader r{data, "GS01"};
  gating_sample x;
  x.jpeg = r.bytes();
  x.labels = read_labels(r);
  x.experts = read_strings(r);
  x.scores.resize(r.count(4));
  for (auto& v : x.scores)
    v = r.f32();
  r.done();
  return x;
}

std::string encode(const candidate& x) {
  record_writer w{"QC01"};
  w.str(x.model_id);
  w.str(x.info.id);
  write_fields(w, x.info);
  w.u32(x.info.chosen);
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

candidate decode_candidate(std::string_view data) {
  record_reader r{data, "QC01"};
  candidate x;
  x.model_id = r.str();
  x.info.id = r.str();
  read_fields(r, x.info);
  x.info.chosen = r.u32();
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

// -- the gating network's index and ODIN's centroids -----------------------------

std::string encode(const gating_index& x) {
  record_writer w{"GX01"};
  w.u64(x.version);
  write(w, x.experts);
  return w.out();
}

gating_index decode_gating_index(std::string_view data) {
  record_reader r{data, "GX01"};
  gating_index x;
  x.version = r.u64();
  x.experts = read_strings(r);
  r.done();
  return x;
}

gating_index gating_index_from_text(const std::string& ids,
                                    const std::string& version) {
  gating_index x;
  for (auto& id : split(ids, '\n'))
    if (!id.empty())
      x.experts.push_back(id);
  x.version = version.empty() ? 0 : std::stoull(version);
  return x;
}

std::string encode_centroid(const std::vector<float>& x) {
  record_writer w{"CE01"};
  w.u32(static_cast<uint32_t>(x.size()));
  for (float v : x)
    w.f32(v);
  return w.out();
}

std::vector<float> decode_centroid(std::string_view data) {
  if (!tagged(data, "CE01")) { // before schema 2: the floats, as in memory
    if (data.size() % sizeof(float) != 0)
      throw std::runtime_error("damaged record: not a centroid");
    std::vector<float> x(data.size() / sizeof(float));
    if (!x.empty())
      std::memcpy(x.data(), data.data(), data.size());
    return x;
  }
  record_reader r{data, "CE01"};
  std::vector<float> x(r.count(4));
  for (auto& v : x)
    v = r.f32();
  r.done();
  return x;
}

// -- credentials -----------------------------------------------------------------

std::string encode(const credential_record& x) {
  record_writer w{"CR01"};
  w.str(x.role);
  w.str(x.cameras);
  w.u64(static_cast<uint64_t>(x.created_unix_ms));
  w.str(x.salt);
  w.str(x.hash);
  return w.out();
}

credential_record decode_credential(std::string_view data) {
  if (!tagged(data, "CR01"))
    return credential_from_text(data);
  record_reader r{data, "CR01"};
  credential_record x;
  x.role = r.str();
  x.cameras = r.str();
  x.created_unix_ms = static_cast<int64_t>(r.u64());
  x.salt = r.str();
  x.hash = r.str();
  r.done();
  return x;
}

} // namespace recl
