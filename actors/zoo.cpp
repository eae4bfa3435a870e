// The zoo: the registry of expert models, persisted in the `experts` family.
// Admission, pruning and the checkpoint cache arrive with the adaptation loop;
// for now it lists what the store holds.
//
// Key layout in `experts`: "info/<id>" -> expert_info as key=value lines,
// "weights/<id>" -> the serialized weights.

#include "actors/actors.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "store/store.hpp"

#include <caf/all.hpp>

namespace recl {

namespace {

expert_info parse_expert(std::string_view key, std::string_view text) {
  expert_info x;
  x.id = std::string{key.substr(5)}; // after "info/"
  for (auto& line : split(text, '\n')) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto k = line.substr(0, eq);
    auto v = line.substr(eq + 1);
    try {
      if (k == "origin_camera")
        x.origin_camera = v;
      else if (k == "origin_window")
        x.origin_window = static_cast<uint32_t>(std::stoul(v));
      else if (k == "admitted_unix_ms")
        x.admitted_unix_ms = std::stoll(v);
      else if (k == "weight_bytes")
        x.weight_bytes = std::stoull(v);
    } catch (const std::exception&) {
      // keep the default of a damaged field
    }
  }
  return x;
}

struct zoo_state {
  static inline const char* name = "zoo";
  std::shared_ptr<store> db;

  std::vector<expert_info> list() const {
    std::vector<expert_info> out;
    db->scan(family::experts, "info/",
             [&](std::string_view k, std::string_view v) {
               out.push_back(parse_expert(k, v));
               return true;
             });
    return out;
  }
};

zoo_actor::behavior_type zoo(zoo_actor::stateful_pointer<zoo_state> self,
                             std::shared_ptr<store> db) {
  self->state.db = std::move(db);
  log::info("zoo", self->state.list().size(), " experts in the store");
  return {
    [=](list_atom) -> caf::result<std::vector<expert_info>> {
      try {
        return self->state.list();
      } catch (const std::exception& e) {
        return caf::make_error(ec::storage, std::string{e.what()});
      }
    },
    [=](size_atom) -> caf::result<uint64_t> {
      try {
        return self->state.list().size();
      } catch (const std::exception& e) {
        return caf::make_error(ec::storage, std::string{e.what()});
      }
    },
  };
}

} // namespace

zoo_actor spawn_zoo(caf::actor_system& sys, std::shared_ptr<store> db) {
  return sys.spawn(zoo, std::move(db));
}

} // namespace recl
