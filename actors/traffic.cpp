#include "actors/traffic.hpp"

#include "store/keys.hpp"

namespace recl {

bool is_model_weights(family f, std::string_view key) {
  auto starts = [&](const std::string& prefix) {
    return key.substr(0, prefix.size()) == prefix;
  };
  return f == family::experts
         && (starts(keys::weights("")) || starts(keys::model_prefix));
}

std::optional<std::string> model_cache::get(const std::string& key) {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto i = entries_.begin(); i != entries_.end(); ++i)
    if (i->first == key) {
      entries_.splice(entries_.end(), entries_, i);
      return entries_.back().second;
    }
  return std::nullopt;
}

void model_cache::put(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> guard{mu_};
  if (value.size() > max_bytes_)
    return;
  for (auto& e : entries_)
    if (e.first == key)
      return;
  entries_.emplace_back(key, value);
  bytes_ += value.size();
  while (bytes_ > max_bytes_) {
    bytes_ -= entries_.front().second.size();
    entries_.pop_front();
  }
}

uint64_t model_cache::bytes() const {
  std::lock_guard<std::mutex> guard{mu_};
  return bytes_;
}

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
