#include "actors/zoo_policy.hpp"

namespace recl {

bool promising(double acc, const std::vector<double>& others, double alpha) {
  for (auto o : others)
    if (acc < o + alpha - 1e-12)
      return false;
  return true;
}

std::vector<uint64_t> selection_log::record(uint64_t seq,
                                            const std::string& id) {
  recent_.emplace_back(seq, id);
  counts_[id] += 1;
  total_ = seq + 1;
  std::vector<uint64_t> dropped;
  while (recent_.size() > q_) {
    auto& front = recent_.front();
    if (--counts_[front.second] == 0)
      counts_.erase(front.second);
    dropped.push_back(front.first);
    recent_.pop_front();
  }
  return dropped;
}

uint32_t selection_log::count(const std::string& id) const {
  auto i = counts_.find(id);
  return i == counts_.end() ? 0 : i->second;
}

std::vector<std::string>
selection_log::to_prune(const std::map<std::string, uint64_t>& zoo,
                        uint32_t eta) const {
  std::vector<std::string> out;
  for (auto& [id, admitted_at] : zoo)
    if (total_ >= admitted_at + q_ && count(id) < eta)
      out.push_back(id);
  return out;
}

} // namespace recl
