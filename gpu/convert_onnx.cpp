// recl-convert: reads the pretrained weights inside yolox_nano.onnx (Debian's
// libonnx protobuf API) and writes them as a LibTorch archive of the expert
// network, once. The model library itself never links ONNX.

#include "common/settings.hpp"
#include "gpu/yolox.hpp"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <iostream>
#include <map>

using namespace recl;

namespace {

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
                               + " bytes for " + std::to_string(n)
                               + " floats");
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

} // namespace

int main(int argc, char** argv) {
  options o{"recl-convert", "--onnx FILE --out FILE",
            "Converts YOLOX-Nano's ONNX weights (BatchNorm folded) into a "
            "LibTorch archive\nof recl's expert network."};
  o.add("onnx", "FILE", "yolox_nano.onnx")
    .add("out", "FILE", "where to write the archive");
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    if (!o.given("onnx") || !o.given("out"))
      throw usage_error("--onnx and --out are required (see --help)");
  } catch (const usage_error& e) {
    std::cerr << "recl-convert: " << e.what() << "\n";
    return 2;
  }
  try {
    onnx::ModelProto model;
    std::ifstream in{o.get("onnx"), std::ios::binary};
    if (!in || !model.ParseFromIstream(&in))
      throw std::runtime_error("cannot parse " + o.get("onnx")
                               + " as an ONNX model");
    std::map<std::string, const onnx::TensorProto*> inits;
    for (auto& t : model.graph().initializer())
      inits[t.name()] = &t;
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
      auto what = "convolution " + std::to_string(i) + " (" + node.input(1)
                  + ")";
      assign(targets[i]->weight, tensor_of(*w->second), what);
      assign(targets[i]->bias, tensor_of(*b->second), what + " bias");
    }
    torch::save(net, o.get("out"));
    std::cout << "recl-convert: " << convs.size() << " convolutions from "
              << o.get("onnx") << " written to " << o.get("out") << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "recl-convert: " << e.what() << "\n";
    return 1;
  }
}
