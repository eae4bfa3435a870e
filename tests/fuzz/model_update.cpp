// Fuzzes the decoding of a model update (schema/update_codec.cpp), as an
// edge reads one from the server's reply: byte planes and zstd frames that
// claim any size. Every bad update must be an exception, and none may make
// the decoder allocate more than its limit.

#include "schema/model_update.hpp"

#include <cstdint>
#include <stdexcept>
#include <string_view>

using namespace recl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto u = decode_model_update(
      std::string_view{reinterpret_cast<const char*>(data), size}, 1u << 20);
    if (u.tensors.size() != u.relative.size())
      __builtin_trap();
  } catch (const std::exception&) {
  }
  return 0;
}
