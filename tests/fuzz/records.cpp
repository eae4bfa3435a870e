// Fuzzes the decoding of stored records (actors/records.cpp), every kind, as
// read back from RocksDB after a crash or from a damaged disk. Every bad
// record must be an exception.

#include "actors/records.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

using namespace recl;

/// Runs `decode`; a bad record may throw, nothing else may happen.
template <class F>
void survive(F decode) {
  try {
    decode();
  } catch (const std::exception&) {
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  survive([&] { decode_camera_info("cam", bytes); });
  survive([&] { decode_expert_info("e", bytes); });
  survive([&] { decode_gating_sample(bytes); });
  survive([&] { decode_candidate(bytes); });
  survive([&] { decode_gating_index(bytes); });
  survive([&] { decode_centroid(bytes); });
  survive([&] { decode_credential(bytes); });
  return 0;
}
