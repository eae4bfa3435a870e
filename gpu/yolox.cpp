#include "gpu/yolox.hpp"

namespace recl::yolox {

namespace nn = torch::nn;

base_conv_impl::base_conv_impl(int in, int out, int k, int stride, int groups) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, k)
                                              .stride(stride)
                                              .padding((k - 1) / 2)
                                              .groups(groups)
                                              .bias(true)));
}

torch::Tensor base_conv_impl::forward(const torch::Tensor& x) {
  return torch::silu(conv(x));
}

void base_conv_impl::collect(std::vector<nn::Conv2d>& out) {
  out.push_back(conv);
}

dw_conv_impl::dw_conv_impl(int in, int out, int k, int stride) {
  dconv = register_module("dconv", base_conv(in, in, k, stride, in));
  pconv = register_module("pconv", base_conv(in, out, 1));
}

torch::Tensor dw_conv_impl::forward(const torch::Tensor& x) {
  return pconv(dconv(x));
}

void dw_conv_impl::collect(std::vector<nn::Conv2d>& out) {
  dconv->collect(out);
  pconv->collect(out);
}

bottleneck_impl::bottleneck_impl(int ch, bool sc) : shortcut(sc) {
  conv1 = register_module("conv1", base_conv(ch, ch, 1));
  conv2 = register_module("conv2", dw_conv(ch, ch, 3));
}

torch::Tensor bottleneck_impl::forward(const torch::Tensor& x) {
  auto y = conv2(conv1(x));
  return shortcut ? y + x : y;
}

void bottleneck_impl::collect(std::vector<nn::Conv2d>& out) {
  conv1->collect(out);
  conv2->collect(out);
}

csp_layer_impl::csp_layer_impl(int in, int out, int n, bool shortcut) {
  int hidden = out / 2;
  conv1 = register_module("conv1", base_conv(in, hidden, 1));
  conv2 = register_module("conv2", base_conv(in, hidden, 1));
  conv3 = register_module("conv3", base_conv(2 * hidden, out, 1));
  for (int i = 0; i < n; ++i)
    m.push_back(
      register_module("m" + std::to_string(i), bottleneck(hidden, shortcut)));
}

torch::Tensor csp_layer_impl::forward(const torch::Tensor& x) {
  auto a = conv1(x);
  auto b = conv2(x);
  for (auto& blk : m)
    a = blk(a);
  return conv3(torch::cat({a, b}, 1));
}

void csp_layer_impl::collect(std::vector<nn::Conv2d>& out) {
  conv1->collect(out);
  conv2->collect(out);
  for (auto& blk : m)
    blk->collect(out);
  conv3->collect(out);
}

spp_impl::spp_impl(int in, int out) {
  int hidden = in / 2;
  conv1 = register_module("conv1", base_conv(in, hidden, 1));
  conv2 = register_module("conv2", base_conv(hidden * 4, out, 1));
}

torch::Tensor spp_impl::forward(const torch::Tensor& x) {
  auto y = conv1(x);
  std::vector<torch::Tensor> parts{y};
  for (int k : {5, 9, 13})
    parts.push_back(torch::max_pool2d(y, k, 1, k / 2));
  return conv2(torch::cat(parts, 1));
}

void spp_impl::collect(std::vector<nn::Conv2d>& out) {
  conv1->collect(out);
  conv2->collect(out);
}

network_impl::network_impl(int classes) : num_classes(classes) {
  // Width 0.25, depth 0.33 of YOLOX: channels 16/32/64/128/256, n = 1,3,3,1.
  stem = register_module("stem", base_conv(12, 16, 3));
  dark2_down = register_module("dark2_down", dw_conv(16, 32, 3, 2));
  dark2 = register_module("dark2", csp_layer(32, 32, 1, true));
  dark3_down = register_module("dark3_down", dw_conv(32, 64, 3, 2));
  dark3 = register_module("dark3", csp_layer(64, 64, 3, true));
  dark4_down = register_module("dark4_down", dw_conv(64, 128, 3, 2));
  dark4 = register_module("dark4", csp_layer(128, 128, 3, true));
  dark5_down = register_module("dark5_down", dw_conv(128, 256, 3, 2));
  dark5_spp = register_module("dark5_spp", spp(256, 256));
  dark5 = register_module("dark5", csp_layer(256, 256, 1, false));
  lateral_conv0 = register_module("lateral_conv0", base_conv(256, 128, 1));
  c3_p4 = register_module("c3_p4", csp_layer(256, 128, 1, false));
  reduce_conv1 = register_module("reduce_conv1", base_conv(128, 64, 1));
  c3_p3 = register_module("c3_p3", csp_layer(128, 64, 1, false));
  bu_conv2 = register_module("bu_conv2", dw_conv(64, 64, 3, 2));
  c3_n3 = register_module("c3_n3", csp_layer(128, 128, 1, false));
  bu_conv1 = register_module("bu_conv1", dw_conv(128, 128, 3, 2));
  c3_n4 = register_module("c3_n4", csp_layer(256, 256, 1, false));
  const int in_ch[3] = {64, 128, 256};
  for (int k = 0; k < 3; ++k) {
    auto s = std::to_string(k);
    stems.push_back(register_module("stem" + s, base_conv(in_ch[k], 64, 1)));
    for (int j = 0; j < 2; ++j) {
      auto sj = s + "_" + std::to_string(j);
      cls_convs.push_back(register_module("cls_conv" + sj, dw_conv(64, 64, 3)));
      reg_convs.push_back(register_module("reg_conv" + sj, dw_conv(64, 64, 3)));
    }
    cls_preds.push_back(register_module(
      "cls_pred" + s, nn::Conv2d(nn::Conv2dOptions(64, num_classes, 1))));
    reg_preds.push_back(
      register_module("reg_pred" + s, nn::Conv2d(nn::Conv2dOptions(64, 4, 1))));
    obj_preds.push_back(
      register_module("obj_pred" + s, nn::Conv2d(nn::Conv2dOptions(64, 1, 1))));
  }
}

level_outputs network_impl::forward(const torch::Tensor& x) {
  return forward_from(x, 0);
}

torch::Tensor network_impl::front(const torch::Tensor& x, int stages) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  if (stages <= 0)
    return x;
  // Focus: space to depth in the order top-left, bottom-left, top-right,
  // bottom-right.
  auto tl = x.index({"...", Slice(None, None, 2), Slice(None, None, 2)});
  auto tr = x.index({"...", Slice(None, None, 2), Slice(1, None, 2)});
  auto bl = x.index({"...", Slice(1, None, 2), Slice(None, None, 2)});
  auto br = x.index({"...", Slice(1, None, 2), Slice(1, None, 2)});
  auto y = stem(torch::cat({tl, bl, tr, br}, 1));
  y = dark2(dark2_down(y));
  if (stages == 1)
    return y;
  return dark3(dark3_down(y));
}

level_outputs network_impl::forward_from(const torch::Tensor& f, int stages) {
  torch::Tensor x2;
  if (stages >= 2)
    x2 = f;
  else {
    auto y = stages == 1 ? f : front(f, 1);
    x2 = dark3(dark3_down(y));
  }
  auto x1 = dark4(dark4_down(x2));
  auto x0 = dark5(dark5_spp(dark5_down(x1)));
  auto up = [](const torch::Tensor& t) {
    return torch::upsample_nearest2d(t, {t.size(2) * 2, t.size(3) * 2});
  };
  auto fpn_out0 = lateral_conv0(x0);
  auto f_out0 = c3_p4(torch::cat({up(fpn_out0), x1}, 1));
  auto fpn_out1 = reduce_conv1(f_out0);
  auto pan_out2 = c3_p3(torch::cat({up(fpn_out1), x2}, 1));
  auto pan_out1 = c3_n3(torch::cat({bu_conv2(pan_out2), fpn_out1}, 1));
  auto pan_out0 = c3_n4(torch::cat({bu_conv1(pan_out1), fpn_out0}, 1));
  level_outputs out;
  torch::Tensor feats[3] = {pan_out2, pan_out1, pan_out0};
  for (size_t k = 0; k < 3; ++k) {
    auto f = stems[k](feats[k]);
    auto c = cls_convs[2 * k + 1](cls_convs[2 * k](f));
    auto r = reg_convs[2 * k + 1](reg_convs[2 * k](f));
    out.push_back(
      torch::cat({reg_preds[k](r), obj_preds[k](r), cls_preds[k](c)}, 1));
  }
  return out;
}

std::vector<nn::Conv2d> network_impl::convs_in_order() {
  std::vector<nn::Conv2d> out;
  stem->collect(out);
  dark2_down->collect(out);
  dark2->collect(out);
  dark3_down->collect(out);
  dark3->collect(out);
  dark4_down->collect(out);
  dark4->collect(out);
  dark5_down->collect(out);
  dark5_spp->collect(out);
  dark5->collect(out);
  lateral_conv0->collect(out);
  c3_p4->collect(out);
  reduce_conv1->collect(out);
  c3_p3->collect(out);
  bu_conv2->collect(out);
  c3_n3->collect(out);
  bu_conv1->collect(out);
  c3_n4->collect(out);
  for (size_t k = 0; k < 3; ++k) {
    stems[k]->collect(out);
    cls_convs[2 * k]->collect(out);
    cls_convs[2 * k + 1]->collect(out);
    out.push_back(cls_preds[k]);
    reg_convs[2 * k]->collect(out);
    reg_convs[2 * k + 1]->collect(out);
    out.push_back(reg_preds[k]);
    out.push_back(obj_preds[k]);
  }
  return out;
}

torch::Tensor flatten(const level_outputs& outs) {
  std::vector<torch::Tensor> parts;
  for (auto& o : outs)
    parts.push_back(o.flatten(2).permute({0, 2, 1})); // [N, HW, C]
  return torch::cat(parts, 1);
}

std::pair<torch::Tensor, torch::Tensor> grid(int height, int width,
                                             const torch::Device& dev) {
  std::vector<torch::Tensor> xy, st;
  for (int s : strides) {
    auto gh = height / s;
    auto gw = width / s;
    auto ys = torch::arange(gh, torch::kFloat32);
    auto xs = torch::arange(gw, torch::kFloat32);
    auto mesh = torch::meshgrid({ys, xs}, "ij");
    xy.push_back(torch::stack({mesh[1].flatten(), mesh[0].flatten()}, 1));
    st.push_back(torch::full({gh * gw, 1}, static_cast<float>(s)));
  }
  return {torch::cat(xy, 0).to(dev), torch::cat(st, 0).to(dev)};
}

} // namespace recl::yolox
