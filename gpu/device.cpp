#include "gpu/device.hpp"

#include "gpu/torch_device.hpp"

#include <ATen/Parallel.h>
#include <mutex>
#include <thread>
#include <torch/cuda.h>

namespace recl::gpu {

c10::Device device() {
  static const c10::Device dev = torch::cuda::is_available()
                                   ? c10::Device(c10::kCUDA, 0)
                                   : c10::Device(c10::kCPU);
  return dev;
}

std::string device_name() {
  return device().str();
}

bool on_cuda() {
  return device().is_cuda();
}

void configure_threads(int threads) {
  static std::once_flag once;
  std::call_once(once, [&] {
    auto n = threads;
    if (n <= 0)
      n = std::max(1u, std::thread::hardware_concurrency() / 2);
    at::set_num_threads(n);
    try {
      at::set_num_interop_threads(1);
    } catch (...) {
      // Already started by an earlier parallel call: keep LibTorch's choice.
    }
  });
}

} // namespace recl::gpu
