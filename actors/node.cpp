// The node: spawns the components, opens camera sessions, restarts a
// component that fails (and tells everyone who talks to it), and shuts
// everything down in a fixed order (cameras first, the store's users last).

#include "actors/actors.hpp"

#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/teacher.hpp"
#include "store/store.hpp"

#include <caf/all.hpp>

#include <map>
#include <set>

namespace recl {

namespace {

struct components {
  std::vector<std::shared_ptr<recl::teacher>> models; // one per labeler
  std::vector<labeler_actor> labelers;
  labeler_pool_actor labeler_pool; ///< with worker nodes (cfg.cluster)
  zoo_actor zoo;
  selector_actor selector;
  gpu_owner_actor gpu_owner;
  admin_actor admin;
  std::string teacher;
  zoo_size_gauge zoo_size = std::make_shared<std::atomic<uint64_t>>(0);
};

struct node_state {
  static inline const char* name = "node";
  std::shared_ptr<store> db;
  node_config cfg;
  components parts;
  std::map<caf::actor_addr, std::string> cameras; // live camera actors
  std::set<caf::actor_addr> closing; // of those, sessions that have ended
  size_t next_labeler = 0;
  bool stopping = false;
  std::vector<double> restarts; // now_ms() of each restart
  std::shared_ptr<window_stages> stages = std::make_shared<window_stages>();
};

using node_ptr = node_actor::stateful_pointer<node_state>;

/// The GPU owner, or with several devices the pool of one owner each.
gpu_owner_actor spawn_devices(caf::actor_system& sys, const node_config& cfg,
                              std::shared_ptr<store> db) {
  if (cfg.devices.size() > 1 || cfg.cluster)
    return spawn_gpu_pool(sys, cfg.gpu, std::move(db),
                          cfg.no_devices        ? std::vector<std::string>{}
                          : cfg.devices.empty() ? std::vector<std::string>{""}
                                                : cfg.devices,
                          cfg.traffic);
  auto g = cfg.gpu;
  if (!cfg.devices.empty())
    g.device = cfg.devices.front();
  return spawn_gpu_owner(sys, g, std::move(db));
}

/// Replaces a failed component; false if `dead` is none of them.
bool restart(node_ptr self, const caf::actor_addr& dead,
             const caf::error& why) {
  auto& st = self->state;
  auto& p = st.parts;
  auto& sys = self->system();
  caf::actor fresh;
  std::string what;
  try {
    for (size_t i = 0; i < p.labelers.size(); ++i)
      if (p.labelers[i].address() == dead) {
        p.labelers[i] = spawn_labeler(sys, p.models[i]);
        fresh = caf::actor_cast<caf::actor>(p.labelers[i]);
        what = "labeler";
      }
    if (!fresh && p.labeler_pool && p.labeler_pool.address() == dead) {
      // Workers' labelers are lost with it (they offer again on rejoining).
      p.labeler_pool = spawn_labeler_pool(sys, p.labelers);
      fresh = caf::actor_cast<caf::actor>(p.labeler_pool);
      what = "labeler pool";
    } else if (!fresh && p.gpu_owner.address() == dead) {
      p.gpu_owner = spawn_devices(sys, st.cfg, st.db);
      fresh = caf::actor_cast<caf::actor>(p.gpu_owner);
      what = "gpu-owner";
    } else if (!fresh && p.zoo.address() == dead) {
      p.zoo = spawn_zoo(sys, st.db, st.cfg.zoo, p.gpu_owner, p.zoo_size);
      fresh = caf::actor_cast<caf::actor>(p.zoo);
      what = "zoo";
    } else if (!fresh && p.selector.address() == dead) {
      p.selector = spawn_selector(sys, st.cfg.selector, p.zoo, p.gpu_owner);
      fresh = caf::actor_cast<caf::actor>(p.selector);
      what = "selector";
    } else if (!fresh && p.admin.address() == dead) {
      p.admin = spawn_admin(sys, st.db, p.teacher, st.cfg.version);
      fresh = caf::actor_cast<caf::actor>(p.admin);
      what = "admin";
    }
  } catch (const std::exception& e) {
    log::error("node", "cannot restart a component: ", e.what());
    return true;
  }
  if (!fresh)
    return false;
  st.restarts.push_back(now_ms());
  log::error("node", what, " failed (", describe(why), "); restarted it (",
             st.restarts.size(), " restarts so far)");
  self->monitor(fresh);
  // Everyone holding the dead handle gets the new one.
  for (auto& kv : st.cameras)
    if (auto cam = caf::actor_cast<camera_actor>(kv.first))
      self->send(cam, restart_atom_v, dead, fresh);
  self->send(p.zoo, restart_atom_v, dead, fresh);
  self->send(p.selector, restart_atom_v, dead, fresh);
  if (p.labeler_pool)
    self->send(p.labeler_pool, restart_atom_v, dead, fresh);
  return true;
}

/// Whether camera `id` has a session that has not ended.
bool has_session(const node_state& st, const std::string& id) {
  for (auto& kv : st.cameras)
    if (kv.second == id && st.closing.count(kv.first) == 0)
      return true;
  return false;
}

/// A monitored actor ended: a camera's session, or a component to restart.
void on_down(node_ptr self, const caf::down_msg& dm) {
  if (self->state.stopping)
    return;
  auto i = self->state.cameras.find(dm.source);
  if (i == self->state.cameras.end()) {
    restart(self, dm.source, dm.reason);
    return;
  }
  auto id = i->second;
  bool was_open = self->state.closing.erase(dm.source) == 0;
  self->state.cameras.erase(i);
  log::info("node", "camera ", id, ": actor ended");
  // A newer session of the same camera may be live.
  if (was_open && !has_session(self->state, id))
    self->send(self->state.parts.admin, connected_atom_v, id, false);
}

/// Shutdown: cameras first (no new work enters), then the consumers of
/// their work, then the store's users.
void on_exit(node_ptr self, const caf::exit_msg& em) {
  self->state.stopping = true;
  auto& p = self->state.parts;
  log::info("node", "shutting down: ", self->state.cameras.size(),
            " camera sessions");
  auto stop = [&](const auto& x) {
    if (x)
      self->send_exit(x, em.reason);
  };
  for (auto& kv : self->state.cameras)
    if (auto h = caf::actor_cast<caf::actor>(kv.first))
      self->send_exit(h, em.reason);
  stop(p.selector);
  stop(p.gpu_owner);
  for (auto& l : p.labelers)
    stop(l);
  stop(p.labeler_pool);
  stop(p.zoo);
  stop(p.admin);
  self->quit(em.reason);
}

/// What a new camera actor works with: the node's actors and settings
/// (labelers taken in turn; with worker nodes, the labeler pool).
camera_deps camera_deps_of(node_state& st) {
  camera_deps deps;
  if (st.parts.labeler_pool)
    deps.labeler = st.parts.labeler_pool;
  else
    deps.labeler
      = st.parts.labelers[st.next_labeler++ % st.parts.labelers.size()];
  deps.selector = st.parts.selector;
  deps.gpu_owner = st.parts.gpu_owner;
  deps.zoo = st.parts.zoo;
  deps.generalist = st.cfg.gpu.generalist && !st.cfg.gpu.base_expert.empty();
  deps.retrain = st.cfg.retrain;
  deps.retrain_windows = st.cfg.retrain_windows;
  deps.train_windows = st.cfg.train_windows;
  deps.alpha = st.cfg.alpha;
  deps.min_fps = st.cfg.min_fps;
  deps.max_fps = st.cfg.max_fps;
  deps.max_reply_bytes = st.cfg.max_reply_bytes;
  deps.admin = st.parts.admin;
  deps.db = st.db;
  deps.stages = st.stages;
  deps.zoo_size = st.parts.zoo_size;
  deps.top_k = st.cfg.top_k;
  deps.selection = st.cfg.selection;
  deps.admission = st.cfg.admission;
  deps.train_from = st.cfg.train_from;
  deps.teacher = st.parts.teacher;
  return deps;
}

/// The GPU owners' report with the labeler pool's labelers among the
/// devices (`recl-admin nodes`).
caf::result<scheduler_report> with_labelers(node_ptr self) {
  auto rp = self->make_response_promise<scheduler_report>();
  auto pool = self->state.parts.labeler_pool;
  self->request(self->state.parts.gpu_owner, caf::infinite, scheduler_atom_v)
    .then(
      [=](scheduler_report& r) mutable {
        self->request(pool, std::chrono::seconds(10), scheduler_atom_v)
          .then(
            [=](std::vector<device_state>& ls) mutable {
              r.device_states.insert(r.device_states.end(), ls.begin(),
                                     ls.end());
              rp.deliver(std::move(r));
            },
            [=](caf::error&) mutable { rp.deliver(std::move(r)); });
      },
      [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

/// What /metrics shows, asked of the admin, the GPU owner and the zoo at
/// once; the first failure is the answer.
caf::result<metrics_snapshot>
gather_metrics(node_actor::stateful_pointer<node_state> self) {
  struct gathering {
    caf::typed_response_promise<metrics_snapshot> rp;
    metrics_snapshot out;
    int left = 3;
    void part_done() {
      if (--left == 0)
        rp.deliver(std::move(out));
    }
    void failed(caf::error& e) {
      if (left > 0)
        rp.deliver(std::move(e));
      left = -1; // answered; later parts change nothing
    }
  };
  auto g = std::make_shared<gathering>();
  g->rp = self->make_response_promise<metrics_snapshot>();
  g->out.stages = self->state.stages->now();
  auto fail = [g](caf::error& e) { g->failed(e); };
  auto& p = self->state.parts;
  self->request(p.admin, caf::infinite, status_atom_v)
    .then(
      [g](status_info& s) {
        g->out.status = std::move(s);
        g->part_done();
      },
      fail);
  self->request(p.gpu_owner, caf::infinite, scheduler_atom_v)
    .then(
      [g](scheduler_report& r) {
        g->out.scheduler = std::move(r);
        g->part_done();
      },
      fail);
  self->request(p.zoo, caf::infinite, zoostats_atom_v)
    .then(
      [g](zoo_stats& z) {
        g->out.zoo = z;
        g->part_done();
      },
      fail);
  return g->rp;
}

node_actor::behavior_type node(node_actor::stateful_pointer<node_state> self,
                               std::shared_ptr<store> db, node_config cfg,
                               components parts) {
  auto& st = self->state;
  st.db = std::move(db);
  st.cfg = std::move(cfg);
  st.parts = std::move(parts);
  for (auto& l : st.parts.labelers)
    self->monitor(l);
  if (st.parts.labeler_pool)
    self->monitor(st.parts.labeler_pool);
  self->monitor(st.parts.gpu_owner);
  self->monitor(st.parts.zoo);
  self->monitor(st.parts.selector);
  self->monitor(st.parts.admin);
  self->set_down_handler([=](const caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([=](const caf::exit_msg& em) { on_exit(self, em); });
  return {
    [=](register_atom, const std::string& id) -> caf::result<camera_actor> {
      if (!valid_camera_id(id))
        return caf::make_error(ec::bad_camera_id,
                               "'" + id
                                 + "' is not a camera id (1-64 of "
                                   "A-Z a-z 0-9 . _ -)");
      auto& st = self->state;
      auto deps = camera_deps_of(st);
      auto cam = spawn_camera(self->system(), id, std::move(deps));
      self->monitor(cam);
      st.cameras[cam.address()] = id;
      self->send(st.parts.admin, connected_atom_v, id, true);
      return cam;
    },
    [=](close_atom, camera_actor& cam) {
      auto& st = self->state;
      auto i = st.cameras.find(cam.address());
      if (i != st.cameras.end() && st.closing.insert(i->first).second
          && !has_session(st, i->second))
        self->send(st.parts.admin, connected_atom_v, i->second, false);
      // "normal": the camera finishes its retraining jobs, then quits.
      self->send_exit(cam, caf::exit_reason::normal);
    },
    [=](status_atom s) { return self->delegate(self->state.parts.admin, s); },
    [=](list_atom s) { return self->delegate(self->state.parts.zoo, s); },
    [=](prune_atom a, const std::string& id) {
      return self->delegate(self->state.parts.zoo, a, id);
    },
    [=](scheduler_atom s) -> caf::result<scheduler_report> {
      if (!self->state.parts.labeler_pool)
        return self->delegate(self->state.parts.gpu_owner, s);
      return with_labelers(self);
    },
    [=](metrics_atom) { return gather_metrics(self); },
    [=](join_atom a, const std::string& node, const std::string& device,
        const caf::actor& owner) {
      // The GPU owner is a pool whenever nodes may join (spawn_devices).
      self->send(caf::actor_cast<gpu_pool_actor>(self->state.parts.gpu_owner),
                 a, node, device, owner);
    },
    [=](join_atom a, label_atom l, const std::string& node,
        const caf::actor& labeler) {
      // There is a labeler pool whenever nodes may join (spawn_node).
      self->send(self->state.parts.labeler_pool, a, l, node, labeler);
    },
  };
}

} // namespace

teacher_options teacher_options_of(const node_config& cfg) {
  teacher_options topts;
  topts.spec = cfg.teacher_spec;
  topts.classes = cfg.classes.empty() ? default_classes() : cfg.classes;
  topts.score_threshold = cfg.score_threshold;
  topts.nms_threshold = cfg.nms_threshold;
  topts.input_width = cfg.teacher_width;
  topts.input_height = cfg.teacher_height;
  topts.tiling = cfg.tiling;
  topts.flip = cfg.flip;
  topts.extra_input = cfg.extra_input;
  return topts;
}

node_actor spawn_node(caf::actor_system& sys, std::shared_ptr<store> db,
                      const node_config& cfg) {
  auto topts = teacher_options_of(cfg);
  components parts;
  // Load every teacher before spawning anything: a bad model fails early and
  // clearly, with no actor left behind. With worker nodes there may be no
  // labeler here: the teacher is still loaded once, to check and name it.
  std::vector<std::shared_ptr<teacher>> models;
  auto n = cfg.cluster ? cfg.labelers : std::max<uint32_t>(1, cfg.labelers);
  for (uint32_t i = 0; i < n; ++i)
    models.push_back(make_teacher(topts));
  parts.teacher = n > 0
                    ? models.front()->describe()
                    : make_teacher(topts)->describe() + " (on worker nodes)";
  for (auto& m : models)
    parts.labelers.push_back(spawn_labeler(sys, m));
  parts.models = models;
  if (cfg.cluster)
    parts.labeler_pool = spawn_labeler_pool(sys, parts.labelers);
  parts.gpu_owner = spawn_devices(sys, cfg, db);
  parts.zoo = spawn_zoo(sys, db, cfg.zoo, parts.gpu_owner, parts.zoo_size);
  parts.selector
    = spawn_selector(sys, cfg.selector, parts.zoo, parts.gpu_owner);
  parts.admin = spawn_admin(sys, db, parts.teacher, cfg.version);
  log::info("node", "teacher: ", parts.teacher, ", ", parts.labelers.size(),
            " labeler(s)");
  return sys.spawn(node, std::move(db), cfg, std::move(parts));
}

} // namespace recl
