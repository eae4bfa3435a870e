#pragma once
// recl-bench's policies (see policies.cpp).

#include "bench/bench_report.hpp"

#include <vector>

namespace recl::bench {

/// Every policy recl-bench knows, by name, with the recld settings that
/// make it and a line saying what it is.
const std::vector<policy>& all_policies();

} // namespace recl::bench
