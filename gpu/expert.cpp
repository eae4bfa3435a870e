#include "gpu/expert_impl.hpp"

#include "gpu/torch_device.hpp"
#include "gpu/torch_io.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace recl {

namespace {

void check_options(const expert_options& o) {
  if (o.input_width < 32 || o.input_height < 32 || o.input_width % 32
      || o.input_height % 32)
    throw std::invalid_argument("expert input must be multiples of 32, got "
                                + std::to_string(o.input_width) + "x"
                                + std::to_string(o.input_height));
}

std::unique_ptr<expert::impl> make_impl(const expert_options& opts) {
  check_options(opts);
  auto x = std::make_unique<expert::impl>();
  x->opts = opts;
  x->net = yolox::network(80);
  x->keep.assign(80, false);
  for (auto c : opts.classes)
    if (c >= 0 && c < 80)
      x->keep[static_cast<size_t>(c)] = true;
  return x;
}

} // namespace

torch::Tensor preprocess(const std::vector<image>& frames, int width,
                         int height, std::vector<float>& scales) {
  auto dev = gpu::device();
  auto batch
    = torch::full({static_cast<int64_t>(frames.size()), 3, height, width},
                  114.0f, torch::TensorOptions().device(dev));
  scales.clear();
  for (size_t i = 0; i < frames.size(); ++i) {
    auto& f = frames[i];
    if (f.width <= 0 || f.height <= 0
        || f.bgr.size() != static_cast<size_t>(f.width) * f.height * 3)
      throw std::invalid_argument("frame " + std::to_string(i)
                                  + " has inconsistent size");
    float r = std::min(static_cast<float>(width) / f.width,
                       static_cast<float>(height) / f.height);
    int rw = std::min(width,
                      std::max(1, static_cast<int>(std::lround(f.width * r))));
    int rh = std::min(height,
                      std::max(1, static_cast<int>(std::lround(f.height * r))));
    auto t = torch::from_blob(const_cast<uint8_t*>(f.bgr.data()),
                              {f.height, f.width, 3}, torch::kUInt8)
               .to(dev)
               .permute({2, 0, 1})
               .to(torch::kFloat32)
               .unsqueeze(0);
    auto resized = torch::upsample_bilinear2d(t, {rh, rw}, false);
    using torch::indexing::Slice;
    batch.index({static_cast<int64_t>(i), Slice(), Slice(0, rh), Slice(0, rw)})
      .copy_(resized[0]);
    scales.push_back(r);
  }
  return batch;
}

double for_each_batch(size_t n, size_t batch, std::mt19937_64& rng,
                      const std::function<double(const torch::Tensor&)>& step) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  double sum = 0;
  size_t count = 0;
  for (size_t s = 0; s < n; s += batch) {
    auto end = std::min(n, s + batch);
    auto idx = torch::tensor(
                 std::vector<int64_t>(order.begin() + static_cast<long>(s),
                                      order.begin() + static_cast<long>(end)))
                 .to(gpu::device());
    sum += step(idx);
    ++count;
  }
  return count ? sum / count : 0;
}

expert::expert(std::unique_ptr<impl> x) : impl_(std::move(x)) {
  impl_->net->to(gpu::device());
  impl_->net->eval();
  auto mask = torch::zeros({80}, torch::kFloat32);
  auto acc = mask.accessor<float, 1>();
  for (size_t c = 0; c < 80; ++c)
    acc[static_cast<int64_t>(c)] = impl_->keep[c] ? 1.f : 0.f;
  impl_->keep_mask = mask.to(gpu::device());
}

expert::~expert() = default;

std::unique_ptr<expert> expert::load(const std::string& path,
                                     const expert_options& opts) {
  auto x = make_impl(opts);
  gpu::load_weights(x->net, path, "expert");
  return std::unique_ptr<expert>(new expert(std::move(x)));
}

std::unique_ptr<expert> expert::from_bytes(std::string_view bytes,
                                           const expert_options& opts) {
  auto x = make_impl(opts);
  gpu::read_weights(x->net, bytes, "expert");
  return std::unique_ptr<expert>(new expert(std::move(x)));
}

std::string expert::to_bytes() const {
  return gpu::weights_bytes(impl_->net);
}

void expert::save(const std::string& path) const {
  torch::save(impl_->net, path);
}

std::unique_ptr<expert> expert::clone() const {
  return from_bytes(to_bytes(), impl_->opts);
}

void expert::blend(const expert& other, double t) {
  if (!(t >= 0 && t <= 1))
    throw std::invalid_argument("blend: weight " + std::to_string(t)
                                + " outside [0, 1]");
  auto mine = impl_->net->named_parameters(true);
  auto theirs = other.impl_->net->named_parameters(true);
  auto mine_b = impl_->net->named_buffers(true);
  auto theirs_b = other.impl_->net->named_buffers(true);
  if (mine.size() != theirs.size() || mine_b.size() != theirs_b.size())
    throw std::invalid_argument("blend: the experts' architectures differ");
  torch::NoGradGuard no_grad;
  // Every tensor is checked before any changes: a refused blend changes
  // nothing.
  auto check = [&](const auto& a, const auto& b) {
    for (auto& item : a) {
      auto* other_value = b.find(item.key());
      if (!other_value || other_value->sizes() != item.value().sizes())
        throw std::invalid_argument(
          "blend: the experts' architectures differ at '" + item.key() + "'");
    }
  };
  auto mix = [&](auto& a, const auto& b) {
    for (auto& item : a)
      if (item.value().is_floating_point())
        item.value().mul_(1 - t).add_(
          b.find(item.key())->to(item.value().device()), t);
  };
  check(mine, theirs);
  check(mine_b, theirs_b);
  mix(mine, theirs);
  mix(mine_b, theirs_b);
}

namespace {

/// Every parameter, then every buffer, by name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>>
all_tensors(const yolox::network& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& item : net->named_parameters(true))
    out.emplace_back(item.key(), item.value());
  for (auto& item : net->named_buffers(true))
    out.emplace_back(item.key(), item.value());
  return out;
}

named_tensor::type type_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
  case torch::kFloat32:
    return named_tensor::type::f32;
  case torch::kFloat16:
    return named_tensor::type::f16;
  case torch::kInt64:
    return named_tensor::type::i64;
  default:
    throw std::invalid_argument(std::string{"expert: a tensor of type "}
                                + c10::toString(t.scalar_type()));
  }
}

torch::ScalarType scalar_of(named_tensor::type t) {
  switch (t) {
  case named_tensor::type::f32:
    return torch::kFloat32;
  case named_tensor::type::f16:
    return torch::kFloat16;
  case named_tensor::type::i64:
    return torch::kInt64;
  }
  throw std::invalid_argument("expert: unknown tensor type "
                              + std::to_string(static_cast<int>(t)));
}

/// Why `x` cannot be copied into `into` ("" = it can).
std::string misfit(const named_tensor& x, const torch::Tensor& into) {
  auto is_float = into.is_floating_point();
  bool type_ok = is_float ? x.dtype == named_tensor::type::f32
                              || x.dtype == named_tensor::type::f16
                          : x.dtype == named_tensor::type::i64
                              && into.scalar_type() == torch::kInt64;
  if (!type_ok)
    return "the wrong type";
  if (x.shape != into.sizes().vec())
    return "the wrong shape";
  int64_t n = 1;
  for (auto d : x.shape)
    n *= d;
  size_t element = x.dtype == named_tensor::type::f16   ? 2
                   : x.dtype == named_tensor::type::f32 ? 4
                                                        : 8;
  if (x.bytes.size() != static_cast<size_t>(n) * element)
    return std::to_string(x.bytes.size()) + " bytes for " + std::to_string(n)
           + " elements";
  return "";
}

} // namespace

std::unique_ptr<expert> expert::blank(const expert_options& opts) {
  return std::unique_ptr<expert>(new expert(make_impl(opts)));
}

std::vector<named_tensor> expert::tensors(bool half) const {
  std::vector<named_tensor> out;
  for (auto& [name, value] : all_tensors(impl_->net)) {
    auto t = value.detach().to(torch::kCPU).contiguous();
    if (half && t.is_floating_point())
      t = t.to(torch::kFloat16);
    named_tensor x;
    x.name = name;
    x.dtype = type_of(t);
    x.shape = t.sizes().vec();
    x.bytes.assign(static_cast<const char*>(t.data_ptr()), t.nbytes());
    out.push_back(std::move(x));
  }
  return out;
}

void expert::assign(const std::vector<named_tensor>& some) {
  auto all = all_tensors(impl_->net);
  std::vector<torch::Tensor*> into;
  for (auto& x : some) {
    auto it = std::find_if(all.begin(), all.end(),
                           [&](auto& kv) { return kv.first == x.name; });
    if (it == all.end())
      throw std::invalid_argument("expert: no tensor named '" + x.name + "'");
    if (auto why = misfit(x, it->second); !why.empty())
      throw std::invalid_argument("expert: tensor '" + x.name + "' has " + why);
    into.push_back(&it->second);
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < some.size(); ++i) {
    auto& x = some[i];
    auto t = torch::empty(x.shape, scalar_of(x.dtype));
    std::memcpy(t.data_ptr(), x.bytes.data(), x.bytes.size());
    into[i]->copy_(t.to(into[i]->scalar_type()).to(into[i]->device()));
  }
}

const expert_options& expert::options() const {
  return impl_->opts;
}

expert::impl& expert::internals() {
  return *impl_;
}

int64_t expert::parameter_count() const {
  int64_t n = 0;
  for (auto& p : impl_->net->parameters())
    n += p.numel();
  return n;
}

std::vector<std::vector<box>> expert::detect(const std::vector<image>& frames,
                                             size_t batch) {
  return impl_->detect(frames, batch, impl_->opts.score_threshold, 0);
}

std::vector<std::vector<box>>
expert::detect_for_scoring(const std::vector<image>& frames, size_t batch) {
  return impl_->detect(frames, batch, scoring_score_threshold,
                       scoring_max_per_frame);
}

std::vector<std::vector<box>>
expert::impl::detect(const std::vector<image>& frames, size_t batch,
                     float min_score, size_t max_per_frame) {
  c10::InferenceMode inference;
  auto& o = opts;
  net->eval();
  auto dev = gpu::device();
  auto [grid_xy, grid_s] = yolox::grid(o.input_height, o.input_width, dev);
  std::vector<std::vector<box>> out;
  out.reserve(frames.size());
  for (size_t start = 0; start < frames.size(); start += batch) {
    std::vector<image> chunk(
      frames.begin() + static_cast<long>(start),
      frames.begin()
        + static_cast<long>(std::min(frames.size(), start + batch)));
    std::vector<float> scales;
    auto x = preprocess(chunk, o.input_width, o.input_height, scales);
    auto raw = yolox::flatten(net->forward(x)); // [N, cells, 85]
    auto xy = (raw.narrow(2, 0, 2) + grid_xy) * grid_s;
    auto wh = torch::exp(raw.narrow(2, 2, 2)) * grid_s;
    auto scores = torch::sigmoid(raw.narrow(2, 4, 1))
                  * torch::sigmoid(raw.narrow(2, 5, 80));
    scores = scores * keep_mask;
    auto boxes_xyxy = torch::cat({xy - wh / 2, xy + wh / 2}, 2).cpu();
    scores = scores.cpu();
    for (size_t i = 0; i < chunk.size(); ++i) {
      auto s = scores[static_cast<int64_t>(i)];
      auto idx = torch::nonzero(s >= min_score); // [k, 2]: cell, cls
      auto b = boxes_xyxy[static_cast<int64_t>(i)];
      auto acc_idx = idx.accessor<int64_t, 2>();
      auto acc_b = b.accessor<float, 2>();
      auto acc_s = s.accessor<float, 2>();
      std::vector<box> cands;
      float r = scales[i];
      float fw = static_cast<float>(chunk[i].width);
      float fh = static_cast<float>(chunk[i].height);
      for (int64_t k = 0; k < idx.size(0); ++k) {
        auto cell = acc_idx[k][0];
        auto cls = acc_idx[k][1];
        box bx;
        bx.x0 = std::max(0.f, acc_b[cell][0] / r);
        bx.y0 = std::max(0.f, acc_b[cell][1] / r);
        bx.x1 = std::min(fw, acc_b[cell][2] / r);
        bx.y1 = std::min(fh, acc_b[cell][3] / r);
        bx.score = acc_s[cell][cls];
        bx.cls = static_cast<int32_t>(cls);
        if (bx.x1 > bx.x0 && bx.y1 > bx.y0)
          cands.push_back(bx);
      }
      auto kept = nms_per_class(std::move(cands), o.nms_threshold);
      if (max_per_frame > 0 && kept.size() > max_per_frame) {
        std::partial_sort(
          kept.begin(), kept.begin() + static_cast<long>(max_per_frame),
          kept.end(),
          [](const box& a, const box& b) { return a.score > b.score; });
        kept.resize(max_per_frame);
      }
      out.push_back(std::move(kept));
    }
  }
  return out;
}

} // namespace recl
