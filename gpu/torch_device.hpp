#pragma once
// The device as a LibTorch type, for the gpu/ sources that include torch.

#include <c10/core/Device.h>

namespace recl::gpu {

/// The device this thread's resident models live on (use_device), by
/// default the process's.
c10::Device device();

} // namespace recl::gpu
