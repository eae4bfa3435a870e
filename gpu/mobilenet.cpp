#include "gpu/mobilenet.hpp"

namespace recl::mobilenet {

namespace nn = torch::nn;

conv_impl::conv_impl(int in, int out, int k, int stride, int groups, bool r)
  : relu(r) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, k)
                                              .stride(stride)
                                              .padding((k - 1) / 2)
                                              .groups(groups)
                                              .bias(true)));
}

torch::Tensor conv_impl::forward(const torch::Tensor& x) {
  auto y = conv(x);
  return relu ? torch::clamp(y, 0, 6) : y;
}

block_impl::block_impl(int in, int out, int stride, int expand)
  : residual(stride == 1 && in == out) {
  int hidden = in * expand;
  if (expand != 1)
    layers.push_back(
      register_module("expand", conv(in, hidden, 1, 1, 1, true)));
  layers.push_back(
    register_module("dw", conv(hidden, hidden, 3, stride, hidden, true)));
  layers.push_back(
    register_module("project", conv(hidden, out, 1, 1, 1, false)));
}

torch::Tensor block_impl::forward(const torch::Tensor& x) {
  auto y = x;
  for (auto& l : layers)
    y = l(y);
  return residual ? x + y : y;
}

network_impl::network_impl() {
  first = register_module("first", conv(3, 32, 3, 2, 1, true));
  // (expansion, channels, repeats, stride) of MobileNetV2.
  const int cfg[7][4]
    = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
       {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int in = 32;
  for (auto& c : cfg)
    for (int i = 0; i < c[2]; ++i) {
      blocks.push_back(
        register_module("block" + std::to_string(blocks.size()),
                        block(in, c[1], i == 0 ? c[3] : 1, c[0])));
      in = c[1];
    }
  last = register_module("last", conv(320, 1280, 1, 1, 1, true));
  classifier = register_module("classifier", nn::Linear(1280, 1000));
}

torch::Tensor network_impl::forward(const torch::Tensor& x) {
  auto y = first(x);
  for (auto& b : blocks)
    y = b(y);
  y = last(y).mean({2, 3});
  return classifier(y);
}

std::vector<nn::Conv2d> network_impl::convs_in_order() {
  std::vector<nn::Conv2d> out{first->conv};
  for (auto& b : blocks)
    for (auto& l : b->layers)
      out.push_back(l->conv);
  out.push_back(last->conv);
  return out;
}

} // namespace recl::mobilenet
