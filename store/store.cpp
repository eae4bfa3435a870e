#include "store/store.hpp"

#include "store/keys.hpp"

#include "common/log.hpp"
#include "common/util.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace fs = std::filesystem;

namespace recl {

const char* family_name(family x) {
  static constexpr std::array<const char*, family_count> names{
    {"meta", "experts", "samples", "gating", "cameras", "selections"}};
  return names[static_cast<size_t>(x)];
}

namespace {

[[noreturn]] void fail(const std::string& what, const rocksdb::Status& st) {
  throw store_error(what + ": " + st.ToString());
}

void check(const std::string& what, const rocksdb::Status& st) {
  if (!st.ok())
    fail(what, st);
}

/// RocksDB's own log, into recld's (warnings and worse). Its default, a LOG
/// file in the data directory, fails with the disk, and RocksDB 7.8 aborts
/// when it writes that file again after a failure.
class rocks_logger final : public rocksdb::Logger {
public:
  rocks_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    log::warning("rocksdb", buf);
  }
};

} // namespace

// -- write_batch ---------------------------------------------------------------

struct write_batch::impl {
  struct op {
    family f;
    bool erase;
    std::string key;
    std::string value;
  };
  std::vector<op> ops;
};

write_batch::write_batch() : impl_(std::make_unique<impl>()) {}

write_batch::~write_batch() = default;
write_batch::write_batch(write_batch&&) noexcept = default;
write_batch& write_batch::operator=(write_batch&&) noexcept = default;

void write_batch::put(family f, std::string_view key, std::string_view value) {
  impl_->ops.push_back({f, false, std::string{key}, std::string{value}});
}

void write_batch::erase(family f, std::string_view key) {
  impl_->ops.push_back({f, true, std::string{key}, {}});
}

size_t write_batch::size() const {
  return impl_->ops.size();
}

// -- store ---------------------------------------------------------------------

struct store::impl {
  std::string dir;
  store_options opts;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles; // all opened families
  std::array<rocksdb::ColumnFamilyHandle*, family_count> ours{};

  /// Shared by every use of `db`; held exclusively to reopen it.
  mutable std::shared_mutex gate;

  /// Guards the fields below.
  mutable std::mutex fault_mu;
  std::string fault;   ///< why the last write failed or was refused
  bool broken = false; ///< a write failed: reopen before the next one
  std::chrono::steady_clock::time_point last_reopen{}; ///< or the failure

  rocksdb::ColumnFamilyHandle* cf(family f) const {
    return ours[static_cast<size_t>(f)];
  }

  void open_db();
  void close_db();
  void set_fault(std::string why, bool now_broken);
  void ensure_writable(uint64_t bytes);

  ~impl() { close_db(); }
};

/// Opens RocksDB in `dir` with every family (a newer build may have added
/// some: they are opened too, so that opening never fails on them).
void store::impl::open_db() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.paranoid_checks = true;
  o.max_total_wal_size = 256ull << 20;
  // No recovery by RocksDB itself after an I/O error (it would retry in a
  // background thread through the log writer that failed, which aborts in
  // 7.8): the store reopens the database instead (ensure_writable).
  o.max_bgerror_resume_count = 0;
  o.info_log = std::make_shared<rocks_logger>();
  std::vector<std::string> names;
  auto listed = rocksdb::DB::ListColumnFamilies(o, dir, &names);
  if (!listed.ok())
    names.clear(); // a new directory
  auto want = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end())
      names.push_back(n);
  };
  want(rocksdb::kDefaultColumnFamilyName);
  for (size_t i = 0; i < family_count; ++i)
    want(family_name(static_cast<family>(i)));
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (auto& n : names)
    descs.emplace_back(n, rocksdb::ColumnFamilyOptions{o});
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(o, dir, descs, &handles, &raw);
  if (!st.ok()) {
    auto msg = st.ToString();
    if (st.IsIOError() && msg.find("lock") != std::string::npos)
      throw store_error("data directory " + dir
                        + " is in use by another recld (RocksDB lock: " + msg
                        + ")");
    fail("cannot open store in " + dir, st);
  }
  db.reset(raw);
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t f = 0; f < family_count; ++f)
      if (names[i] == family_name(static_cast<family>(f)))
        ours[f] = handles[i];
}

void store::impl::close_db() {
  if (!db)
    return;
  // Memtables to SST files: the log (which still holds every value ever
  // written, deleted models too) is then dropped, and the next open need
  // not replay it. Not after a failed write: flushing switches logs, and
  // RocksDB 7.8 aborts when the failed log is written again.
  bool failed = false;
  {
    std::lock_guard<std::mutex> l{fault_mu};
    failed = broken;
  }
  if (!failed) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    auto flushed = db->Flush(fo, handles);
    if (!flushed.ok())
      log::warning("store", "flushing ", dir,
                   " on close: ", flushed.ToString());
  }
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h);
  handles.clear();
  auto st = db->Close();
  if (!st.ok())
    log::warning("store", "closing ", dir, ": ", st.ToString());
  db.reset();
}

void store::impl::set_fault(std::string why, bool now_broken) {
  std::lock_guard<std::mutex> l{fault_mu};
  if (fault.empty() && !why.empty())
    log::error("store", why);
  if (!fault.empty() && why.empty())
    log::info("store", dir, " is writable again");
  fault = std::move(why);
  if (now_broken && !broken) // the first reopen is due retry_s from now
    last_reopen = std::chrono::steady_clock::now();
  broken = broken || now_broken;
}

/// Throws unless a write of `bytes` may go to RocksDB now: the reserve must
/// stay free, and after a failed write the database is reopened first.
void store::impl::ensure_writable(uint64_t bytes) {
  std::error_code ec;
  auto space = fs::space(dir, ec);
  if (opts.reserve_bytes > 0 && !ec
      && space.available < bytes + opts.reserve_bytes) {
    auto why = "disk full: " + dir + " has " + human_bytes(space.available)
               + " free, and a write of " + human_bytes(bytes) + " must leave "
               + human_bytes(opts.reserve_bytes) + " (the reserve) free";
    set_fault(why, false);
    throw store_error(why);
  }
  std::unique_lock<std::mutex> l{fault_mu};
  if (!broken)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_reopen < std::chrono::duration<double>(opts.retry_s))
    throw store_error(fault);
  last_reopen = now;
  l.unlock();
  std::unique_lock<std::shared_mutex> exclusive{gate};
  try {
    close_db();
    open_db();
  } catch (const std::exception& e) {
    auto why = std::string{"reopening after a failed write: "} + e.what();
    set_fault(why, true);
    throw store_error(why);
  }
  std::lock_guard<std::mutex> again{fault_mu};
  broken = false;
  log::info("store", "reopened ", dir, " after a failed write");
}

store::store(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

store::~store() = default;

std::unique_ptr<store> store::open(const std::string& dir, store_options opts) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw store_error("cannot create data directory " + dir + ": "
                      + ec.message());
  auto result = std::make_unique<impl>();
  result->dir = dir;
  result->opts = opts;
  result->open_db();
  auto self = std::unique_ptr<store>(new store(std::move(result)));
  // Schema version: written on creation, checked on every open.
  if (auto v = self->get(family::meta, keys::schema_version)) {
    int64_t found = 0;
    try {
      found = std::stoll(*v);
    } catch (...) {
      throw store_error("data directory " + dir
                        + " has an unreadable schema version '" + *v + "'");
    }
    if (found > store_schema_version)
      throw store_error("data directory " + dir + " has schema version "
                        + std::to_string(found) + ", newer than this build's "
                        + std::to_string(store_schema_version));
    // Older records are read as they are and rewritten in this version's
    // form when they change (actors/records.hpp); from now on, a build that
    // cannot read those must refuse the directory.
    if (found < store_schema_version)
      self->put(family::meta, keys::schema_version,
                std::to_string(store_schema_version));
  } else {
    write_batch b;
    b.put(family::meta, keys::schema_version,
          std::to_string(store_schema_version));
    b.put(family::meta, keys::created_unix_ms, std::to_string(unix_ms()));
    self->write(b);
  }
  return self;
}

std::optional<std::string> store::get(family f, std::string_view key) const {
  std::shared_lock<std::shared_mutex> l{impl_->gate};
  std::string value;
  auto st = impl_->db->Get(rocksdb::ReadOptions{}, impl_->cf(f),
                           rocksdb::Slice{key.data(), key.size()}, &value);
  if (st.IsNotFound())
    return std::nullopt;
  check(std::string{"reading "} + family_name(f) + "/" + std::string{key}, st);
  return value;
}

void store::put(family f, std::string_view key, std::string_view value) {
  write_batch b;
  b.put(f, key, value);
  write(b);
}

void store::erase(family f, std::string_view key) {
  write_batch b;
  b.erase(f, key);
  write(b);
}

void store::write(write_batch& batch) {
  uint64_t bytes = 0;
  for (auto& op : batch.impl_->ops)
    bytes += op.key.size() + op.value.size();
  impl_->ensure_writable(bytes);
  std::shared_lock<std::shared_mutex> l{impl_->gate};
  rocksdb::WriteBatch wb;
  for (auto& op : batch.impl_->ops) {
    auto* cf = impl_->cf(op.f);
    if (op.erase)
      wb.Delete(cf, op.key);
    else
      wb.Put(cf, op.key, op.value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = impl_->db->Write(wo, &wb);
  auto what = "writing a batch of " + std::to_string(batch.size()) + " ("
              + human_bytes(bytes) + ") to " + impl_->dir;
  if (!st.ok()) {
    impl_->set_fault(what + ": " + st.ToString(), true);
    fail(what, st);
  }
  impl_->set_fault("", false);
}

void store::scan(
  family f, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::shared_lock<std::shared_mutex> l{impl_->gate};
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(rocksdb::ReadOptions{}, impl_->cf(f))};
  rocksdb::Slice p{prefix.data(), prefix.size()};
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    auto k = it->key();
    auto v = it->value();
    if (!fn(std::string_view{k.data(), k.size()},
            std::string_view{v.data(), v.size()}))
      break;
  }
  check(std::string{"scanning "} + family_name(f), it->status());
}

uint64_t store::count(family f) const {
  uint64_t n = 0;
  scan(f, "", [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  return n;
}

uint64_t store::disk_bytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(impl_->dir, ec))
    if (e.is_regular_file(ec))
      total += e.file_size(ec);
  return total;
}

const std::string& store::dir() const {
  return impl_->dir;
}

uint64_t store::free_bytes() const {
  std::error_code ec;
  auto space = fs::space(impl_->dir, ec);
  return ec ? 0 : space.available;
}

std::string store::fault() const {
  std::lock_guard<std::mutex> l{impl_->fault_mu};
  return impl_->fault;
}

void store::flush() {
  std::shared_lock<std::shared_mutex> l{impl_->gate};
  rocksdb::FlushOptions fo;
  fo.wait = true;
  check("flushing " + impl_->dir, impl_->db->Flush(fo, impl_->handles));
}

void store::compact() {
  flush();
  std::shared_lock<std::shared_mutex> l{impl_->gate};
  rocksdb::CompactRangeOptions co;
  for (auto* h : impl_->handles)
    check("compacting " + impl_->dir,
          impl_->db->CompactRange(co, h, nullptr, nullptr));
}

} // namespace recl
