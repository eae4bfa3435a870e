#pragma once
// The device as a LibTorch type, for the gpu/ sources that include torch.

#include <c10/core/Device.h>

namespace recl::gpu {

/// The device every resident model lives on.
c10::Device device();

} // namespace recl::gpu
