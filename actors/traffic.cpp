#include "actors/traffic.hpp"

namespace recl {

void cluster_traffic::count(const std::string& node, uint64_t in, uint64_t out,
                            const std::string& model) {
  std::lock_guard<std::mutex> guard{mu_};
  auto& e = nodes_[node];
  e.t.store_requests += 1;
  e.t.bytes_received += in;
  e.t.bytes_sent += out;
  if (model.empty())
    return;
  e.t.experts_sent += 1;
  e.t.expert_bytes += out;
  e.experts.insert(model);
}

std::vector<link_traffic> cluster_traffic::snapshot() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<link_traffic> out;
  for (auto& [name, e] : nodes_) {
    out.push_back(e.t);
    out.back().node = name;
    out.back().experts_moved = e.experts.size();
  }
  return out;
}

} // namespace recl
