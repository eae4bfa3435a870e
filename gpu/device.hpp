#pragma once
// One place that decides where models run: CUDA when the LibTorch in use has
// it (Debian's has not), else the CPU, with a thread count that leaves room
// for CAF's workers on small machines.

#include <string>

namespace recl::gpu {

/// "cuda:0" or "cpu": where this thread's models run (see use_device). The
/// environment variable RECL_DEVICE=cpu forces the CPU where CUDA exists.
std::string device_name();

/// Runs this thread's models on `name` ("cpu", "cpu:N" which is the CPU
/// too, "cuda:N") from now on: each
/// GPU owner calls it on its own thread, so one process can drive several
/// devices. Throws std::invalid_argument for a device this LibTorch cannot
/// use (a CUDA device without CUDA, or beyond the count).
void use_device(const std::string& name);

/// The CUDA devices this LibTorch sees (0 without CUDA).
int cuda_devices();

/// Whether models run on CUDA.
bool on_cuda();

/// Sets LibTorch's intra-op threads (0 = one per core) and
/// one inter-op thread. Call once at start-up, before any model runs.
void configure_threads(int threads = 0);

} // namespace recl::gpu
