// The admin actor: the daemon's state as recl-admin sees it. It starts from
// the camera records in the store, so counters survive restarts, and keeps
// them current from the camera actors' reports.

#include "actors/actors.hpp"
#include "actors/records.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "store/store.hpp"

#include <caf/all.hpp>

#include <map>

namespace recl {

namespace {

struct admin_state {
  static inline const char* name = "admin";
  std::shared_ptr<store> db;
  std::string teacher;
  std::string version;
  double started_ms = now_ms();
  std::map<std::string, camera_info> cameras;
};

admin_actor::behavior_type
admin(admin_actor::stateful_pointer<admin_state> self,
      std::shared_ptr<store> db, std::string teacher, std::string version) {
  auto& st = self->state;
  st.db = std::move(db);
  st.teacher = std::move(teacher);
  st.version = std::move(version);
  try {
    st.db->scan(
      family::cameras, "", [&](std::string_view k, std::string_view v) {
        auto id = std::string{k};
        try {
          st.cameras[id] = decode_camera_info(id, v);
        } catch (const std::exception& e) {
          log::error("admin", "damaged record of camera ", id, ": ", e.what());
        }
        return true;
      });
  } catch (const std::exception& e) {
    log::error("admin", "cannot read camera records: ", e.what());
  }
  return {
    [=](status_atom) {
      auto& st = self->state;
      status_info out;
      out.uptime_s = (now_ms() - st.started_ms) / 1000.0;
      out.teacher = st.teacher;
      out.store_bytes = st.db->disk_bytes();
      out.data_dir = st.db->dir();
      out.version = st.version;
      out.store_fault = st.db->fault();
      out.store_free_bytes = st.db->free_bytes();
      for (auto& kv : st.cameras)
        out.cameras.push_back(kv.second);
      return out;
    },
    [=](camstats_atom, camera_info& x) {
      auto& slot = self->state.cameras[x.id];
      x.connected = slot.connected || x.connected;
      slot = std::move(x);
    },
    [=](connected_atom, const std::string& id, bool up) {
      auto& slot = self->state.cameras[id];
      slot.id = id;
      slot.connected = up;
    },
  };
}

} // namespace

admin_actor spawn_admin(caf::actor_system& sys, std::shared_ptr<store> db,
                        std::string teacher, std::string version) {
  return sys.spawn(admin, std::move(db), std::move(teacher),
                   std::move(version));
}

} // namespace recl
