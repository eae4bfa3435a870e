// recld: the RECL adaptation daemon. Opens the store, starts the actors and
// the RPC gateway, prints one "listening" line, and shuts down cleanly on
// SIGINT or SIGTERM (exit 0, store closed).

#include "actors/actors.hpp"
#include "actors/recld_settings.hpp"
#include "common/log.hpp"
#include "common/settings.hpp"
#include "common/util.hpp"
#include "actors/gateway.hpp"
#include "gpu/detection.hpp"
#include "gpu/device.hpp"
#include "gpu/label_cache.hpp"
#include "actors/scheduler.hpp"
#include "gpu/teacher.hpp"
#include "store/store.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <iostream>
#include <pthread.h>
#include <thread>
#include <tuple>

namespace fs = std::filesystem;
using namespace recl;

namespace {

/// The token: given, read from its file, or made and saved on first start.
std::string resolve_token(daemon_settings& s) {
  if (!s.gw.token.empty())
    return s.gw.token;
  if (fs::exists(s.token_file)) {
    auto t = trim(read_file(s.token_file));
    if (t.size() < 8)
      throw usage_error("token file " + s.token_file
                        + " holds no token of 8+ characters");
    return t;
  }
  auto t = random_hex(16);
  write_file_atomic(s.token_file, t + "\n", 0600);
  log::info("recld", "created a new token in ", s.token_file);
  return t;
}

/// Makes the base expert from `onnx` with recl-convert (installed beside
/// recld) into the cache folder; returns its path. Throws with the command
/// to run by hand when that fails.
std::string provision_base_expert(const std::string& onnx) {
  auto dir = default_cache_dir();
  auto out = dir + "/yolox_nano.pt";
  auto convert
    = (fs::read_symlink("/proc/self/exe").parent_path() / "recl-convert")
        .string();
  auto by_hand = convert + " --onnx " + onnx + " --out " + out;
  log::info("recld", "no base expert yet: making ", out, " from ", onnx);
  std::error_code ec;
  fs::create_directories(dir, ec);
  pid_t pid = -1;
  std::vector<std::string> args{convert, "--onnx", onnx, "--out", out};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int status = -1;
  if (posix_spawn(&pid, convert.c_str(), nullptr, nullptr, argv.data(), environ)
        != 0
      || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
      || WEXITSTATUS(status) != 0 || !fs::exists(out))
    throw std::runtime_error(
      "no base expert, and making one failed; make it by hand with\n  "
      + by_hand
      + "\nor start recld with --base-expert none to run as a labeller only");
  return out;
}

/// A worker node (--join): GPU owners for the coordinator, until SIGINT or
/// SIGTERM. No store, no RPC.
int serve_worker(daemon_settings settings, sigset_t sigs) {
  if (!settings.provision_from.empty())
    settings.worker.gpu.base_expert
      = provision_base_expert(settings.provision_from);
  gpu::configure_threads(settings.threads);
  settings.worker.base_hash = base_hash(settings.worker.gpu); // throws
  if (settings.worker.labelers > 0)
    settings.worker.teacher_hash = teacher_hash(settings.worker.teacher);
  log::info("recld", "recld ", recld_version, " worker ", settings.worker.name,
            ", models on ", gpu::device_name());
  caf::actor_system_config cfg;
  add_message_types(cfg);
  add_cluster_modules(cfg, settings.cluster);
  caf::actor_system sys{cfg};
  std::atomic<bool> stop{false};
  std::thread waiter{[&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    log::info("recld", "received ", sig == SIGINT ? "SIGINT" : "SIGTERM",
              ", leaving the cluster");
    stop = true;
  }};
  int rc = run_worker(sys, settings.worker, [&] { return stop.load(); });
  waiter.join();
  // The owners end after their current micro-window. A worker keeps
  // nothing of its own (models live in the coordinator's store), so one
  // that does not wind down in 15 s (an owner waiting on a lost link) just
  // exits; its jobs have already failed to their cameras.
  std::thread{[] {
    std::this_thread::sleep_for(std::chrono::seconds(15));
    log::warning("recld", "the GPU owners did not stop in 15 s; exiting");
    std::_Exit(0);
  }}.detach();
  return rc;
}

/// Runs the daemon until SIGINT or SIGTERM; returns the exit code.
int serve(daemon_settings settings) {
  // Signals are taken by sigwait(); block them before any thread starts so
  // that no other thread receives them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  if (!settings.worker.coordinator.empty())
    return serve_worker(std::move(settings), sigs);
  // The store holds models and camera records: only recld's user may read
  // it. New files are 0600 and folders 0700; an existing data directory is
  // closed to others too.
  ::umask(077);
  std::error_code perm_ec;
  if (fs::exists(settings.node.data_dir))
    fs::permissions(settings.node.data_dir, fs::perms::owner_all,
                    fs::perm_options::replace, perm_ec);
  std::shared_ptr<store> db
    = store::open(settings.node.data_dir, settings.store);
  try {
    drop_unnamed_models(*db);
  } catch (const std::exception& e) {
    log::warning("recld", "cannot drop unnamed models: ", e.what());
  }
  if (!settings.provision_from.empty())
    settings.node.gpu.base_expert
      = provision_base_expert(settings.provision_from);
  settings.gw.token = resolve_token(settings);
  log::info("recld", "recld ", recld_version, ", data directory ",
            settings.node.data_dir);
  gpu::configure_threads(settings.threads);
  log::info("recld", "models on ", gpu::device_name());
  int rc = 0;
  {
    caf::actor_system_config cfg;
    add_message_types(cfg);
    if (!settings.cluster_listen.empty())
      add_cluster_modules(cfg, settings.cluster);
    caf::actor_system sys{cfg};
    if (settings.node.cluster)
      settings.node.traffic = std::make_shared<cluster_traffic>();
    auto node = spawn_node(sys, db, settings.node);
    try {
      if (!settings.cluster_listen.empty()) {
        auto port = open_cluster_door(
          sys, node, db, settings.node.traffic, settings.node.gpu,
          teacher_options_of(settings.node), settings.cluster_listen);
        std::cout << "recld nodes on "
                  << parse_endpoint(settings.cluster_listen).host << ":" << port
                  << std::endl;
      }
      gateway gw{sys, caf::actor_cast<caf::actor>(node), db, settings.gw};
      auto ep = parse_endpoint(settings.gw.listen);
      std::cout << "recld listening on " << ep.host << ":" << gw.port()
                << std::endl;
      if (gw.metrics_port() != 0)
        std::cout << "recld metrics on http://"
                  << parse_endpoint(settings.gw.metrics_listen).host << ":"
                  << gw.metrics_port() << "/metrics" << std::endl;
      int sig = 0;
      sigwait(&sigs, &sig);
      log::info("recld", "received ", sig == SIGINT ? "SIGINT" : "SIGTERM",
                ", finishing the windows in flight (at most ", settings.drain_s,
                " s)");
      if (int left = gw.drain(settings.drain_s); left > 0)
        log::warning("recld", left, " window(s) still in flight after ",
                     settings.drain_s, " s: dropped");
      log::info("recld", "shutting down");
      gw.stop();
    } catch (const std::exception& e) {
      std::cerr << "recld: " << e.what() << "\n";
      rc = 1;
    }
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  }
  db.reset();
  log::info("recld", "store closed, bye");
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = make_options();
  return run_command(opts, argc, argv, [&] {
    if (opts.given("config"))
      opts.load_file(opts.get("config"));
    return serve(read_settings(opts));
  });
}
