#pragma once
// MobileNetV2 (torchvision's layout) in LibTorch, for the classification task:
// its ImageNet weights come from the shipped int8 ONNX model, dequantised by
// recl-convert ((w - zero point) * scale per output channel; BatchNorm is
// already folded into the convolutions). Include only from gpu/ sources.

#include <torch/torch.h>

#include <vector>

namespace recl::mobilenet {

/// Convolution (bias, folded BN), optionally followed by ReLU6.
struct conv_impl : torch::nn::Module {
  conv_impl(int in, int out, int k, int stride, int groups, bool relu);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
  bool relu;
};
TORCH_MODULE_IMPL(conv, conv_impl);

/// Inverted residual block: expand 1x1, depthwise 3x3, project 1x1.
struct block_impl : torch::nn::Module {
  block_impl(int in, int out, int stride, int expand);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<conv> layers;
  bool residual;
};
TORCH_MODULE_IMPL(block, block_impl);

/// The network: features, global average pool, 1000-way classifier.
struct network_impl : torch::nn::Module {
  network_impl();
  /// Logits [N, 1000] for x: [N, 3, H, W] RGB normalised with ImageNet's
  /// mean and std.
  torch::Tensor forward(const torch::Tensor& x);
  /// Every convolution in forward order (the converter fills them in this
  /// order).
  std::vector<torch::nn::Conv2d> convs_in_order();
  conv first{nullptr};
  std::vector<block> blocks;
  conv last{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE_IMPL(network, network_impl);

} // namespace recl::mobilenet
