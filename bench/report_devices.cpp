// Fig. 6 of the paper: accuracy against the number of devices, from a run
// with --devices (each policy played once per device count, as the variant
// "POLICY[devices=cpu:N]"). Every comparison is paired on the same frames
// (seed, camera, window) with a 95% bootstrap interval, so "rises" and
// "needs N devices to match" mean measurably, not one run's luck.

#include "bench/report_sections.hpp"

#include "bench/plot.hpp"
#include "bench/stats.hpp"

#include <map>
#include <set>
#include <sstream>

namespace recl::bench {

namespace {

/// One window's mAP by (seed, camera, window).
using scores = std::map<std::tuple<uint64_t, std::string, size_t>, double>;

/// "ams[devices=cpu:4]" as ("ams", 4); false for a name without devices.
bool split_devices(const std::string& name, std::string& policy,
                   uint32_t& devices) {
  const std::string tag = "[devices=cpu:";
  auto at = name.find(tag);
  if (at == std::string::npos || name.back() != ']')
    return false;
  auto count = name.substr(at + tag.size(), name.size() - at - tag.size() - 1);
  if (count.empty()
      || count.find_first_not_of("0123456789") != std::string::npos
      || count.size() > 4)
    return false;
  policy = name.substr(0, at);
  devices = static_cast<uint32_t>(std::stoul(count));
  return true;
}

/// `a` minus `b` on the windows both scored.
paired_ci minus(const scores& a, const scores& b) {
  return paired_difference(a, b, [](double x) { return x; });
}

double mean_of(const scores& s) {
  double t = 0;
  for (auto& [k, x] : s)
    t += x;
  return s.empty() ? 0 : t / static_cast<double>(s.size());
}

/// Runs by policy, then by device count.
using by_policy = std::map<std::string, std::map<uint32_t, scores>>;

/// Mean mAP per policy (RECL first) and device count.
void means_table(std::ostream& out, by_policy& by,
                 const std::vector<std::string>& order,
                 const std::set<uint32_t>& counts) {
  out << "Mean mAP@0.5 over the scored windows, per number of devices.\n\n"
         "| policy |";
  for (auto d : counts)
    out << ' ' << d << " |";
  out << "\n|---|";
  for (size_t i = 0; i < counts.size(); ++i)
    out << "---|";
  out << '\n';
  for (auto& p : order) {
    auto& m = by[p];
    out << "| " << p << " |";
    for (auto d : counts)
      out << (m.count(d) ? cv::format(" %.3f |", mean_of(m[d])) : " - |");
    out << '\n';
  }
}

/// Each policy at each device count against itself at the fewest.
void gains_table(std::ostream& out, by_policy& by,
                 const std::vector<std::string>& order, uint32_t first) {
  out << "\nMore devices, paired with the same policy at " << first
      << " (an interval that includes 0: no measurable difference).\n\n"
         "| policy | devices | difference (95% interval) | verdict |\n"
         "|---|---|---|---|\n";
  for (auto& p : order)
    for (auto& [d, s] : by[p])
      if (d != first && by[p].count(first)) {
        auto c = minus(s, by[p][first]);
        out << "| " << p << " | " << d << " vs " << first << " | " << ci_text(c)
            << " | "
            << (!c.measurable() ? "no measurable difference"
                : c.mean > 0    ? "rises"
                                : "falls")
            << " |\n";
      }
}

/// Each other policy against RECL at each of RECL's device counts, and the
/// fewest devices at which it is not measurably below.
void match_table(std::ostream& out, by_policy& by, uint32_t most) {
  out << "\nEach other policy against RECL: its difference from RECL at "
         "RECL's device count, at each of its own, and the fewest devices "
         "at which it is not measurably below RECL (\"> N\": below at every "
         "count run).\n\n| policy | RECL's devices | its devices: difference "
         "(95% interval) | devices it needs |\n|---|---|---|---|\n";
  for (auto& [p, m] : by) {
    if (p == "recl")
      continue;
    for (auto& [rd, rs] : by["recl"]) {
      std::string cells, needs;
      for (auto& [d, s] : m) {
        auto c = minus(s, rs);
        cells += (cells.empty() ? "" : "; ") + std::to_string(d) + ": "
                 + ci_text(c);
        if (needs.empty() && c.n > 1 && c.hi >= 0)
          needs = std::to_string(d);
      }
      out << "| " << p << " | " << rd << " | " << cells << " | "
          << (needs.empty() ? "> " + std::to_string(most) : needs) << " |\n";
    }
  }
}

/// The device-count tables of one camera count and budget.
void devices_tables(std::ostream& out, by_policy& by, size_t n, int b) {
  std::set<uint32_t> counts;
  std::vector<std::string> order; // RECL first
  for (auto& [p, m] : by) {
    order.insert(p == "recl" ? order.begin() : order.end(), p);
    for (auto& [d, s] : m)
      counts.insert(d);
  }
  out << "\n## Accuracy against devices (Fig. 6; " << n << " cameras, budget "
      << b << ")\n\n";
  means_table(out, by, order, counts);
  gains_table(out, by, order, *counts.begin());
  if (by.count("recl"))
    match_table(out, by, *counts.rbegin());
}

} // namespace

void devices_section(std::ostream& rep, report_input& in) {
  // (cameras, budget) -> policy -> devices -> scores.
  std::map<std::pair<size_t, int>, by_policy> runs;
  for (auto& r : in.rows) {
    std::string policy;
    uint32_t devices = 0;
    if (r.sparse || !split_devices(r.policy, policy, devices))
      continue;
    runs[{r.cameras, r.budget}][policy][devices][{r.seed, r.camera, r.window}]
      = r.map;
  }
  for (auto& [nb, by] : runs) {
    std::ostringstream out;
    devices_tables(out, by, nb.first, nb.second);
    rep << out.str();
    std::printf("%s", out.str().c_str()); // the verdict, on the console too
  }
}

} // namespace recl::bench
