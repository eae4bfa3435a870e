#pragma once
// Real frames of catalog clips for the model tests.

#include "gpu/image.hpp"

#include <string>
#include <vector>

namespace recl::test {

/// Up to `n` frames of catalog clip `clip`, every `skip`-th from `offset`.
std::vector<image> clip_frames(const std::string& clip, size_t n, size_t skip,
                               size_t offset = 0);

} // namespace recl::test
