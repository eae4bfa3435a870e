#pragma once
// The durable store: RocksDB behind a small interface. No RocksDB header
// leaves store/ (pimpl), so the rest of the tree compiles against this file
// alone.
//
// Data lives in one column family per table of DESIGN.md. State changes are
// written synchronously (WAL fsync'd before the call returns); a change that
// spans tables is one atomic `write_batch`.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace recl {

/// The tables of the store.
enum class family : uint8_t {
  meta,       ///< schema version, creation time, settings
  experts,    ///< expert id -> metadata + weights
  samples,    ///< gating training frames + per-expert score vectors
  gating,     ///< selector checkpoint + version
  cameras,    ///< camera id -> current / last-retrained model, counters
  selections, ///< recent selection log for pruning
};

/// Number of families above.
constexpr size_t family_count = 6;

/// The name of a family as stored in RocksDB.
const char* family_name(family x);

/// The on-disk layout this build writes. 2: every record tagged binary
/// (actors/records.hpp); 1 (still read): camera, expert and credential
/// records as text.
constexpr int64_t store_schema_version = 2;

/// A storage failure, with the path and RocksDB's reason in its message.
struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A group of writes applied all or nothing.
class write_batch {
public:
  write_batch();
  ~write_batch();
  write_batch(write_batch&&) noexcept;
  write_batch& operator=(write_batch&&) noexcept;

  void put(family f, std::string_view key, std::string_view value);
  void erase(family f, std::string_view key);

  /// Number of operations queued.
  size_t size() const;

  struct impl;

private:
  friend class store;
  std::unique_ptr<impl> impl_;
};

/// How a store treats a filling disk.
struct store_options {
  /// A write is refused (store_error, nothing written) when it would leave
  /// less than this many bytes free on the data directory's filesystem:
  /// RocksDB needs room of its own to flush, compact and reopen. 0: no
  /// check (RocksDB meets the full disk itself).
  uint64_t reserve_bytes = 64ull << 20;
  /// After a failed write, seconds between attempts to reopen the database.
  double retry_s = 1.0;
};

/// What a GPU owner needs of a store: reads, single writes and scans. The
/// store below is one; on a worker node (actors/cluster.cpp) it is the
/// coordinator's store, reached over the cluster link.
class kv {
public:
  virtual ~kv() = default;

  /// Reads a value.
  virtual std::optional<std::string> get(family f,
                                         std::string_view key) const = 0;

  /// Writes one value durably.
  virtual void put(family f, std::string_view key, std::string_view value) = 0;

  /// Calls `fn` for each entry whose key starts with `prefix`, in key order,
  /// until `fn` returns false.
  virtual void
  scan(family f, std::string_view prefix,
       const std::function<bool(std::string_view, std::string_view)>& fn)
    const = 0;
};

/// An open data directory. Thread-safe.
///
/// A write that fails (a full disk, an I/O error) throws store_error and
/// leaves the store unwritable: RocksDB 7.8 aborts the process if its log is
/// written again after a failed write, so no write reaches it until the
/// database has been closed and reopened. Later writes do that by themselves
/// (at most every `retry_s`, once the reserve is free again) and throw until
/// it succeeds. Reads go on throughout.
class store : public kv {
public:
  /// Opens (creating if needed) the store in `dir`. Throws store_error when
  /// the directory is locked by another process, unreadable, or written by a
  /// newer schema.
  static std::unique_ptr<store> open(const std::string& dir,
                                     store_options opts = {});

  ~store();

  store(const store&) = delete;
  store& operator=(const store&) = delete;

  std::optional<std::string> get(family f, std::string_view key) const override;

  void put(family f, std::string_view key, std::string_view value) override;

  /// Deletes one value durably.
  void erase(family f, std::string_view key);

  /// Applies a batch atomically and durably.
  void write(write_batch& batch);

  void scan(family f, std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn)
    const override;

  /// Number of entries in a family (exact; walks the family).
  uint64_t count(family f) const;

  /// Bytes the data directory takes on disk.
  uint64_t disk_bytes() const;

  /// Bytes free for this process on the data directory's filesystem.
  uint64_t free_bytes() const;

  /// Why the last write failed or was refused; "" when it succeeded.
  std::string fault() const;

  /// True while writes are expected to succeed (fault() is empty).
  bool writable() const { return fault().empty(); }

  /// The data directory.
  const std::string& dir() const;

  /// Flushes memtables to SST files (used before measuring size on disk).
  void flush();

  /// Flushes and compacts every family, so that space held by deleted
  /// records is returned to the disk now rather than at the next
  /// compaction RocksDB chooses. Throws store_error.
  void compact();

  struct impl;

private:
  explicit store(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace recl
