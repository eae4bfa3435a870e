#pragma once
// What crosses a node link (cluster.hpp): the coordinator's door and store,
// and, once a worker joined, its GPU owners and labelers, with every type
// their messages carry. Two nodes must agree on all of it: a message one of
// them cannot decode is lost without a word. So a worker says its protocol
// version at hello, and a coordinator of another version refuses it, by
// name, before anything else crosses.

#include "actors/actors.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace recl {

/// The version of what crosses a node link. Raise it, and set
/// cluster_shape_hash with it, whenever tests/actors/cluster_messages.cpp
/// says the shape changed.
constexpr uint32_t cluster_protocol = 3; // 3: streamed steps

/// The SHA-256 of cluster_shape() for this version.
constexpr const char* cluster_shape_hash
  = "2287a5aab49b1327e3fa54115a5e68fe96df69d59a0cd59a8999d0ee53e2b9a6";

/// The coordinator's store, for workers' GPU owners. A get answers zero or
/// one value; a scan, keys and values in turn.
using store_actor = caf::typed_actor<
  caf::replies_to<kv_get_atom, uint8_t,
                  std::string>::with<std::vector<std::string>>,
  caf::replies_to<kv_put_atom, uint8_t, std::string, std::string>::with<bool>,
  caf::replies_to<kv_scan_atom, uint8_t,
                  std::string>::with<std::vector<std::string>>>;

/// What the coordinator publishes. A node says hello with its name and
/// cluster_protocol; it gets a store server of its own and the
/// node_welcome, or an error naming both versions. Then it offers its
/// owners (node, device, owner) and labelers (node, labeler).
using door_actor = caf::typed_actor<
  caf::replies_to<hello_atom, std::string, uint32_t>::with<caf::actor,
                                                           node_welcome>,
  caf::reacts_to<join_atom, std::string, std::string, caf::actor>,
  caf::reacts_to<join_atom, label_atom, std::string, caf::actor>>;

/// Why the coordinator refuses a node that says `protocol` at hello; ""
/// when it speaks this one.
std::string protocol_refusal(uint32_t protocol);

/// A text that changes when what crosses a node link changes shape: each
/// interface's messages, and each message type's name with the bytes of
/// its default value. A field added or removed changes them, and so does
/// one whose size changes; two fields of one type swapped do not.
std::string cluster_shape(caf::actor_system& sys);

} // namespace recl
