#pragma once
// Every record the store keeps, in one encoding: common/record.hpp's tagged
// binary codec. A record's first four bytes name its kind and version
// ("CA01": a camera, version 1); store/keys.hpp owns the keys they live
// under. Model weights, the gating checkpoint and ODIN's autoencoder are the
// model library's own bytes (gpu/), stored as they are.
//
// Data directories written before store schema 2 hold camera, expert and
// credential records as text, the gating network's outputs and version under
// two keys, and centroids as bare floats. Those are still read; the next
// write of a record replaces it with its tagged form.
//
// Decoding throws std::runtime_error on a damaged record, before it can
// allocate more than the record holds (tests/fuzz/records.cpp).

#include "actors/types.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

/// A camera's record ("CA01", keyed by its id; `connected` is not stored).
std::string encode(const camera_info& x);
camera_info decode_camera_info(const std::string& id, std::string_view data);

/// An admitted expert's description ("EX01", `keys::info(id)`; `chosen` is
/// counted from the selection log, not stored).
std::string encode(const expert_info& x);
expert_info decode_expert_info(const std::string& id, std::string_view data);

/// A gating training sample ("GS01", `keys::seq(n)` in family::samples).
std::string encode(const gating_sample& x);
gating_sample decode_gating_sample(std::string_view data);

/// A candidate waiting for admission ("QC01", `keys::queued_info(id)`).
std::string encode(const candidate& x);
candidate decode_candidate(std::string_view data);

/// Which gating network is current: its version and its outputs' expert ids,
/// in order ("GX01", `keys::gating_index`).
struct gating_index {
  uint64_t version = 0;
  std::vector<std::string> experts;
};
std::string encode(const gating_index& x);
gating_index decode_gating_index(std::string_view data);
/// The index as stored before schema 2: the ids one per line, the version
/// as decimal text.
gating_index gating_index_from_text(const std::string& ids,
                                    const std::string& version);

/// ODIN's centroid of an expert's frames ("CE01", `keys::centroid(id)`).
std::string encode_centroid(const std::vector<float>& x);
std::vector<float> decode_centroid(std::string_view data);

/// A named credential ("CR01", `keys::credential(name)`): never the secret,
/// only a salted hash of it.
struct credential_record {
  std::string role;
  std::string cameras;
  int64_t created_unix_ms = 0;
  std::string salt; ///< hex
  std::string hash; ///< hex SHA-256 of salt bytes + secret
};
std::string encode(const credential_record& x);
credential_record decode_credential(std::string_view data);

} // namespace recl
