#include "schema/model_update.hpp"

#include "common/record.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace recl {

namespace {

std::string hex(const unsigned char* p, unsigned n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

std::string hash_of(const std::vector<named_tensor>& ts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is not available");
  // Each field is framed (lengths first) so that no two different tensor
  // lists feed the digest the same bytes.
  for (auto& t : ts) {
    record_writer w{"T"};
    w.str(t.name);
    w.u32(static_cast<uint32_t>(t.dtype));
    w.u32(static_cast<uint32_t>(t.shape.size()));
    for (auto d : t.shape)
      w.u64(static_cast<uint64_t>(d));
    w.u64(t.bytes.size());
    EVP_DigestUpdate(ctx.get(), w.out().data(), w.out().size());
    EVP_DigestUpdate(ctx.get(), t.bytes.data(), t.bytes.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
    throw std::runtime_error("SHA-256 failed");
  return hex(md, len);
}

/// Element-wise over `x` and `base` read as unsigned integers of `UInt`:
/// `x - base` zigzag-coded (`to_diff`), or its inverse. Two nearby floats of
/// one sign have nearby bit patterns, so their difference is a small integer
/// whose high bytes are zero.
template <class UInt>
void difference(std::string& x, const std::string& base, bool to_diff) {
  constexpr int bits = 8 * sizeof(UInt);
  for (size_t at = 0; at + sizeof(UInt) <= x.size(); at += sizeof(UInt)) {
    UInt a, b;
    std::memcpy(&a, x.data() + at, sizeof a);
    std::memcpy(&b, base.data() + at, sizeof b);
    UInt out;
    if (to_diff) {
      UInt d = static_cast<UInt>(a - b);
      out = static_cast<UInt>((d << 1) ^ (0 - (d >> (bits - 1))));
    } else {
      UInt d = static_cast<UInt>((a >> 1) ^ (0 - (a & 1)));
      out = static_cast<UInt>(b + d);
    }
    std::memcpy(x.data() + at, &out, sizeof out);
  }
}

/// `x` (a tensor of `t`) as its difference from `base`, or back.
void relate(std::string& x, const std::string& base, named_tensor::type t,
            bool to_diff) {
  if (t == named_tensor::type::f16)
    difference<uint16_t>(x, base, to_diff);
  else if (t == named_tensor::type::f32)
    difference<uint32_t>(x, base, to_diff);
  else
    difference<uint64_t>(x, base, to_diff);
}

/// `x` with every floating-point tensor rounded to fp16 (and back): what an
/// edge holds after an fp16 update.
std::unique_ptr<expert> rounded(const expert& x) {
  auto out = x.clone();
  out->assign(x.tensors(true));
  return out;
}

} // namespace

std::string content_hash(const expert& x) {
  return hash_of(x.tensors());
}

model_update make_update(const expert* base, const std::string& base_hash,
                         const expert& target, bool half) {
  // What the edge will hold: the target as sent (rounded with `half`).
  auto target_rounded = half ? rounded(target) : nullptr;
  auto want = (half ? *target_rounded : target).tensors();
  auto sent = half ? target.tensors(true) : want;
  model_update u;
  u.result_hash = hash_of(want);
  // What the edge holds now, when the server knows it: `base` exactly, or
  // `base` after an fp16 update.
  const expert* held = nullptr;
  std::vector<named_tensor> held_now;
  std::unique_ptr<expert> base_rounded;
  if (base && !base_hash.empty()) {
    held = base;
    held_now = base->tensors();
    if (hash_of(held_now) != base_hash) {
      base_rounded = rounded(*base);
      held_now = base_rounded->tensors();
      held = hash_of(held_now) == base_hash ? base_rounded.get() : nullptr;
    }
  }
  if (!held || held_now.size() != want.size()) { // nothing to build on: all
    u.tensors = std::move(sent);
    u.relative.assign(u.tensors.size(), false);
    return u;
  }
  u.base_hash = base_hash;
  auto held_sent = half ? held->tensors(true) : held_now;
  for (size_t i = 0; i < want.size(); ++i) {
    if (held_now[i].name == want[i].name && held_now[i].bytes == want[i].bytes)
      continue;
    auto t = std::move(sent[i]);
    bool x = held_sent[i].name == t.name && held_sent[i].dtype == t.dtype
             && held_sent[i].bytes.size() == t.bytes.size();
    if (x)
      relate(t.bytes, held_sent[i].bytes, t.dtype, true);
    u.tensors.push_back(std::move(t));
    u.relative.push_back(x);
  }
  return u;
}

std::unique_ptr<expert> apply_update(const expert* current,
                                     const model_update& u,
                                     const expert_options& opts) {
  if (u.relative.size() != u.tensors.size())
    throw std::invalid_argument("a model update without its tensor flags");
  bool any_relative
    = std::find(u.relative.begin(), u.relative.end(), true) != u.relative.end();
  if (any_relative && u.base_hash.empty())
    throw std::invalid_argument(
      "a full model update with tensors relative to a base");
  if (!u.base_hash.empty()) {
    if (!current)
      throw std::invalid_argument(
        "a delta update for a model this edge does not hold");
    if (auto mine = content_hash(*current); mine != u.base_hash)
      throw std::invalid_argument(
        "a delta update for model " + u.base_hash.substr(0, 12)
        + "..., this edge holds " + mine.substr(0, 12) + "...");
  }
  auto tensors = u.tensors;
  if (any_relative) { // a delta: `current` holds its base (checked above)
    auto mine = current->tensors(), mine_half = current->tensors(true);
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (!u.relative[i])
        continue;
      auto& t = tensors[i];
      auto& from = t.dtype == named_tensor::type::f16 ? mine_half : mine;
      auto it = std::find_if(from.begin(), from.end(),
                             [&](auto& m) { return m.name == t.name; });
      if (it == from.end() || it->dtype != t.dtype
          || it->bytes.size() != t.bytes.size())
        throw std::invalid_argument("a delta for tensor '" + t.name
                                    + "', which this edge's model lacks");
      relate(t.bytes, it->bytes, t.dtype, false);
    }
  }
  auto next = current ? current->clone() : expert::blank(opts);
  next->assign(tensors);
  if (auto got = content_hash(*next); got != u.result_hash)
    throw std::invalid_argument("the updated model's hash " + got.substr(0, 12)
                                + "... is not the served model's "
                                + u.result_hash.substr(0, 12) + "...");
  return next;
}

} // namespace recl
