#include "gpu/device.hpp"

#include "gpu/torch_device.hpp"

#include <ATen/Parallel.h>
#include <cstdlib>
#include <string>
#include <mutex>
#include <optional>
#include <stdexcept>
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

/// The device set by use_device on this thread, if any.
thread_local std::optional<c10::Device> this_thread;

} // namespace

c10::Device device() {
  static const c10::Device dev = pick();
  return this_thread ? *this_thread : dev;
}

int cuda_devices() {
  return torch::cuda::is_available()
           ? static_cast<int>(torch::cuda::device_count())
           : 0;
}

void use_device(const std::string& name) {
  // "cpu:N" names one of several GPU owners sharing the CPU: all run there.
  c10::Device d{c10::kCPU};
  try {
    if (name.rfind("cpu", 0) != 0)
      d = c10::Device{name};
  } catch (const std::exception&) {
    throw std::invalid_argument("'" + name
                                + "' is not a device (cpu or cuda:N)");
  }
  if (d.is_cuda() && (!d.has_index() || d.index() >= cuda_devices()))
    throw std::invalid_argument("device " + name + ": this LibTorch sees "
                                + std::to_string(cuda_devices())
                                + " CUDA devices");
  if (!d.is_cpu() && !d.is_cuda())
    throw std::invalid_argument("'" + name
                                + "' is not a device (cpu or cuda:N)");
  this_thread = d;
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
