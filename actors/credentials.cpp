#include "actors/credentials.hpp"

#include "actors/records.hpp"

#include "common/util.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"

#include <fnmatch.h>
#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace recl {

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr)
      != 1)
    throw std::runtime_error("SHA-256 failed");
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 15]);
  }
  return out;
}

namespace {

/// The hash kept for a secret: SHA-256 of the salt's bytes and the secret.
std::string salted_hash(const std::string& salt_hex, std::string_view secret) {
  std::string bytes;
  for (size_t i = 0; i + 1 < salt_hex.size(); i += 2)
    bytes.push_back(
      static_cast<char>(std::stoi(salt_hex.substr(i, 2), nullptr, 16)));
  bytes.append(secret);
  return sha256_hex(bytes);
}

/// A camera pattern: the characters of camera ids and glob's * ? [ ] !.
bool valid_pattern(const std::string& x) {
  if (x.empty() || x.size() > 128)
    return false;
  return std::all_of(x.begin(), x.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'
           || c == '-' || c == '*' || c == '?' || c == '[' || c == ']'
           || c == '!';
  });
}

} // namespace

const char* to_string(role r) {
  switch (r) {
  case role::camera:
    return "camera";
  case role::viewer:
    return "viewer";
  case role::admin:
    return "admin";
  }
  return "?";
}

role parse_role(const std::string& name) {
  for (auto r : {role::camera, role::viewer, role::admin})
    if (name == to_string(r))
      return r;
  throw std::invalid_argument("unknown role '" + name
                              + "' (camera, viewer or admin)");
}

bool principal::may_register(const std::string& camera) const {
  if (role == role::admin)
    return true;
  return role == role::camera
         && ::fnmatch(cameras.c_str(), camera.c_str(), 0) == 0;
}

credentials::credentials(std::shared_ptr<store> db, std::string master_token)
  : db_(std::move(db)), master_(std::move(master_token)) {
  db_->scan(
    family::meta, keys::credential_prefix,
    [&](std::string_view key, std::string_view value) {
      stored s;
      s.name = key.substr(keys::credential_prefix.size());
      // A damaged record leaves the fields empty, which the checks below
      // refuse, naming the credential.
      credential_record r;
      try {
        r = decode_credential(value);
      } catch (const std::exception&) {
      }
      s.cameras = r.cameras;
      s.created_unix_ms = r.created_unix_ms;
      s.salt = r.salt;
      s.hash = r.hash;
      if (!valid_camera_id(s.name) || s.hash.size() != 64 || s.salt.size() != 32
          || s.salt.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw std::runtime_error("credential '" + s.name
                                 + "': not a credential record");
      s.role = parse_role(r.role);
      entries_.push_back(std::move(s));
      return true;
    });
}

std::optional<principal> credentials::check(std::string_view token) const {
  if (!master_.empty() && constant_time_equal(token, master_))
    return principal{"master", role::admin, "*"};
  auto colon = token.find(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  auto name = token.substr(0, colon);
  auto secret = token.substr(colon + 1);
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& e : entries_)
    if (e.name == name) {
      if (constant_time_equal(salted_hash(e.salt, secret), e.hash))
        return principal{e.name, e.role, e.cameras};
      return std::nullopt;
    }
  return std::nullopt;
}

std::string credentials::add(const std::string& name, role r,
                             std::string cameras) {
  if (!valid_camera_id(name) || name == "master")
    throw std::invalid_argument(
      "'" + name
      + "' is not a credential name (1-64 of A-Z a-z 0-9 . _ -, "
        "not 'master')");
  if (r != role::camera)
    cameras = r == role::admin ? "*" : "-";
  else if (cameras.empty())
    cameras = name;
  else if (!valid_pattern(cameras))
    throw std::invalid_argument("'" + cameras
                                + "' is not a camera pattern (a glob of camera "
                                  "ids: A-Z a-z 0-9 . _ - * ? [ ] !)");
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& e : entries_)
    if (e.name == name)
      throw std::invalid_argument("a credential named '" + name
                                  + "' exists; revoke it first");
  auto secret = random_hex(16);
  stored s;
  s.name = name;
  s.role = r;
  s.cameras = cameras;
  s.created_unix_ms = unix_ms();
  s.salt = random_hex(16);
  s.hash = salted_hash(s.salt, secret);
  write(name, &s);
  entries_.push_back(std::move(s));
  return name + ":" + secret;
}

bool credentials::revoke(const std::string& name) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = std::find_if(entries_.begin(), entries_.end(),
                        [&](const stored& e) { return e.name == name; });
  if (i == entries_.end())
    return false;
  write(name, nullptr);
  entries_.erase(i);
  return true;
}

std::vector<credential_info> credentials::list() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<credential_info> out;
  for (auto& e : entries_)
    out.push_back(
      credential_info{e.name, to_string(e.role), e.cameras, e.created_unix_ms});
  return out;
}

std::string credentials::encode(const stored& e) {
  return recl::encode(credential_record{to_string(e.role), e.cameras,
                                        e.created_unix_ms, e.salt, e.hash});
}

void credentials::write(const std::string& name, const stored* e) {
  try {
    if (e)
      db_->put(family::meta, keys::credential(name), encode(*e));
    else
      db_->erase(family::meta, keys::credential(name));
  } catch (const std::exception& x) {
    throw std::runtime_error(std::string{"cannot save the credentials: "}
                             + x.what());
  }
}

} // namespace recl
