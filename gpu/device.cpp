#include "gpu/device.hpp"

#include "gpu/torch_device.hpp"

#include <ATen/Parallel.h>
#include <cstdlib>
#include <string>
#include <mutex>
#include <thread>
#include <torch/cuda.h>

namespace recl::gpu {

namespace {

c10::Device pick() {
  // RECL_DEVICE=cpu keeps models on the CPU even where CUDA exists (to
  // compare, or to leave the accelerator to others).
  if (const char* forced = std::getenv("RECL_DEVICE"))
    if (std::string{forced} == "cpu")
      return c10::Device(c10::kCPU);
  return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0)
                                     : c10::Device(c10::kCPU);
}

} // namespace

c10::Device device() {
  static const c10::Device dev = pick();
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
    // All cores: on 2 cores, one LibTorch thread trains ~8x slower than two
    // (measured with recld: 11 micro-windows in 197 s), while CAF's workers
    // and the teacher mostly wait on the GPU owner anyway.
    if (n <= 0)
      n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
    try {
      at::set_num_interop_threads(1);
    } catch (...) {
      // Already started by an earlier parallel call: keep LibTorch's choice.
    }
  });
}

} // namespace recl::gpu
