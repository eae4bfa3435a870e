#pragma once
// YOLOX-Nano in LibTorch, with the module layout of Megvii's export: Focus
// stem, depthwise CSPDarknet, PAFPN, decoupled head; BatchNorm is folded into
// every convolution (as in the shipped ONNX weights), so each BaseConv is a
// biased convolution and SiLU. The same network runs at any input whose
// sides are multiples of 32, which is how an expert runs at 256x160 with the
// COCO weights. Include only from gpu/ sources.

#include <torch/torch.h>

#include <vector>

namespace recl::yolox {

/// Convolution (bias, folded BN) + SiLU.
struct base_conv_impl : torch::nn::Module {
  base_conv_impl(int in, int out, int k, int stride = 1, int groups = 1);
  torch::Tensor forward(const torch::Tensor& x);
  void collect(std::vector<torch::nn::Conv2d>& out);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE_IMPL(base_conv, base_conv_impl);

/// Depthwise k x k then pointwise 1 x 1.
struct dw_conv_impl : torch::nn::Module {
  dw_conv_impl(int in, int out, int k, int stride = 1);
  torch::Tensor forward(const torch::Tensor& x);
  void collect(std::vector<torch::nn::Conv2d>& out);
  base_conv dconv{nullptr};
  base_conv pconv{nullptr};
};
TORCH_MODULE_IMPL(dw_conv, dw_conv_impl);

struct bottleneck_impl : torch::nn::Module {
  bottleneck_impl(int ch, bool shortcut);
  torch::Tensor forward(const torch::Tensor& x);
  void collect(std::vector<torch::nn::Conv2d>& out);
  base_conv conv1{nullptr};
  dw_conv conv2{nullptr};
  bool shortcut;
};
TORCH_MODULE_IMPL(bottleneck, bottleneck_impl);

struct csp_layer_impl : torch::nn::Module {
  csp_layer_impl(int in, int out, int n, bool shortcut);
  torch::Tensor forward(const torch::Tensor& x);
  void collect(std::vector<torch::nn::Conv2d>& out);
  base_conv conv1{nullptr};
  base_conv conv2{nullptr};
  base_conv conv3{nullptr};
  std::vector<bottleneck> m;
};
TORCH_MODULE_IMPL(csp_layer, csp_layer_impl);

struct spp_impl : torch::nn::Module {
  spp_impl(int in, int out);
  torch::Tensor forward(const torch::Tensor& x);
  void collect(std::vector<torch::nn::Conv2d>& out);
  base_conv conv1{nullptr};
  base_conv conv2{nullptr};
};
TORCH_MODULE_IMPL(spp, spp_impl);

/// Raw head outputs of one level: [N, 4 + 1 + classes, H, W] with the box
/// regression, the objectness logit and the class logits.
using level_outputs = std::vector<torch::Tensor>;

/// The whole network.
struct network_impl : torch::nn::Module {
  explicit network_impl(int num_classes = 80);

  /// Raw outputs for strides 8, 16, 32. `x`: [N, 3, H, W] float BGR 0..255.
  level_outputs forward(const torch::Tensor& x);

  /// The first `stages` backbone stages alone (1: focus, stem and the first
  /// stage; 2: also the second); 0 returns `x`. With forward_from, splits
  /// forward() where a trainer freezes the front and caches its output.
  torch::Tensor front(const torch::Tensor& x, int stages);

  /// The rest of forward() after front(x, stages).
  level_outputs forward_from(const torch::Tensor& f, int stages);

  /// Every convolution in the order the forward pass (and the ONNX export)
  /// runs them; the converter fills weights in this order.
  std::vector<torch::nn::Conv2d> convs_in_order();

  int num_classes;
  base_conv stem{nullptr};
  dw_conv dark2_down{nullptr}, dark3_down{nullptr}, dark4_down{nullptr},
    dark5_down{nullptr};
  csp_layer dark2{nullptr}, dark3{nullptr}, dark4{nullptr}, dark5{nullptr};
  spp dark5_spp{nullptr};
  base_conv lateral_conv0{nullptr}, reduce_conv1{nullptr};
  csp_layer c3_p4{nullptr}, c3_p3{nullptr}, c3_n3{nullptr}, c3_n4{nullptr};
  dw_conv bu_conv2{nullptr}, bu_conv1{nullptr};
  std::vector<base_conv> stems;
  std::vector<dw_conv> cls_convs, reg_convs; // two per level, flattened
  std::vector<torch::nn::Conv2d> cls_preds, reg_preds, obj_preds;
};
TORCH_MODULE_IMPL(network, network_impl);

/// The strides of the three output levels.
constexpr int strides[3] = {8, 16, 32};

/// Flattens level outputs to [N, cells, 5 + classes] in (stride, y, x)
/// order, as the ONNX graph does.
torch::Tensor flatten(const level_outputs& outs);

/// Grid offsets and strides for `flatten`'s cells at input H x W:
/// returns [cells, 2] (x, y) and [cells, 1] stride.
std::pair<torch::Tensor, torch::Tensor> grid(int height, int width,
                                             const torch::Device& dev);

} // namespace recl::yolox
