#include "gpu/frames_file.hpp"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace recl {

namespace {

constexpr char magic[8] = {'R', 'E', 'C', 'L', 'F', 'R', 'M', '1'};

template <class T>
void put(std::ofstream& out, T x) {
  out.write(reinterpret_cast<const char*>(&x), sizeof(T));
}

template <class T>
T get(std::ifstream& in, const std::string& path) {
  T x{};
  if (!in.read(reinterpret_cast<char*>(&x), sizeof(T)))
    throw std::runtime_error(path + ": truncated");
  return x;
}

} // namespace

void write_frames_file(const std::string& path, const labelled_frames& x) {
  if (x.frames.size() != x.labels.size())
    throw std::invalid_argument("frames and labels differ in number");
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  if (!out)
    throw std::runtime_error("cannot write " + path);
  out.write(magic, sizeof(magic));
  put<uint32_t>(out, static_cast<uint32_t>(x.frames.size()));
  for (size_t i = 0; i < x.frames.size(); ++i) {
    auto& f = x.frames[i];
    put<int32_t>(out, f.width);
    put<int32_t>(out, f.height);
    out.write(reinterpret_cast<const char*>(f.bgr.data()),
              static_cast<std::streamsize>(f.bgr.size()));
    put<uint32_t>(out, static_cast<uint32_t>(x.labels[i].size()));
    for (auto& b : x.labels[i]) {
      for (float v : {b.x0, b.y0, b.x1, b.y1, b.score})
        put<float>(out, v);
      put<int32_t>(out, b.cls);
    }
  }
  if (!out)
    throw std::runtime_error("write failed on " + path);
}

labelled_frames read_frames_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  char m[8];
  if (!in.read(m, sizeof(m)) || std::memcmp(m, magic, sizeof(m)) != 0)
    throw std::runtime_error(path + ": not a recl frames file");
  labelled_frames out;
  auto n = get<uint32_t>(in, path);
  for (uint32_t i = 0; i < n; ++i) {
    image f;
    f.width = get<int32_t>(in, path);
    f.height = get<int32_t>(in, path);
    if (f.width <= 0 || f.height <= 0 || f.width > 16384 || f.height > 16384)
      throw std::runtime_error(path + ": frame " + std::to_string(i)
                               + " has an impossible size");
    f.bgr.resize(static_cast<size_t>(f.width) * f.height * 3);
    if (!in.read(reinterpret_cast<char*>(f.bgr.data()),
                 static_cast<std::streamsize>(f.bgr.size())))
      throw std::runtime_error(path + ": truncated");
    auto nb = get<uint32_t>(in, path);
    std::vector<box> boxes(nb);
    for (auto& b : boxes) {
      b.x0 = get<float>(in, path);
      b.y0 = get<float>(in, path);
      b.x1 = get<float>(in, path);
      b.y1 = get<float>(in, path);
      b.score = get<float>(in, path);
      b.cls = get<int32_t>(in, path);
    }
    out.frames.push_back(std::move(f));
    out.labels.push_back(std::move(boxes));
  }
  return out;
}

} // namespace recl
