#pragma once
// What crosses the links between the coordinator's store and its worker
// nodes (cluster.cpp counts, the GPU pool's report shows it), and what a
// worker keeps so that a model crosses once.

#include "schema/messages.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// Whether `key` holds a model's weights: an admitted expert's or a
/// retrained model's. Such a value never changes once written.
bool is_model_weights(family f, std::string_view key);

/// A worker node's models read from the coordinator's store, most recently
/// used last, up to a number of bytes: its GPU owners share them, so a
/// model crosses the link once per worker, not once per owner. Safe to use
/// from any thread.
class model_cache {
public:
  explicit model_cache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  std::optional<std::string> get(const std::string& key);

  /// Keeps `value`, dropping the least recently used beyond the limit (a
  /// value larger than the limit is not kept).
  void put(const std::string& key, const std::string& value);

  uint64_t bytes() const;

private:
  mutable std::mutex mu_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  std::list<std::pair<std::string, std::string>> entries_;
};

/// What the coordinator's store sends to and receives from each worker
/// node (link_traffic), counted by the node's store server and read by the
/// GPU pool's report. Safe to use from any thread.
class cluster_traffic {
public:
  /// A request from `node` that received `in` bytes of values and sent
  /// `out`; `model` is the key of the model weights it sent ("": none).
  void count(const std::string& node, uint64_t in, uint64_t out,
             const std::string& model = "");

  /// Every node's counts, by name.
  std::vector<link_traffic> snapshot() const;

private:
  struct entry {
    link_traffic t;
    std::set<std::string> experts; ///< keys of the weights it was sent
  };
  mutable std::mutex mu_;
  std::map<std::string, entry> nodes_;
};

} // namespace recl
