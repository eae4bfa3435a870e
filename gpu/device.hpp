#pragma once
// One place that decides where models run: CUDA when the LibTorch in use has
// it (Debian's has not), else the CPU, with a thread count that leaves room
// for CAF's workers on small machines.

#include <string>

namespace recl::gpu {

/// "cuda:0" or "cpu". The environment variable RECL_DEVICE=cpu forces the
/// CPU where CUDA exists.
std::string device_name();

/// Whether models run on CUDA.
bool on_cuda();

/// Sets LibTorch's intra-op threads (0 = one per core) and
/// one inter-op thread. Call once at start-up, before any model runs.
void configure_threads(int threads = 0);

} // namespace recl::gpu
