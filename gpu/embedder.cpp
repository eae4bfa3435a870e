#include "gpu/embedder.hpp"

#include "gpu/expert_impl.hpp"
#include "gpu/torch_device.hpp"
#include "gpu/torch_io.hpp"

#include <random>
#include <sstream>

namespace recl {

namespace {

namespace nn = torch::nn;

nn::Conv2d down(int in, int out) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1));
}

nn::ConvTranspose2d up(int in, int out) {
  return nn::ConvTranspose2d(
    nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1));
}

struct autoencoder_impl : nn::Module {
  autoencoder_impl(int w, int h, int dim) : fw(w / 16), fh(h / 16) {
    e1 = register_module("e1", down(3, 16));
    e2 = register_module("e2", down(16, 32));
    e3 = register_module("e3", down(32, 64));
    e4 = register_module("e4", down(64, 64));
    to_code = register_module("to_code", nn::Linear(64 * fw * fh, dim));
    from_code = register_module("from_code", nn::Linear(dim, 64 * fw * fh));
    d1 = register_module("d1", up(64, 64));
    d2 = register_module("d2", up(64, 32));
    d3 = register_module("d3", up(32, 16));
    d4 = register_module("d4", up(16, 3));
  }
  torch::Tensor encode(const torch::Tensor& x) {
    auto y = torch::relu(e1(x));
    y = torch::relu(e2(y));
    y = torch::relu(e3(y));
    y = torch::relu(e4(y));
    return to_code(y.flatten(1));
  }
  torch::Tensor decode(const torch::Tensor& z) {
    auto y = torch::relu(from_code(z)).view({z.size(0), 64, fh, fw});
    y = torch::relu(d1(y));
    y = torch::relu(d2(y));
    y = torch::relu(d3(y));
    return torch::sigmoid(d4(y));
  }
  int64_t fw, fh;
  nn::Conv2d e1{nullptr}, e2{nullptr}, e3{nullptr}, e4{nullptr};
  nn::Linear to_code{nullptr}, from_code{nullptr};
  nn::ConvTranspose2d d1{nullptr}, d2{nullptr}, d3{nullptr}, d4{nullptr};
};
TORCH_MODULE_IMPL(autoencoder, autoencoder_impl);

} // namespace

struct embedder::impl {
  embedder_options opts;
  autoencoder net{nullptr};
  std::mt19937_64 rng;

  torch::Tensor inputs(const std::vector<image>& frames) {
    std::vector<float> scales;
    return preprocess(frames, opts.input_width, opts.input_height, scales)
             .flip({1})
           / 255.0;
  }
};

embedder::embedder(const embedder_options& opts)
  : impl_(std::make_unique<impl>()) {
  if (opts.input_width % 16 || opts.input_height % 16 || opts.dim < 1)
    throw std::invalid_argument(
      "embedder: input sides must be multiples of 16");
  impl_->opts = opts;
  impl_->rng.seed(opts.seed);
  torch::manual_seed(opts.seed);
  impl_->net = autoencoder(opts.input_width, opts.input_height, opts.dim);
  impl_->net->to(gpu::device());
}

embedder::~embedder() = default;

std::unique_ptr<embedder> embedder::from_bytes(std::string_view bytes,
                                               const embedder_options& opts) {
  auto e = std::make_unique<embedder>(opts);
  gpu::read_weights(e->impl_->net, bytes, "embedder");
  return e;
}

std::string embedder::to_bytes() const {
  return gpu::weights_bytes(impl_->net);
}

double embedder::train(const std::vector<image>& frames, int epochs) {
  if (frames.empty())
    return 0;
  auto x = impl_->inputs(frames);
  torch::optim::Adam optim(impl_->net->parameters(),
                           torch::optim::AdamOptions(impl_->opts.lr));
  double last = 0;
  for (int e = 0; e < epochs; ++e)
    last = for_each_batch(frames.size(), impl_->opts.batch, impl_->rng,
                          [&](const torch::Tensor& idx) {
                            auto xb = x.index_select(0, idx);
                            optim.zero_grad();
                            auto loss = torch::mse_loss(
                              impl_->net->decode(impl_->net->encode(xb)), xb);
                            loss.backward();
                            optim.step();
                            return loss.item<double>();
                          });
  return last;
}

double embedder::reconstruction_error(const std::vector<image>& frames) {
  if (frames.empty())
    return 0;
  c10::InferenceMode guard;
  auto x = impl_->inputs(frames);
  return torch::mse_loss(impl_->net->decode(impl_->net->encode(x)), x)
    .item<double>();
}

std::vector<float> embedder::embed(const std::vector<image>& frames) {
  c10::InferenceMode guard;
  if (frames.empty())
    return std::vector<float>(static_cast<size_t>(impl_->opts.dim), 0.f);
  auto z = impl_->net->encode(impl_->inputs(frames)).mean(0).cpu().contiguous();
  return {z.data_ptr<float>(), z.data_ptr<float>() + z.numel()};
}

size_t embedder::nearest(const std::vector<float>& query,
                         const std::vector<std::vector<float>>& centroids) {
  if (centroids.empty())
    throw std::invalid_argument("embedder: no centroids");
  size_t best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < centroids.size(); ++i) {
    if (centroids[i].size() != query.size())
      throw std::invalid_argument("embedder: centroid " + std::to_string(i)
                                  + " has the wrong size");
    double d = 0;
    for (size_t j = 0; j < query.size(); ++j)
      d += (query[j] - centroids[i][j]) * (query[j] - centroids[i][j]);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

} // namespace recl
