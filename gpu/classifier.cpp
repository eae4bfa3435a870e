#include "gpu/classifier.hpp"

#include "gpu/expert_impl.hpp"
#include "gpu/mobilenet.hpp"
#include "gpu/torch_device.hpp"
#include "gpu/torch_io.hpp"

#include <random>
#include <sstream>

namespace recl {

struct classifier::impl {
  classifier_options opts;
  mobilenet::network net;
  std::mt19937_64 rng;

  /// Resized to size x size, RGB, ImageNet-normalised: [N, 3, S, S].
  torch::Tensor inputs(const std::vector<image>& frames) {
    auto dev = gpu::device();
    std::vector<torch::Tensor> xs;
    for (size_t i = 0; i < frames.size(); ++i) {
      auto& f = frames[i];
      if (f.width <= 0 || f.height <= 0
          || f.bgr.size() != static_cast<size_t>(f.width) * f.height * 3)
        throw std::invalid_argument("frame " + std::to_string(i)
                                    + " has inconsistent size");
      auto t = torch::from_blob(const_cast<uint8_t*>(f.bgr.data()),
                                {f.height, f.width, 3}, torch::kUInt8)
                 .to(dev)
                 .permute({2, 0, 1})
                 .flip({0})
                 .to(torch::kFloat32)
                 .unsqueeze(0)
               / 255.0;
      xs.push_back(torch::upsample_bilinear2d(
        t, {opts.input_size, opts.input_size}, false)[0]);
    }
    auto x = torch::stack(xs);
    auto mean = torch::tensor({0.485f, 0.456f, 0.406f}, dev).view({1, 3, 1, 1});
    auto std = torch::tensor({0.229f, 0.224f, 0.225f}, dev).view({1, 3, 1, 1});
    return (x - mean) / std;
  }
};

namespace {

std::unique_ptr<classifier::impl> make(const classifier_options& opts) {
  if (opts.input_size < 32 || opts.input_size % 32)
    throw std::invalid_argument("classifier input must be a multiple of 32");
  auto x = std::make_unique<classifier::impl>();
  x->opts = opts;
  x->rng.seed(opts.seed);
  return x;
}

} // namespace

classifier::classifier(std::unique_ptr<impl> x) : impl_(std::move(x)) {
  impl_->net->to(gpu::device());
  impl_->net->eval();
}

classifier::~classifier() = default;

std::unique_ptr<classifier> classifier::load(const std::string& path,
                                             const classifier_options& opts) {
  auto x = make(opts);
  gpu::load_weights(x->net, path, "classifier");
  return std::unique_ptr<classifier>(new classifier(std::move(x)));
}

std::unique_ptr<classifier>
classifier::from_bytes(std::string_view bytes, const classifier_options& opts) {
  auto x = make(opts);
  gpu::read_weights(x->net, bytes, "classifier");
  return std::unique_ptr<classifier>(new classifier(std::move(x)));
}

std::string classifier::to_bytes() const {
  return gpu::weights_bytes(impl_->net);
}

std::vector<int> classifier::classify(const std::vector<image>& frames) {
  c10::InferenceMode guard;
  impl_->net->eval();
  std::vector<int> out;
  for (size_t s = 0; s < frames.size(); s += 32) {
    std::vector<image> chunk(
      frames.begin() + static_cast<long>(s),
      frames.begin() + static_cast<long>(std::min(frames.size(), s + 32)));
    auto top = impl_->net->forward(impl_->inputs(chunk)).argmax(1).cpu();
    for (int64_t i = 0; i < top.size(0); ++i)
      out.push_back(static_cast<int>(top[i].item<int64_t>()));
  }
  return out;
}

double classifier::train(const std::vector<image>& frames,
                         const std::vector<int>& labels, int epochs) {
  if (frames.size() != labels.size())
    throw std::invalid_argument(
      "classifier: frames and labels differ in number");
  if (frames.empty())
    return 0;
  for (auto l : labels)
    if (l < 0 || l >= 1000)
      throw std::invalid_argument("classifier: label " + std::to_string(l)
                                  + " is not an ImageNet class");
  auto x = impl_->inputs(frames);
  auto y = torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()))
             .to(gpu::device());
  torch::optim::Adam optim(impl_->net->parameters(),
                           torch::optim::AdamOptions(impl_->opts.lr));
  impl_->net->train();
  double last = 0;
  for (int e = 0; e < epochs; ++e)
    last = for_each_batch(frames.size(), impl_->opts.batch, impl_->rng,
                          [&](const torch::Tensor& idx) {
                            optim.zero_grad();
                            auto loss = torch::cross_entropy_loss(
                              impl_->net->forward(x.index_select(0, idx)),
                              y.index_select(0, idx));
                            loss.backward();
                            optim.step();
                            return loss.item<double>();
                          });
  impl_->net->eval();
  return last;
}

int64_t classifier::parameter_count() const {
  int64_t n = 0;
  for (auto& p : impl_->net->parameters())
    n += p.numel();
  return n;
}

} // namespace recl
