// Fuzzes the decoding of stored records (actors/types.cpp): camera and
// expert records, gating samples and queued candidates, as read back from RocksDB after a
// crash or from a damaged disk. Every bad record must be an exception.

#include "actors/types.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

using namespace recl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    decode_camera_info("cam", bytes);
  } catch (const std::exception&) {
  }
  try {
    decode_expert_info("e", bytes);
  } catch (const std::exception&) {
  }
  try {
    gating_sample::decode(bytes);
  } catch (const std::exception&) {
  }
  try {
    decode_candidate(bytes);
  } catch (const std::exception&) {
  }
  return 0;
}
