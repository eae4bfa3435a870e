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

/// The p-th percentile (0..100, nearest rank) of `xs`; 0 when empty.
inline double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<size_t>(p / 100.0 * (xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

} // namespace recl::bench

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace recl::bench {

/// The mean of paired differences with a 95% bootstrap interval.
struct paired_ci {
  size_t n = 0;
  double mean = 0, lo = 0, hi = 0;
  /// A difference counts only when its interval excludes 0.
  bool measurable() const { return n > 1 && (lo > 0 || hi < 0); }
};

/// Percentile bootstrap over the pairs (`resamples` draws with replacement,
/// a fixed seed so a report is reproducible from its rows).
inline paired_ci bootstrap_mean(const std::vector<double>& diffs,
                                int resamples = 4000, uint64_t seed = 12345) {
  paired_ci r;
  r.n = diffs.size();
  if (diffs.empty())
    return r;
  double sum = 0;
  for (auto d : diffs)
    sum += d;
  r.mean = sum / static_cast<double>(diffs.size());
  std::mt19937_64 rng{seed};
  std::uniform_int_distribution<size_t> pick{0, diffs.size() - 1};
  std::vector<double> means;
  means.reserve(static_cast<size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    double t = 0;
    for (size_t i = 0; i < diffs.size(); ++i)
      t += diffs[pick(rng)];
    means.push_back(t / static_cast<double>(diffs.size()));
  }
  std::sort(means.begin(), means.end());
  auto at = [&](double p) {
    auto i = static_cast<size_t>(p * static_cast<double>(means.size() - 1));
    return means[i];
  };
  r.lo = at(0.025);
  r.hi = at(0.975);
  return r;
}

/// `value(a[k]) - value(b[k])` over the keys (windows) both maps hold:
/// its mean and bootstrap interval.
template <class Map, class Value>
paired_ci paired_difference(const Map& a, const Map& b, Value value) {
  std::vector<double> d;
  for (auto& [k, x] : a)
    if (auto i = b.find(k); i != b.end())
      d.push_back(value(x) - value(i->second));
  return bootstrap_mean(d);
}

/// "+0.006 (+0.003..+0.010)": the mean and its interval.
inline std::string ci_text(const paired_ci& c) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%+.3f (%+.3f..%+.3f)", c.mean, c.lo, c.hi);
  return buf;
}

} // namespace recl::bench
