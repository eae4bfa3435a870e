#include "actors/zoo_policy.hpp"

#include <algorithm>

namespace recl {

bool promising(double acc, const std::vector<double>& others, double alpha) {
  for (auto o : others)
    if (acc < o + alpha - 1e-12)
      return false;
  return true;
}

size_t safety_choice(const std::vector<std::string>& ids,
                     const std::vector<float>& scores,
                     const std::string& current) {
  return safety_choice(ids, scores, scores, current);
}

size_t safety_choice(const std::vector<std::string>& ids,
                     const std::vector<float>& pick,
                     const std::vector<float>& confirm,
                     const std::string& current) {
  auto n = std::min({ids.size(), pick.size(), confirm.size()});
  float current_score = -1;
  bool has_current = false;
  size_t best = ids.size();
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] == current) {
      current_score = confirm[i];
      has_current = true;
    }
    if (pick[i] >= 0 && (best == ids.size() || pick[i] > pick[best]))
      best = i;
  }
  if (best == ids.size() || ids[best] == current)
    return ids.size();
  if (!current.empty() && has_current && !(confirm[best] > current_score))
    return ids.size();
  return best;
}

namespace {

/// Where `id` is among `ids` with a score, or `ids.size()`.
size_t scored_index(const std::vector<std::string>& ids,
                    const std::vector<float>& all, const std::string& id) {
  for (size_t i = 0; i < ids.size() && i < all.size(); ++i)
    if (!id.empty() && ids[i] == id && all[i] >= 0)
      return i;
  return ids.size();
}

} // namespace

size_t line_of(const std::vector<std::string>& ids,
               const std::vector<float>& all, const std::string& current,
               const std::string& own) {
  // A tie goes to the retrained model: where the frames cannot tell the
  // two apart (e.g. both find every object of an easy scene), the one
  // trained on the most recent frames is the better bet, and keeping the
  // older one would hold a camera on a model chosen for a place it may
  // since have left.
  auto cur = scored_index(ids, all, current);
  auto mine = scored_index(ids, all, own);
  if (mine < ids.size() && (cur == ids.size() || all[mine] >= all[cur]))
    return mine;
  return cur;
}

size_t lineage_choice(const std::vector<std::string>& ids,
                      const std::vector<float>& all,
                      const std::vector<float>& pick,
                      const std::vector<float>& confirm,
                      const std::string& current, const std::string& own) {
  auto n = std::min({ids.size(), all.size(), pick.size(), confirm.size()});
  // The default: the camera's own line (line_of).
  auto line = line_of(ids, all, current, own);
  auto cur = scored_index(ids, all, current);
  auto keep_or = [&](size_t i) { return i == cur ? ids.size() : i; };
  size_t best = ids.size();
  for (size_t i = 0; i < n; ++i)
    if (pick[i] >= 0 && (best == ids.size() || pick[i] > pick[best]))
      best = i;
  if (best == ids.size() || best == line)
    return keep_or(line);
  if (line < ids.size() && !(confirm[best] > confirm[line]))
    return keep_or(line);
  return keep_or(best);
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

std::string
selection_log::least_chosen(const std::map<std::string, uint64_t>& zoo) const {
  std::string out;
  uint32_t fewest = 0;
  uint64_t oldest = 0;
  for (auto& [id, admitted] : zoo) {
    auto n = count(id);
    if (out.empty() || n < fewest || (n == fewest && admitted < oldest)) {
      out = id;
      fewest = n;
      oldest = admitted;
    }
  }
  return out;
}

} // namespace recl
