#include "edge/runtime.hpp"

#include "common/util.hpp"
#include "edge/annotate.hpp"
#include "schema/model_update.hpp"

#include <opencv2/core.hpp>

#include <filesystem>
#include <stdexcept>

namespace recl {

edge_model::edge_model(expert_options opts, const std::string& detections,
                       double fps)
  : opts_(std::move(opts)), fps_(fps) {
  if (detections == "-") {
    out_ = stdout;
  } else if (!detections.empty()) {
    out_ = std::fopen(detections.c_str(), "w");
    if (!out_)
      throw std::runtime_error("cannot write detections to " + detections);
    own_out_ = true;
  }
}

void edge_model::annotate_to(const std::string& path) {
  video_ = std::make_unique<annotator>(path, fps_);
}

edge_model::~edge_model() {
  if (own_out_)
    std::fclose(out_);
}

void edge_model::install(const std::string& id, std::unique_ptr<expert> next,
                         std::string hash) {
  if (!state_dir_.empty()) {
    // The weights first: an id on disk always has its weights beside it.
    write_file_atomic(state_dir_ + "/model.pt", next->to_bytes(), 0600);
    write_file_atomic(state_dir_ + "/model.id", id + "\n", 0600);
  }
  model_ = std::move(next);
  id_ = id;
  hash_ = std::move(hash);
}

std::string edge_model::swap(const std::string& id,
                             const std::vector<uint8_t>& weights) {
  try {
    auto next = expert::from_bytes(
      std::string_view{reinterpret_cast<const char*>(weights.data()),
                       weights.size()},
      opts_);
    auto hash = content_hash(*next);
    install(id, std::move(next), std::move(hash));
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

edge_model::update_result
edge_model::swap_update(const std::string& id,
                        const std::vector<uint8_t>& bytes) {
  update_result out;
  try {
    auto u = decode_model_update(std::string_view{
      reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    out.delta = !u.base_hash.empty();
    out.tensors = u.tensors.size();
    auto next = apply_update(model_.get(), u, opts_);
    install(id, std::move(next), u.result_hash);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

std::string edge_model::keep_in(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error("cannot make the state directory " + dir);
  std::string id, bytes;
  try {
    id = trim(read_file(dir + "/model.id"));
    bytes = read_file(dir + "/model.pt");
  } catch (const std::exception&) {
    id.clear(); // nothing saved yet
  }
  if (!id.empty()) {
    auto why = swap(id, {bytes.begin(), bytes.end()});
    if (!why.empty())
      throw std::runtime_error("the model saved in " + dir
                               + " does not load: " + why);
  }
  state_dir_ = dir;
  return id_;
}

void edge_model::run(const cv::Mat& frame, double t) {
  if (!model_ || (fps_ > 0 && t + 1e-9 < next_))
    return;
  if (fps_ > 0)
    next_ = std::max(next_ + 1 / fps_, t + 0.5 / fps_);
  image img;
  img.width = frame.cols;
  img.height = frame.rows;
  auto cont = frame.isContinuous() ? frame : frame.clone();
  img.bgr.assign(cont.data, cont.data + cont.total() * cont.elemSize());
  auto t0 = now_ms();
  auto boxes = model_->detect({img}, 1).front();
  since_.ms += now_ms() - t0;
  since_.frames += 1;
  since_.boxes += boxes.size();
  if (video_)
    video_->add(frame, t, boxes, id_);
  if (!out_)
    return;
  std::fprintf(out_, "{\"t\": %.3f, \"model\": \"%s\", \"boxes\": [", t,
               id_.c_str());
  for (size_t i = 0; i < boxes.size(); ++i) {
    auto& b = boxes[i];
    std::fprintf(out_, "%s[%.1f, %.1f, %.1f, %.1f, %.3f, %d]", i ? ", " : "",
                 b.x0, b.y0, b.x1, b.y1, b.score, b.cls);
  }
  std::fprintf(out_, "]}\n");
}

edge_model::stats edge_model::take() {
  auto out = since_;
  since_ = {};
  if (out_)
    std::fflush(out_);
  return out;
}

} // namespace recl
