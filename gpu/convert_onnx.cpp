// recl-convert: reads the pretrained weights inside yolox_nano.onnx (Debian's
// libonnx protobuf API) and writes them as a LibTorch archive of the expert
// network, once. The model library itself never links ONNX.

#include "common/settings.hpp"
#include "gpu/mobilenet.hpp"
#include "gpu/yolox.hpp"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <iostream>
#include <map>

using namespace recl;

namespace {

/// Any integer or float initializer as a float tensor of its values.
torch::Tensor values_of(const onnx::TensorProto& t) {
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  c10::ScalarType type;
  size_t width;
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    type = torch::kFloat32;
    width = 4;
    break;
  case onnx::TensorProto::INT8:
    type = torch::kInt8;
    width = 1;
    break;
  case onnx::TensorProto::UINT8:
    type = torch::kUInt8;
    width = 1;
    break;
  case onnx::TensorProto::INT32:
    type = torch::kInt32;
    width = 4;
    break;
  default:
    throw std::runtime_error("initializer " + t.name()
                             + " has an unsupported type");
  }
  auto out = torch::empty(dims, type);
  auto bytes = static_cast<size_t>(out.numel()) * width;
  if (t.raw_data().size() == bytes) {
    std::memcpy(out.data_ptr(), t.raw_data().data(), bytes);
  } else if (type == torch::kFloat32 && t.float_data_size() == out.numel()) {
    std::copy(t.float_data().begin(), t.float_data().end(),
              out.data_ptr<float>());
  } else if (type != torch::kFloat32 && t.int32_data_size() == out.numel()) {
    auto tmp = torch::empty(dims, torch::kInt32);
    std::copy(t.int32_data().begin(), t.int32_data().end(),
              tmp.data_ptr<int32_t>());
    out = tmp.to(type);
  } else {
    throw std::runtime_error("initializer " + t.name() + " holds no data");
  }
  return out.to(torch::kFloat32);
}

torch::Tensor tensor_of(const onnx::TensorProto& t) {
  if (t.data_type() != onnx::TensorProto::FLOAT)
    throw std::runtime_error("initializer " + t.name() + " is not float32");
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (auto d : dims)
    n *= d;
  torch::Tensor out = torch::empty(dims, torch::kFloat32);
  if (!t.raw_data().empty()) {
    if (static_cast<int64_t>(t.raw_data().size()) != n * 4)
      throw std::runtime_error("initializer " + t.name() + " has "
                               + std::to_string(t.raw_data().size())
                               + " bytes for " + std::to_string(n) + " floats");
    std::memcpy(out.data_ptr<float>(), t.raw_data().data(),
                static_cast<size_t>(n) * 4);
  } else if (t.float_data_size() == n) {
    std::copy(t.float_data().begin(), t.float_data().end(),
              out.data_ptr<float>());
  } else {
    throw std::runtime_error("initializer " + t.name() + " holds no data");
  }
  return out;
}

void assign(torch::Tensor& dst, const torch::Tensor& src,
            const std::string& what) {
  if (dst.sizes() != src.sizes()) {
    std::ostringstream msg;
    msg << what << ": the ONNX graph has " << src.sizes()
        << " where the network expects " << dst.sizes();
    throw std::runtime_error(msg.str());
  }
  dst.copy_(src);
}

using initializers = std::map<std::string, const onnx::TensorProto*>;

const onnx::TensorProto& init(const initializers& inits,
                              const std::string& name) {
  auto i = inits.find(name);
  if (i == inits.end())
    throw std::runtime_error("'" + name + "' is not an initializer");
  return *i->second;
}

/// (q - zero point) * scale, per entry of `axis` when scale is a vector.
torch::Tensor dequantize(const torch::Tensor& q, const torch::Tensor& scale,
                         const torch::Tensor& zp, int64_t axis) {
  if (scale.numel() == 1)
    return (q - zp.reshape({})) * scale.reshape({});
  std::vector<int64_t> shape(static_cast<size_t>(q.dim()), 1);
  shape[static_cast<size_t>(axis)] = -1;
  return (q - zp.reshape(shape)) * scale.reshape(shape);
}

/// MobileNetV2 int8 (QLinearConv ... QLinearMatMul, QLinearAdd) -> float.
void convert_mobilenet(const onnx::ModelProto& model, const initializers& inits,
                       const std::string& out) {
  mobilenet::network net;
  auto targets = net->convs_in_order();
  std::vector<const onnx::NodeProto*> convs;
  const onnx::NodeProto* matmul = nullptr;
  const onnx::NodeProto* last_add = nullptr;
  for (auto& n : model.graph().node()) {
    if (n.op_type() == "QLinearConv")
      convs.push_back(&n);
    else if (n.op_type() == "QLinearMatMul")
      matmul = &n;
    else if (n.op_type() == "QLinearAdd" && matmul)
      last_add = &n;
  }
  if (convs.size() != targets.size() || !matmul || !last_add)
    throw std::runtime_error("the ONNX graph has "
                             + std::to_string(convs.size())
                             + " quantized convolutions; MobileNetV2 has "
                             + std::to_string(targets.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < convs.size(); ++i) {
    auto& n = *convs[i];
    if (n.input_size() < 9)
      throw std::runtime_error("quantized convolution " + std::to_string(i)
                               + " has no bias");
    auto x_scale = values_of(init(inits, n.input(1)));
    auto w_scale = values_of(init(inits, n.input(4)));
    auto w = dequantize(values_of(init(inits, n.input(3))), w_scale,
                        values_of(init(inits, n.input(5))), 0);
    auto b = values_of(init(inits, n.input(8))) * x_scale.reshape({})
             * w_scale.reshape({-1});
    auto what = "quantized convolution " + std::to_string(i);
    assign(targets[i]->weight, w, what);
    assign(targets[i]->bias, b.reshape({-1}), what + " bias");
  }
  // Classifier: y = a @ B (B is [1280, 1000]) then + bias.
  auto wq = values_of(init(inits, matmul->input(3)));
  auto w = dequantize(wq, values_of(init(inits, matmul->input(4))),
                      values_of(init(inits, matmul->input(5))), 1);
  assign(net->classifier->weight, w.t().contiguous(), "classifier");
  auto bias = dequantize(values_of(init(inits, last_add->input(3))),
                         values_of(init(inits, last_add->input(4))),
                         values_of(init(inits, last_add->input(5))), 0);
  assign(net->classifier->bias, bias.reshape({-1}), "classifier bias");
  torch::save(net, out);
  std::cout << "recl-convert: MobileNetV2, " << convs.size()
            << " convolutions and the classifier dequantised to " << out
            << "\n";
}

} // namespace

/// YOLOX-Nano's folded convolutions, in graph order, into the expert's
/// network; written to `out`.
void convert_yolox(const onnx::ModelProto& model, const initializers& inits,
                   const std::string& onnx_path, const std::string& out) {
  std::vector<const onnx::NodeProto*> convs;
  for (auto& n : model.graph().node())
    if (n.op_type() == "Conv")
      convs.push_back(&n);
  yolox::network net(80);
  auto targets = net->convs_in_order();
  if (convs.size() != targets.size())
    throw std::runtime_error(
      "the ONNX graph has " + std::to_string(convs.size())
      + " convolutions; YOLOX-Nano has " + std::to_string(targets.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < convs.size(); ++i) {
    auto& node = *convs[i];
    if (node.input_size() < 3)
      throw std::runtime_error("convolution " + std::to_string(i)
                               + " has no bias (BatchNorm not folded?)");
    auto w = inits.find(node.input(1));
    auto b = inits.find(node.input(2));
    if (w == inits.end() || b == inits.end())
      throw std::runtime_error("convolution " + std::to_string(i)
                               + " reads weights that are not initializers");
    auto what = "convolution " + std::to_string(i) + " (" + node.input(1) + ")";
    assign(targets[i]->weight, tensor_of(*w->second), what);
    assign(targets[i]->bias, tensor_of(*b->second), what + " bias");
  }
  torch::save(net, out);
  std::cout << "recl-convert: " << convs.size() << " convolutions from "
            << onnx_path << " written to " << out << "\n";
}

int main(int argc, char** argv) {
  options o{
    "recl-convert", "--onnx FILE --out FILE",
    "Converts the pretrained weights of an ONNX model into a LibTorch "
    "archive:\nYOLOX-Nano (BatchNorm folded) for the detection expert, "
    "or MobileNetV2 int8\n(dequantised) for the classification expert."};
  o.add("onnx", "FILE", "yolox_nano.onnx")
    .add("out", "FILE", "where to write the archive");
  return run_command(o, argc, argv, [&] {
    if (!o.given("onnx") || !o.given("out"))
      throw usage_error("--onnx and --out are required (see --help)");
    onnx::ModelProto model;
    std::ifstream in{o.get("onnx"), std::ios::binary};
    if (!in || !model.ParseFromIstream(&in))
      throw std::runtime_error("cannot parse " + o.get("onnx")
                               + " as an ONNX model");
    initializers inits;
    for (auto& t : model.graph().initializer())
      inits[t.name()] = &t;
    for (auto& n : model.graph().node())
      if (n.op_type() == "QLinearConv") {
        convert_mobilenet(model, inits, o.get("out"));
        return 0;
      }
    convert_yolox(model, inits, o.get("onnx"), o.get("out"));
    return 0;
  });
}
