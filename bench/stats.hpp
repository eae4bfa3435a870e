#pragma once
// Small helpers shared by the benchmarks (header-only, plain C++).

#include <algorithm>
#include <vector>

namespace recl::bench {

/// The median of `xs` (0 when empty); the benchmarks report medians because
/// the machines are noisy.
inline double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace recl::bench
