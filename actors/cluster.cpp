#include "actors/cluster.hpp"

#include "actors/cluster_protocol.hpp"
#include "actors/credentials.hpp"
#include "common/log.hpp"
#include "common/util.hpp"
#include "gpu/expert.hpp"
#include "schema/model_update.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <thread>

namespace recl {

namespace {

/// A family from the wire, checked.
caf::expected<family> family_of(uint8_t x) {
  if (x >= family_count)
    return caf::make_error(ec::storage, "no family " + std::to_string(x));
  return static_cast<family>(x);
}

/// Serves the store to one worker node, counting what crosses its link; a
/// failed write is an error to the worker.
store_actor::behavior_type store_server(store_actor::pointer,
                                        std::shared_ptr<store> db,
                                        std::shared_ptr<cluster_traffic> t,
                                        std::string node) {
  return {
    [=](kv_get_atom, uint8_t f,
        const std::string& key) -> caf::result<std::vector<std::string>> {
      auto fam = family_of(f);
      if (!fam)
        return fam.error();
      std::vector<std::string> out;
      if (auto v = db->get(*fam, key))
        out.push_back(std::move(*v));
      bool model = !out.empty() && is_model_weights(*fam, key);
      t->count(node, 0, out.empty() ? 0 : out.front().size(), model ? key : "");
      return out;
    },
    [=](kv_put_atom, uint8_t f, const std::string& key,
        const std::string& value) -> caf::result<bool> {
      auto fam = family_of(f);
      if (!fam)
        return fam.error();
      t->count(node, key.size() + value.size(), 0);
      try {
        db->put(*fam, key, value);
      } catch (const std::exception& e) {
        return caf::make_error(ec::storage, e.what());
      }
      return true;
    },
    [=](kv_scan_atom, uint8_t f,
        const std::string& prefix) -> caf::result<std::vector<std::string>> {
      auto fam = family_of(f);
      if (!fam)
        return fam.error();
      std::vector<std::string> out;
      uint64_t bytes = 0;
      db->scan(*fam, prefix, [&](std::string_view k, std::string_view v) {
        out.emplace_back(k);
        out.emplace_back(v);
        bytes += k.size() + v.size();
        return true;
      });
      t->count(node, 0, bytes);
      return out;
    },
  };
}

/// Gives each node that says hello a store server of its own (a node that
/// joins again gets a new one; its old one ends) and the `welcome`.
door_actor::behavior_type door(door_actor::pointer self, node_actor node,
                               std::shared_ptr<store> db,
                               std::shared_ptr<cluster_traffic> traffic,
                               node_welcome welcome) {
  // One per worker node. Not the actor's state: the servers end with the
  // door, in a functor that runs after a stateful actor's state is gone.
  auto servers = std::make_shared<std::map<std::string, store_actor>>();
  auto refused = std::make_shared<std::set<std::string>>();
  self->attach_functor([servers] {
    for (auto& s : *servers)
      caf::anon_send_exit(s.second, caf::exit_reason::user_shutdown);
  });
  return {
    [=](hello_atom, const std::string& name,
        uint32_t protocol) -> caf::result<caf::actor, node_welcome> {
      if (auto why = protocol_refusal(protocol); !why.empty()) {
        // Once per node: a refused worker tries again every second.
        if (refused->insert(name).second)
          log::warning("cluster", "node ", name, " refused: ", why);
        return caf::make_error(ec::unauthorized, "node " + name + ": " + why);
      }
      refused->erase(name);
      log::info("cluster", "node ", name, " connected");
      auto& server = (*servers)[name];
      if (server)
        caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
      server
        = self->system().spawn<caf::detached>(store_server, db, traffic, name);
      return caf::make_result(caf::actor_cast<caf::actor>(server), welcome);
    },
    [=](join_atom a, const std::string& name, const std::string& device,
        const caf::actor& owner) { self->send(node, a, name, device, owner); },
    [=](join_atom a, label_atom l, const std::string& name,
        const caf::actor& labeler) { self->send(node, a, l, name, labeler); },
  };
}

/// A worker's view of the coordinator's store: each call is a request over
/// the link, answered before it returns (GPU owners are detached, so they
/// may block), except for models already read (model_cache, shared by the
/// worker's owners). A lost link is a store_error.
class remote_store : public kv {
public:
  remote_store(caf::actor_system& sys, store_actor db) : sys_(sys), db_(db) {}

  std::optional<std::string> get(family f,
                                 std::string_view key) const override {
    std::string k{key};
    bool model = is_model_weights(f, key);
    if (model)
      if (auto hit = models_.get(k))
        return hit;
    auto out = ask<std::vector<std::string>>(kv_get_atom_v, code(f), k);
    if (out.empty())
      return std::nullopt;
    if (model)
      models_.put(k, out.front());
    return std::move(out.front());
  }

  void put(family f, std::string_view key, std::string_view value) override {
    ask<bool>(kv_put_atom_v, code(f), std::string{key}, std::string{value});
  }

  void scan(family f, std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn)
    const override {
    auto kvs = ask<std::vector<std::string>>(kv_scan_atom_v, code(f),
                                             std::string{prefix});
    for (size_t i = 0; i + 1 < kvs.size(); i += 2)
      if (!fn(kvs[i], kvs[i + 1]))
        return;
  }

private:
  static uint8_t code(family f) { return static_cast<uint8_t>(f); }

  template <class Reply, class... Ts>
  Reply ask(Ts&&... xs) const {
    caf::scoped_actor self{sys_};
    Reply out{};
    caf::error err;
    self->request(db_, std::chrono::seconds(120), std::forward<Ts>(xs)...)
      .receive([&](Reply& x) { out = std::move(x); },
               [&](caf::error& e) { err = std::move(e); });
    if (err)
      throw store_error("the coordinator's store: " + describe(err));
    return out;
  }

  caf::actor_system& sys_;
  store_actor db_;
  mutable model_cache models_{256ull << 20};
};

/// What a worker runs for one link to the coordinator. Its labelers are
/// the worker's (labelers_kept), not the link's.
struct worker_link {
  door_actor door;
  std::vector<gpu_owner_actor> owners;
  std::vector<labeler_actor> labelers;

  void stop() {
    for (auto& o : owners)
      caf::anon_send_exit(o, caf::exit_reason::user_shutdown);
  }
};

/// A worker's labelers outlive its links: loading the teacher takes
/// seconds, so a worker that joins again keeps them, unless the
/// coordinator now asks for other teacher settings.
struct labelers_kept {
  std::vector<labeler_actor> actors;
  std::string settings; ///< the teacher options they run, as text

  void stop() {
    for (auto& l : actors)
      caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
    actors.clear();
    settings.clear();
  }
};

/// Says hello at the door; the store and the welcome, or `why` not.
caf::actor hello(caf::actor_system& sys, const worker_config& cfg,
                 door_actor& door, node_welcome& welcome, std::string& why) {
  auto ep = parse_endpoint(cfg.coordinator);
  auto d = caf::openssl::remote_actor<door_actor>(sys, ep.host, ep.port);
  if (!d) {
    why = sys.render(d.error());
    return {};
  }
  door = *d;
  caf::scoped_actor self{sys};
  caf::actor db;
  // A busy coordinator can take seconds to answer. (A node once joined
  // twice in CI with a 10 s limit; the likelier cause, a stranger's refused
  // handshake closing the link, is mended in SSL_get_error below.)
  self
    ->request(door, std::chrono::seconds(30), hello_atom_v, cfg.name,
              cluster_protocol)
    .receive(
      [&](caf::actor& x, node_welcome& w) {
        db = std::move(x);
        welcome = std::move(w);
      },
      [&](caf::error& e) { why = describe(e); });
  if (!db)
    return {};
  // Retrained models start from the base, and labels come from the
  // teacher: both sides must hold the same ones.
  auto mine = [](const std::string& file) {
    return file.empty() ? std::string{"none"} : file;
  };
  if (welcome.base_hash != cfg.base_hash)
    why = "this node's base expert (" + mine(cfg.gpu.base_expert)
          + ") is not the coordinator's; start it with the same "
            "--base-expert file, or the same --data to make it from";
  else if (cfg.labelers > 0 && welcome.teacher_hash != cfg.teacher_hash)
    why = "this node's teacher (" + cfg.teacher.spec
          + ") is not the coordinator's (" + welcome.teacher.spec
          + "); start it with the same --teacher file, or the same --data";
  return why.empty() ? db : caf::actor{};
}

/// One link to the coordinator: says hello, starts the labelers and the
/// owners (on its store) as the coordinator says, and offers them. An
/// empty link on failure, `why`.
worker_link join_once(caf::actor_system& sys, const worker_config& cfg,
                      labelers_kept& kept, std::string& why) {
  worker_link link;
  node_welcome welcome;
  auto db = hello(sys, cfg, link.door, welcome, why);
  if (!db)
    return {};
  auto& learning = welcome.learning;
  log::info("worker", "learning as the coordinator says: scheduler ",
            learning.scheduler, ", clock ", to_string(learning.clock),
            ", budget ", learning.budget);
  // The coordinator's teacher settings, on this node's copy of its model.
  auto teacher = welcome.teacher;
  teacher.spec = cfg.teacher.spec;
  auto settings = caf::deep_to_string(teacher);
  if (kept.settings != settings) {
    kept.stop();
    try {
      for (uint32_t i = 0; i < cfg.labelers; ++i)
        kept.actors.push_back(
          spawn_offered_labeler(sys, spawn_labeler(sys, teacher)));
      kept.settings = settings;
    } catch (const std::exception& e) {
      kept.stop();
      why = std::string{"cannot start a labeler: "} + e.what();
      return {};
    }
  } else if (!kept.actors.empty()) {
    log::info("worker", "keeps its ", kept.actors.size(),
              " labeler(s): the teacher settings are the same");
  }
  link.labelers = kept.actors;
  auto kvs
    = std::make_shared<remote_store>(sys, caf::actor_cast<store_actor>(db));
  caf::scoped_actor self{sys};
  for (auto& device : cfg.devices) {
    auto g = learning;
    g.device = device;
    g.base_expert = cfg.gpu.base_expert;
    auto owner = spawn_gpu_owner(sys, g, kvs);
    self->send(link.door, join_atom_v, cfg.name, device,
               caf::actor_cast<caf::actor>(owner));
    link.owners.push_back(owner);
  }
  for (auto& l : link.labelers)
    self->send(link.door, join_atom_v, label_atom_v, cfg.name,
               caf::actor_cast<caf::actor>(l));
  return link;
}

} // namespace

std::string base_hash(const gpu_owner_config& g) {
  if (g.base_expert.empty())
    return "";
  return content_hash(*expert::load(g.base_expert, g.expert));
}

std::string teacher_hash(const teacher_options& t) {
  if (t.spec.rfind("yolox:", 0) != 0)
    return "";
  return sha256_hex(read_file(t.spec.substr(6)));
}

namespace {

/// Set on every thread CAF starts (mark_caf_threads): the threads that run
/// CAF's OpenSSL sessions.
thread_local bool on_caf_thread = false;

struct mark_caf_threads : caf::thread_hook {
  void init(caf::actor_system&) override {}
  void thread_started() override { on_caf_thread = true; }
  void thread_terminates() override {}
};

} // namespace

} // namespace recl

// CAF 0.17's OpenSSL sessions classify each I/O result with SSL_get_error
// and never empty the thread's error queue, which SSL_get_error reads
// first. So one failed handshake (a node without the cluster's
// certificate) left its error there, and the next read or write on any
// link of that thread that had to wait for more bytes (most reads end so)
// was taken for a failure and its link closed: anyone who could reach the
// port could break the links that were up. Sweeping the queue every 20 ms
// from outside only narrowed the race (tests/actors/cluster_links.cpp: a
// link under load broke after about 9 messages while a stranger knocked).
//
// So these programs define SSL_get_error: OpenSSL's answers, and on CAF's
// threads, where nothing reads the queue afterwards, the queue is emptied
// once the result is classified. Other threads keep theirs (KJ's TLS reads
// it for its error messages).
extern "C" int SSL_get_error(const SSL* ssl, int ret) {
  using get_error = int (*)(const SSL*, int);
  static const auto openssl
    = reinterpret_cast<get_error>(::dlsym(RTLD_NEXT, "SSL_get_error"));
  if (!openssl) {
    std::fputs("recl: OpenSSL's SSL_get_error not found\n", stderr);
    std::abort();
  }
  int out = openssl(ssl, ret);
  if (recl::on_caf_thread)
    ERR_clear_error();
  return out;
}

namespace recl {

void add_cluster_modules(caf::actor_system_config& cfg,
                         const cluster_tls& tls) {
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  cfg.add_thread_hook<mark_caf_threads>();
  cfg.openssl_certificate = tls.cert;
  cfg.openssl_key = tls.key;
  cfg.openssl_cafile = tls.ca;
}

uint16_t open_cluster_door(caf::actor_system& sys, node_actor node,
                           std::shared_ptr<store> db,
                           std::shared_ptr<cluster_traffic> traffic,
                           const gpu_owner_config& gpu,
                           const teacher_options& teacher,
                           const std::string& listen) {
  auto ep = parse_endpoint(listen);
  // What a worker's owners learn with. The fleet generalist is one model,
  // trained here if anywhere; a worker uses its own base expert file (with
  // the same weights: it checks their hash) on its own devices, and its own
  // copy of the teacher's model.
  node_welcome welcome;
  welcome.learning = gpu;
  welcome.learning.device.clear();
  welcome.learning.base_expert.clear();
  welcome.learning.generalist = false;
  welcome.base_hash = base_hash(gpu);
  welcome.teacher = teacher;
  welcome.teacher_hash = teacher_hash(teacher);
  auto d = sys.spawn(door, node, std::move(db), std::move(traffic), welcome);
  // It ends with the node.
  node->attach_functor(
    [=] { caf::anon_send_exit(d, caf::exit_reason::user_shutdown); });
  auto port = caf::openssl::publish(d, ep.port, ep.host.c_str(), true);
  if (!port)
    throw std::runtime_error("cannot listen for nodes on " + listen + ": "
                             + sys.render(port.error()));
  return *port;
}

int run_worker(caf::actor_system& sys, const worker_config& cfg,
               const std::function<bool()>& stop) {
  std::string last_why;
  labelers_kept labelers;
  while (!stop()) {
    std::string why;
    auto link = join_once(sys, cfg, labelers, why);
    if (link.owners.empty()) {
      if (why != last_why)
        log::warning("worker", "cannot join ", cfg.coordinator, ": ", why,
                     "; trying again every second");
      last_why = why;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    last_why.clear();
    std::string devices;
    for (auto& d : cfg.devices)
      devices += (devices.empty() ? "" : ",") + d;
    log::info("worker", "joined ", cfg.coordinator, " as ", cfg.name, " with ",
              devices, " and ", link.labelers.size(), " labeler(s)");
    std::cout << "recld worker " << cfg.name << " joined " << cfg.coordinator
              << std::endl;
    // Until the coordinator goes away (or we stop). The next link starts
    // anew, with what the coordinator then says.
    caf::scoped_actor self{sys};
    self->monitor(link.door);
    bool lost = false;
    while (!lost && !stop())
      self->receive([&](caf::down_msg&) { lost = true; },
                    caf::after(std::chrono::milliseconds(500)) >> [] {});
    link.stop();
    if (lost)
      log::warning("worker", "lost the coordinator ", cfg.coordinator,
                   "; joining again");
  }
  labelers.stop();
  return 0;
}

} // namespace recl
