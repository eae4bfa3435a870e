// Fuzzes the decoding of stored records (actors/records.cpp), every kind, as
// read back from RocksDB after a crash or from a damaged disk. Every bad
// record must be an exception.

#include "actors/records.hpp"

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
    decode_gating_sample(bytes);
  } catch (const std::exception&) {
  }
  try {
    decode_candidate(bytes);
  } catch (const std::exception&) {
  }
  try {
    decode_gating_index(bytes);
  } catch (const std::exception&) {
  }
  try {
    decode_centroid(bytes);
  } catch (const std::exception&) {
  }
  try {
    decode_credential(bytes);
  } catch (const std::exception&) {
  }
  return 0;
}
