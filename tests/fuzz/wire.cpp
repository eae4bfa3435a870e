// Fuzzes the RPC message decode path: bytes as a Cap'n Proto message, read
// as each struct the gateway and the client read (schema/wire.cpp), with the
// limits recld reads with. Every malformed input must be a kj::Exception.

#include "schema/wire.hpp"

#include <capnp/serialize.h>

#include <cstring>

using namespace recl;

namespace {

template <class Reader, class T>
void read_as(Reader r, T& out) {
  wire::read(r, out);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  std::memcpy(words.begin(), data, words.size() * sizeof(capnp::word));
  capnp::ReaderOptions limits;
  limits.traversalLimitInWords = 1 << 20;
  try {
    capnp::FlatArrayMessageReader msg(words, limits);
    auto window = msg.getRoot<rpc::Window>();
    for (auto f : window.getFrames()) {
      frame x;
      read_as(f, x);
    }
    decision d;
    read_as(msg.getRoot<rpc::Decision>(), d);
    status_info s;
    read_as(msg.getRoot<rpc::Status>(), s);
    scheduler_report r;
    read_as(msg.getRoot<rpc::SchedulerReport>(), r);
    edge_stats e;
    read_as(msg.getRoot<rpc::EdgeStats>(), e);
    server_limits l;
    read_as(msg.getRoot<rpc::Limits>(), l);
    std::string token = msg.getRoot<rpc::Hello>().getToken();
  } catch (const kj::Exception&) {
    // Refused, as recld refuses it.
  }
  return 0;
}
