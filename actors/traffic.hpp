#pragma once
// What crosses the links between the coordinator's store and its worker
// nodes (cluster.cpp counts, the GPU pool's report shows it).

#include "schema/messages.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace recl {

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
