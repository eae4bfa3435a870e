#include "gpu/gating.hpp"

#include "gpu/expert_impl.hpp"
#include "gpu/torch_device.hpp"

#include <random>
#include <sstream>

namespace recl {

namespace {

namespace nn = torch::nn;

/// GroupNorm, not BatchNorm: the gating network trains on small, skewed
/// sample sets where BatchNorm's running statistics do not match what it
/// saw in training (measured: eval-mode predictions collapsed to one expert).
nn::GroupNorm norm(int channels) {
  return nn::GroupNorm(nn::GroupNormOptions(std::min(4, channels), channels));
}

struct block_impl : nn::Module {
  block_impl(int in, int out, int stride) {
    c1 = register_module(
      "c1",
      nn::Conv2d(
        nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    b1 = register_module("b1", norm(out));
    c2 = register_module(
      "c2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    b2 = register_module("b2", norm(out));
    if (stride != 1 || in != out) {
      down = register_module(
        "down",
        nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      bd = register_module("bd", norm(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = b2(c2(torch::relu(b1(c1(x)))));
    auto skip = down ? bd(down(x)) : x;
    return torch::relu(y + skip);
  }
  nn::Conv2d c1{nullptr}, c2{nullptr}, down{nullptr};
  nn::GroupNorm b1{nullptr}, b2{nullptr}, bd{nullptr};
};
TORCH_MODULE_IMPL(block, block_impl);

/// The feature extractor: a ResNet with two blocks per stage, three stages.
struct body_impl : nn::Module {
  explicit body_impl(int ch) {
    stem = register_module(
      "stem",
      nn::Conv2d(nn::Conv2dOptions(3, ch, 3).stride(2).padding(1).bias(false)));
    bn = register_module("bn", norm(ch));
    blocks = register_module(
      "blocks",
      nn::Sequential(block(ch, ch, 1), block(ch, ch, 1), block(ch, 2 * ch, 2),
                     block(2 * ch, 2 * ch, 1), block(2 * ch, 4 * ch, 2),
                     block(4 * ch, 4 * ch, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = blocks->forward(torch::relu(bn(stem(x))));
    return y.mean({2, 3}); // global average pool
  }
  nn::Conv2d stem{nullptr};
  nn::GroupNorm bn{nullptr};
  nn::Sequential blocks{nullptr};
};
TORCH_MODULE_IMPL(body, body_impl);

} // namespace

struct gating::impl {
  gating_options opts;
  body features{nullptr};
  nn::Linear head{nullptr}; ///< [experts, features]; null when no experts
  int64_t feature_dim = 0;
  size_t experts = 0;
  std::mt19937_64 rng;

  torch::Tensor inputs(const std::vector<image>& frames) {
    std::vector<float> scales;
    // Letterbox like the experts, then RGB in [0, 1].
    auto x = preprocess(frames, opts.input_width, opts.input_height, scales);
    return x.flip({1}) / 255.0;
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto f = features->forward(x);
    if (experts == 0)
      return torch::zeros({x.size(0), 0}, x.options());
    return head->forward(f);
  }

  void set_head(nn::Linear h, size_t n) {
    head = h;
    experts = n;
    if (head)
      head->to(gpu::device());
  }
};

gating::gating(size_t experts, const gating_options& opts)
  : impl_(std::make_unique<impl>()) {
  if (opts.input_width % 8 || opts.input_height % 8 || opts.channels < 1)
    throw std::invalid_argument("gating: input sides must be multiples of 8");
  impl_->opts = opts;
  impl_->rng.seed(opts.seed);
  torch::manual_seed(opts.seed);
  impl_->features = body(opts.channels);
  impl_->features->to(gpu::device());
  impl_->feature_dim = 4 * opts.channels;
  if (experts > 0)
    impl_->set_head(
      nn::Linear(impl_->feature_dim, static_cast<int64_t>(experts)), experts);
}

gating::~gating() = default;

std::string gating::to_bytes() const {
  torch::serialize::OutputArchive ar;
  impl_->features->save(ar);
  ar.write("experts", torch::tensor(static_cast<int64_t>(impl_->experts)));
  if (impl_->head) {
    ar.write("head.weight", impl_->head->weight);
    ar.write("head.bias", impl_->head->bias);
  }
  std::ostringstream out;
  ar.save_to(out);
  return out.str();
}

std::unique_ptr<gating> gating::from_bytes(std::string_view bytes,
                                           const gating_options& opts) {
  try {
    torch::serialize::InputArchive ar;
    std::istringstream in{std::string{bytes}};
    ar.load_from(in);
    torch::Tensor n;
    ar.read("experts", n);
    auto g
      = std::make_unique<gating>(static_cast<size_t>(n.item<int64_t>()), opts);
    g->impl_->features->load(ar);
    if (g->impl_->head) {
      torch::NoGradGuard no_grad;
      torch::Tensor w, b;
      ar.read("head.weight", w);
      ar.read("head.bias", b);
      g->impl_->head->weight.copy_(w);
      g->impl_->head->bias.copy_(b);
    }
    return g;
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string{"cannot read gating weights: "}
                             + e.what_without_backtrace());
  }
}

size_t gating::experts() const {
  return impl_->experts;
}

std::vector<std::vector<float>>
gating::predict(const std::vector<image>& frames) {
  c10::InferenceMode guard;
  impl_->features->eval();
  std::vector<std::vector<float>> out;
  for (size_t start = 0; start < frames.size(); start += 64) {
    std::vector<image> chunk(
      frames.begin() + static_cast<long>(start),
      frames.begin() + static_cast<long>(std::min(frames.size(), start + 64)));
    auto y
      = torch::sigmoid(impl_->forward(impl_->inputs(chunk))).cpu().contiguous();
    for (int64_t i = 0; i < y.size(0); ++i) {
      auto row = y[i];
      out.emplace_back(row.data_ptr<float>(),
                       row.data_ptr<float>() + row.numel());
    }
  }
  return out;
}

std::vector<size_t> gating::top_k(const std::vector<image>& frames, size_t k) {
  auto scores = predict(frames);
  std::vector<double> mean(impl_->experts, 0.0);
  for (auto& row : scores)
    for (size_t e = 0; e < row.size(); ++e)
      mean[e] += row[e];
  std::vector<size_t> ids(impl_->experts);
  std::iota(ids.begin(), ids.end(), 0);
  k = std::min(k, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<long>(k), ids.end(),
                    [&](size_t a, size_t b) { return mean[a] > mean[b]; });
  ids.resize(k);
  return ids;
}

void gating::grow(size_t n) {
  if (n == 0)
    return;
  torch::NoGradGuard no_grad;
  auto old = impl_->experts;
  auto total = static_cast<int64_t>(old + n);
  nn::Linear fresh(impl_->feature_dim, total);
  if (old > 0) {
    auto w = impl_->head->weight.cpu();
    auto b = impl_->head->bias.cpu();
    auto& fw = fresh->weight;
    auto& fb = fresh->bias;
    fw.narrow(0, 0, static_cast<int64_t>(old)).copy_(w);
    fb.narrow(0, 0, static_cast<int64_t>(old)).copy_(b);
    // New rows from the mean and spread of the existing rows, per column.
    auto w_mean = w.mean(0);
    auto w_std = old > 1 ? w.std(0) : torch::zeros_like(w_mean);
    auto b_mean = b.mean();
    auto b_std = old > 1 ? b.std() : torch::zeros_like(b_mean);
    auto k = static_cast<int64_t>(n);
    fw.narrow(0, static_cast<int64_t>(old), k)
      .copy_(w_mean + w_std * torch::randn({k, impl_->feature_dim}));
    fb.narrow(0, static_cast<int64_t>(old), k)
      .copy_(b_mean + b_std * torch::randn({k}));
  }
  impl_->set_head(fresh, old + n);
}

void gating::shrink(const std::vector<size_t>& keep) {
  torch::NoGradGuard no_grad;
  for (auto i : keep)
    if (i >= impl_->experts)
      throw std::out_of_range("gating: no output " + std::to_string(i));
  if (keep.empty()) {
    impl_->set_head(nullptr, 0);
    return;
  }
  std::vector<int64_t> idx(keep.begin(), keep.end());
  auto sel = torch::tensor(idx, torch::kLong).to(gpu::device());
  nn::Linear fresh(impl_->feature_dim, static_cast<int64_t>(keep.size()));
  fresh->to(gpu::device());
  fresh->weight.copy_(impl_->head->weight.index_select(0, sel));
  fresh->bias.copy_(impl_->head->bias.index_select(0, sel));
  impl_->set_head(fresh, keep.size());
}

double gating::train(const std::vector<image>& frames,
                     const std::vector<std::vector<float>>& scores,
                     int epochs) {
  if (frames.size() != scores.size())
    throw std::invalid_argument(
      "gating: frames and score rows differ in number");
  if (impl_->experts == 0 || frames.empty())
    return 0;
  for (auto& row : scores)
    if (row.size() != impl_->experts)
      throw std::invalid_argument(
        "gating: a score row has " + std::to_string(row.size())
        + " entries for " + std::to_string(impl_->experts) + " experts");
  auto x_all = impl_->inputs(frames);
  auto y_all = torch::empty({static_cast<int64_t>(frames.size()),
                             static_cast<int64_t>(impl_->experts)});
  for (size_t i = 0; i < scores.size(); ++i)
    y_all[static_cast<int64_t>(i)].copy_(torch::tensor(scores[i]));
  y_all = y_all.to(gpu::device());
  std::vector<torch::Tensor> params = impl_->features->parameters();
  for (auto& p : impl_->head->parameters())
    params.push_back(p);
  torch::optim::Adam optim(params, torch::optim::AdamOptions(impl_->opts.lr));
  impl_->features->train();
  double last = 0;
  for (int e = 0; e < epochs; ++e)
    last = for_each_batch(
      frames.size(), impl_->opts.batch, impl_->rng,
      [&](const torch::Tensor& idx) {
        optim.zero_grad();
        auto pred = torch::sigmoid(impl_->forward(x_all.index_select(0, idx)));
        auto loss
          = torch::binary_cross_entropy(pred, y_all.index_select(0, idx));
        loss.backward();
        optim.step();
        return loss.item<double>();
      });
  impl_->features->eval();
  return last;
}

} // namespace recl
