#pragma once
// How a served model reaches an edge (issue 15): only the tensors that
// differ from the model the edge runs (a delta), or every tensor (a full
// update), optionally as fp16, with the content hash of the model the edge
// will hold afterwards. The edge applies it to a copy of its model, checks
// the hash and swaps only then; anything wrong leaves its model running.
//
// On the wire each tensor's bytes are split into byte planes (the high
// bytes of floats, sign and exponent, change least) and compressed with
// zstd; a changed tensor is sent as its difference from the edge's own,
// element by element on the bit patterns: retraining moves a weight only a
// little, so the difference is a small integer with zero high bytes.
//
// A model's content hash is SHA-256 over its tensors as expert::tensors()
// gives them (name, type, shape, bytes, in order), in hex: the same weights
// give the same hash however they were serialised or sent.

#include "gpu/expert.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

struct model_update {
  std::string base_hash;   ///< the model it applies to; "" = full update
  std::string result_hash; ///< the model the edge holds afterwards
  std::vector<named_tensor> tensors;
  /// Per tensor (a delta's only): its bytes are the difference from the
  /// edge's tensor of that name and type (apply_update adds it back).
  std::vector<bool> relative;
};

/// The content hash of `x` (64 hex digits).
std::string content_hash(const expert& x);

/// What the server sends an edge that runs `base` (nullptr: nothing the
/// server knows) to make it run `target`. `base_hash` is what the edge said
/// it holds: a delta is made only when it is `base` exactly or `base` after
/// an fp16 update; otherwise the update is full. `half` sends
/// floating-point tensors as fp16. The result hash is that of the model the
/// edge will hold, computed by applying the update here as the edge will.
model_update make_update(const expert* base, const std::string& base_hash,
                         const expert& target, bool half);

/// The edge's side: `current` (nullptr: none) with `u` applied, as a new
/// expert. Throws std::invalid_argument naming what is wrong (a delta for
/// another base, a tensor that does not fit, a result whose hash differs);
/// `current` is never changed.
std::unique_ptr<expert> apply_update(const expert* current,
                                     const model_update& u,
                                     const expert_options& opts);

/// The bounded binary form ("MU02", byte planes and zstd); decode throws
/// std::runtime_error on damaged input, and on tensors that would
/// decompress to more than `max_bytes` in all, before allocating them.
std::string encode(const model_update& u);
model_update decode_model_update(std::string_view bytes,
                                 size_t max_bytes = 256u << 20);

/// Bytes of tensor data in `u` (what an update costs, less framing).
size_t payload_bytes(const model_update& u);

} // namespace recl
