// The admin capability: status, zoo, scheduler and credentials for
// recl-admin; writing calls need the admin role.

#include "actors/bridge.hpp"
#include "actors/gateway_shared.hpp"
#include "common/log.hpp"
#include "schema/wire.hpp"

#include <caf/all.hpp>

namespace recl::detail {

namespace {

/// The admin interface; what it may do depends on the caller's role.
class admin_impl final : public rpc::Admin::Server {
public:
  admin_impl(std::shared_ptr<shared_state> shared, principal who)
    : shared_(std::move(shared)), who_(std::move(who)) {}

  kj::Promise<void> status(StatusContext context) override {
    return ask<status_info>(shared_->sys, shared_->node, status_atom_v)
      .then([context](status_info&& s) mutable {
        wire::write(s, context.getResults().initStatus());
      });
  }

  kj::Promise<void> zoo(ZooContext context) override {
    return ask<std::vector<expert_info>>(shared_->sys, shared_->node,
                                         list_atom_v)
      .then([context](std::vector<expert_info>&& xs) mutable {
        wire::write(xs, context.getResults().initExperts(
                          static_cast<unsigned>(xs.size())));
      });
  }

  kj::Promise<void> scheduler(SchedulerContext context) override {
    return ask<scheduler_report>(shared_->sys, shared_->node, scheduler_atom_v)
      .then([context](scheduler_report&& r) mutable {
        wire::write(r, context.getResults().initReport());
      });
  }

  kj::Promise<void> prune(PruneContext context) override {
    require_admin("prune");
    std::string id = context.getParams().getId();
    return ask<std::vector<std::string>>(shared_->sys, shared_->node,
                                         prune_atom_v, id)
      .then([context](std::vector<std::string>&& xs) mutable {
        auto out
          = context.getResults().initRemoved(static_cast<unsigned>(xs.size()));
        for (size_t i = 0; i < xs.size(); ++i)
          out.set(static_cast<unsigned>(i), xs[i]);
      });
  }

  kj::Promise<void> addCredential(AddCredentialContext context) override {
    require_admin("add credentials");
    auto p = context.getParams();
    std::string name = p.getName();
    try {
      auto token
        = shared_->creds.add(name, parse_role(p.getRole()), p.getCameras());
      log::info("gateway", who_.name, " added credential ", name, " (",
                p.getRole().cStr(), ")");
      context.getResults().setToken(token);
    } catch (const std::invalid_argument& e) {
      throw_rpc_error(std::string{"bad_credential: "} + e.what());
    } catch (const std::exception& e) {
      throw_rpc_error(std::string{"store_fault: "} + e.what());
    }
    return kj::READY_NOW;
  }

  kj::Promise<void> revokeCredential(RevokeCredentialContext context) override {
    require_admin("revoke credentials");
    std::string name = context.getParams().getName();
    bool found = false;
    try {
      found = shared_->creds.revoke(name);
    } catch (const std::exception& e) {
      throw_rpc_error(std::string{"store_fault: "} + e.what());
    }
    if (found) {
      shared_->end_sessions_of(name);
      log::info("gateway", who_.name, " revoked credential ", name);
    }
    context.getResults().setRevoked(found);
    return kj::READY_NOW;
  }

  kj::Promise<void> credentials(CredentialsContext context) override {
    require_admin("list credentials");
    auto xs = shared_->creds.list();
    wire::write(
      xs, context.getResults().initList(static_cast<unsigned>(xs.size())));
    return kj::READY_NOW;
  }

private:
  void require_admin(const std::string& what) const {
    if (!who_.may_write_admin()) {
      log::warning("gateway", "refused to let ", who_.name, " (",
                   to_string(who_.role), ") ", what);
      throw_rpc_error("forbidden: the " + std::string{to_string(who_.role)}
                      + " role may not " + what);
    }
  }

  std::shared_ptr<shared_state> shared_;
  principal who_;
};

} // namespace

kj::Own<rpc::Admin::Server>
admin_capability(std::shared_ptr<shared_state> shared, principal who) {
  return kj::heap<admin_impl>(std::move(shared), std::move(who));
}

} // namespace recl::detail
