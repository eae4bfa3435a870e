// Model updates (schema/model_update.hpp): a delta carries only the tensors
// that changed and reproduces the served model bit for bit; anything damaged
// or meant for another model is refused and the edge's model is untouched.

#include "schema/model_update.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <stdexcept>

using namespace recl;

namespace {

/// `x` with every tensor whose name starts with `prefix` nudged, as a
/// retraining that left the rest frozen would.
std::unique_ptr<expert> nudged(const expert& x, const std::string& prefix) {
  auto out = x.clone();
  std::vector<named_tensor> some;
  for (auto& t : x.tensors())
    if (t.name.rfind(prefix, 0) == 0 && t.dtype == named_tensor::type::f32) {
      float v;
      std::memcpy(&v, t.bytes.data(), 4);
      v = v * 1.01f + 0.001f;
      std::memcpy(t.bytes.data(), &v, 4);
      some.push_back(std::move(t));
    }
  REQUIRE_FALSE(some.empty());
  out->assign(some);
  return out;
}

size_t count_prefix(const model_update& u, const std::string& prefix) {
  size_t n = 0;
  for (auto& t : u.tensors)
    n += t.name.rfind(prefix, 0) == 0;
  return n;
}

} // namespace

TEST_CASE("model update: a delta carries the changed tensors and reproduces "
          "the served model bit for bit") {
  auto base = expert::blank();
  auto target = nudged(*base, "c3_n4");
  auto h_base = content_hash(*base);
  auto h_target = content_hash(*target);
  CHECK(h_base.size() == 64);
  CHECK(h_base != h_target);

  auto full = make_update(nullptr, "", *target, false);
  auto delta = make_update(base.get(), h_base, *target, false);
  CHECK(full.base_hash.empty());
  CHECK(full.tensors.size() == base->tensors().size());
  CHECK(delta.base_hash == h_base);
  CHECK(delta.tensors.size() == count_prefix(delta, "c3_n4"));
  CHECK(delta.tensors.size() < full.tensors.size() / 4);
  CHECK(payload_bytes(delta) < payload_bytes(full) / 2);
  // Sent as differences from the edge's tensors: a small change packs small.
  CHECK(encode(delta).size() < payload_bytes(delta) / 4);
  CHECK(full.result_hash == h_target);
  CHECK(delta.result_hash == h_target);

  // Through the wire form, on the edge: both give the served model.
  auto by_delta = apply_update(base.get(), decode_model_update(encode(delta)),
                               base->options());
  auto by_full = apply_update(nullptr, decode_model_update(encode(full)), {});
  CHECK(content_hash(*by_delta) == h_target);
  CHECK(content_hash(*by_full) == h_target);
  CHECK(by_delta->to_bytes() == target->to_bytes());
  CHECK(content_hash(*base) == h_base); // the edge's model is untouched

  // An edge whose hash the server does not know gets everything.
  auto unknown = make_update(base.get(), std::string(64, '0'), *target, false);
  CHECK(unknown.base_hash.empty());
  CHECK(unknown.tensors.size() == full.tensors.size());
}

TEST_CASE("model update: damaged, truncated or misdirected updates are "
          "refused and change nothing") {
  auto base = expert::blank();
  auto target = nudged(*base, "cls_pred");
  auto other = nudged(*base, "dark5");
  auto delta = make_update(base.get(), content_hash(*base), *target, false);
  auto bytes = encode(delta);
  auto h_base = content_hash(*base);

  SUBCASE("truncated") {
    for (size_t cut :
         {size_t{0}, size_t{3}, size_t{40}, bytes.size() / 2, bytes.size() - 1})
      CHECK_THROWS_AS(decode_model_update(bytes.substr(0, cut)),
                      std::runtime_error);
  }
  SUBCASE("a flipped bit in a tensor: the hash catches it") {
    auto u = decode_model_update(bytes);
    u.tensors.back().bytes[0] ^= 1;
    CHECK_THROWS_WITH_AS(apply_update(base.get(), u, {}),
                         doctest::Contains("hash"), std::invalid_argument);
  }
  SUBCASE("a delta for another model") {
    CHECK_THROWS_WITH_AS(apply_update(other.get(), delta, {}),
                         doctest::Contains("delta update for model"),
                         std::invalid_argument);
    CHECK_THROWS_AS(apply_update(nullptr, delta, {}), std::invalid_argument);
  }
  SUBCASE("a full update claiming tensors relative to a base") {
    auto u = delta;
    u.base_hash.clear();
    CHECK_THROWS_WITH_AS(apply_update(nullptr, u, {}),
                         doctest::Contains("relative to a base"),
                         std::invalid_argument);
    CHECK_THROWS_AS(apply_update(base.get(), u, {}), std::invalid_argument);
  }
  SUBCASE("a tensor of the wrong shape or name") {
    auto u = delta;
    u.tensors.back().shape.push_back(1);
    CHECK_THROWS_WITH_AS(apply_update(base.get(), u, {}),
                         doctest::Contains("wrong shape"),
                         std::invalid_argument);
    u = delta;
    u.tensors.back().name = "no.such.tensor";
    CHECK_THROWS_AS(apply_update(base.get(), u, {}), std::invalid_argument);
  }
  SUBCASE("tensors that would decompress to more than the limit") {
    CHECK_THROWS_WITH_AS(decode_model_update(bytes, 1000),
                         doctest::Contains("larger than"), std::runtime_error);
  }
  SUBCASE("a garbled compressed tensor") {
    auto garbled = bytes;
    garbled[garbled.size() - 2] ^= 0x55;
    bool refused = false;
    try {
      apply_update(base.get(), decode_model_update(garbled), {});
    } catch (const std::exception&) {
      refused = true;
    }
    CHECK(refused);
  }
  SUBCASE("a size that does not match the shape, in the wire form") {
    auto u = delta;
    u.tensors.back().bytes.pop_back();
    CHECK_THROWS_AS(decode_model_update(encode(u)), std::runtime_error);
  }
  CHECK(content_hash(*base) == h_base);
}

TEST_CASE("model update: fp16 halves the bytes and stays consistent across "
          "deltas") {
  auto base = expert::blank();
  auto first = nudged(*base, "c3_n4");
  auto second = nudged(*first, "cls_pred");

  // A full fp16 update: half the bytes of a full exact one.
  auto full = make_update(nullptr, "", *first, false);
  auto full_half = make_update(nullptr, "", *first, true);
  CHECK(payload_bytes(full_half) * 2 == payload_bytes(full));
  auto edge = apply_update(nullptr, full_half, {});
  CHECK(content_hash(*edge) == full_half.result_hash);
  CHECK(content_hash(*edge) != content_hash(*first)); // rounded

  // The next update builds on the rounded model the edge holds.
  auto next = make_update(first.get(), content_hash(*edge), *second, true);
  CHECK(next.base_hash == content_hash(*edge));
  CHECK(next.tensors.size() == count_prefix(next, "cls_pred"));
  auto edge2 = apply_update(edge.get(), next, {});
  CHECK(content_hash(*edge2) == next.result_hash);
  // The same as a full fp16 update of `second`.
  CHECK(next.result_hash
        == make_update(nullptr, "", *second, true).result_hash);
}

TEST_CASE("expert: assign checks every tensor before changing any") {
  auto x = expert::blank();
  auto h = content_hash(*x);
  auto ts = x->tensors();
  ts[0].bytes.assign(ts[0].bytes.size(), '\0');
  ts[1].dtype = named_tensor::type::i64;
  CHECK_THROWS_WITH_AS(x->assign({ts[0], ts[1]}),
                       doctest::Contains("wrong type"), std::invalid_argument);
  CHECK(content_hash(*x) == h);
  x->assign({ts[0]});
  CHECK(content_hash(*x) != h);
}
