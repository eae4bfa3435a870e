#pragma once
// Who may do what on the gateway: named credentials with a role, kept as
// salted SHA-256 hashes in the store (family meta, `credential/NAME`), plus
// the master token (auth-token or --token), which is an admin.
//
// Roles, from least to most:
//  - camera: registers cameras whose id matches its pattern (a glob, by
//    default the credential's own name), and nothing else;
//  - viewer: opens the admin interface to read (status, zoo, cameras,
//    scheduler), registers no camera;
//  - admin: everything, including prune and managing credentials.
// A named credential's token is "NAME:SECRET"; the secret is shown once,
// when the credential is made, and only its hash is kept.

#include "schema/messages.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace recl {

class store;

/// SHA-256 of `bytes`, as 64 lowercase hex digits. Throws
/// std::runtime_error when OpenSSL cannot compute it.
std::string sha256_hex(std::string_view bytes);

enum class role { camera, viewer, admin };

/// "camera", "viewer" or "admin".
const char* to_string(role r);

/// Parses a role name; throws std::invalid_argument naming the choices.
role parse_role(const std::string& name);

/// Whom a token belongs to.
struct principal {
  std::string name; ///< "master" for the master token
  recl::role role = role::camera;
  std::string cameras;

  bool may_register(const std::string& camera) const;
  bool may_read_admin() const { return role != role::camera; }
  bool may_write_admin() const { return role == role::admin; }
};

/// The credentials of one data directory. Thread-safe.
class credentials {
public:
  /// Loads the credentials kept in `db`. Throws std::runtime_error when a
  /// record is malformed.
  credentials(std::shared_ptr<store> db, std::string master_token);

  /// Whose token this is, if anyone's.
  std::optional<principal> check(std::string_view token) const;

  /// Makes a credential and returns its token ("NAME:SECRET"). `cameras`
  /// (camera role only; "" = the name itself) is a glob of camera ids.
  /// Throws std::invalid_argument for a bad or taken name or pattern, and
  /// std::runtime_error when the store cannot be written (nothing changes).
  std::string add(const std::string& name, role r, std::string cameras);

  /// Removes a credential; false when there is none of that name. Throws
  /// std::runtime_error when the store cannot be written (nothing changes).
  bool revoke(const std::string& name);

  std::vector<credential_info> list() const;

private:
  struct stored {
    std::string name;
    recl::role role = role::camera;
    std::string cameras;
    int64_t created_unix_ms = 0;
    std::string salt; ///< hex
    std::string hash; ///< hex SHA-256 of salt bytes + secret
  };

  static std::string encode(const stored& e);
  /// Writes `e` (null: erases) as credential `name`; throws
  /// std::runtime_error when the store refuses.
  void write(const std::string& name, const stored* e);

  std::shared_ptr<store> db_;
  std::string master_;
  mutable std::mutex mtx_;
  std::vector<stored> entries_;
};

} // namespace recl
