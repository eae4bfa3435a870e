#pragma once
// Every key of the store, by family: the one place that spells them. The
// records under them are encoded in actors/records.hpp; weights and
// checkpoints are the model library's own bytes.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace recl::keys {

// -- family::experts: model weights and descriptions --

/// An admitted expert's description (`info/ID`) ...
inline const std::string info_prefix = "info/";
inline std::string info(const std::string& id) {
  return info_prefix + id;
}

/// ... and its weights.
inline std::string weights(const std::string& id) {
  return "weights/" + id;
}

/// A promising model waiting for admission: its weights (`queue/ID`) and
/// its candidate record (`qinfo/ID`).
inline std::string queued(const std::string& id) {
  return "queue/" + id;
}
inline const std::string queued_info_prefix = "qinfo/";
inline std::string queued_info(const std::string& id) {
  return queued_info_prefix + id;
}

/// A retrained model that is not (yet) in the zoo, and the generalist.
inline const std::string model_prefix = "model/";
inline std::string model(const std::string& id) {
  return model_prefix + id;
}
/// Every camera's retrained models ("r-CAMERA-WINDOW").
inline const std::string retrained_prefix = model_prefix + "r-";
inline const std::string generalist = model("generalist");

// -- family::selections and family::samples: logs in sequence order --
// (a selection is the served expert's id as it is; a sample, a record)

/// A log entry's key: zero-padded so that keys sort by sequence number.
inline const std::string seq_prefix = "s/";
inline std::string seq(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "s/%020llu",
                static_cast<unsigned long long>(n));
  return buf;
}

/// The sequence number of a log entry's key.
inline uint64_t seq_of(std::string_view key) {
  return std::stoull(std::string{key.substr(seq_prefix.size())});
}

// -- family::gating: the gating network and ODIN --

inline const std::string gating_checkpoint = "checkpoint";
/// Its version and its outputs' expert ids.
inline const std::string gating_index = "index";
/// Where the index lived before store schema 2 (ids, and version, as text).
inline const std::string legacy_gating_experts = "experts";
inline const std::string legacy_gating_version = "version";
inline const std::string odin = "odin";

/// ODIN's centroid of an expert's training frames (`centroid/ID`).
inline const std::string centroid_prefix = "centroid/";
inline std::string centroid(const std::string& id) {
  return centroid_prefix + id;
}

// -- family::cameras: one record per camera, keyed by its id --

// -- family::meta --

/// The store's own: its schema version and when it was created (decimal
/// text, written by store.cpp).
inline const std::string schema_version = "schema_version";
inline const std::string created_unix_ms = "created_unix_ms";

/// A named credential (actors/credentials.hpp): `credential/NAME`.
inline const std::string credential_prefix = "credential/";
inline std::string credential(const std::string& name) {
  return credential_prefix + name;
}

} // namespace recl::keys
