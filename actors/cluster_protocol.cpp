#include "actors/cluster_protocol.hpp"

#include <caf/actor_system.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/typed_actor.hpp>

#include <utility>

namespace recl {

namespace {

template <class T>
void add_type(std::string& out, caf::actor_system& sys) {
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  T x{};
  if (auto err = sink(x))
    out += "unserializable ";
  out += caf::type_name<T>::value;
  out += ':';
  for (auto b : bytes)
    out += std::to_string(static_cast<uint8_t>(b)) + ',';
  out += '\n';
}

/// Every type of recl's type ID block, in ID order.
template <uint16_t... Is>
void add_types(std::string& out, caf::actor_system& sys,
               std::integer_sequence<uint16_t, Is...>) {
  constexpr auto first = caf::id_block::recl::begin;
  (add_type<typename caf::type_by_id<first + Is>::type>(out, sys), ...);
}

template <class Handle>
void add_interface(std::string& out, caf::actor_system& sys, const char* name) {
  out += name;
  out += ":\n";
  for (auto& m : sys.message_types<Handle>())
    out += "  " + m + '\n';
}

} // namespace

std::string protocol_refusal(uint32_t protocol) {
  if (protocol == cluster_protocol)
    return "";
  return "it speaks cluster protocol " + std::to_string(protocol)
         + ", this coordinator " + std::to_string(cluster_protocol)
         + ": run the same recl release on every node";
}

std::string cluster_shape(caf::actor_system& sys) {
  std::string out = "types:\n";
  constexpr auto n = caf::id_block::recl::end - caf::id_block::recl::begin;
  add_types(out, sys, std::make_integer_sequence<uint16_t, n>{});
  add_interface<door_actor>(out, sys, "door");
  add_interface<store_actor>(out, sys, "store");
  add_interface<gpu_owner_actor>(out, sys, "gpu owner");
  add_interface<labeler_actor>(out, sys, "labeler");
  return out;
}

} // namespace recl
