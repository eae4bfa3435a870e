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

/// The on-disk layout this build reads and writes.
constexpr int64_t store_schema_version = 1;

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

/// An open data directory. Thread-safe.
class store {
public:
  /// Opens (creating if needed) the store in `dir`. Throws store_error when
  /// the directory is locked by another process, unreadable, or written by a
  /// newer schema.
  static std::unique_ptr<store> open(const std::string& dir);

  ~store();

  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Reads a value.
  std::optional<std::string> get(family f, std::string_view key) const;

  /// Writes one value durably.
  void put(family f, std::string_view key, std::string_view value);

  /// Deletes one value durably.
  void erase(family f, std::string_view key);

  /// Applies a batch atomically and durably.
  void write(write_batch& batch);

  /// Calls `fn` for each entry whose key starts with `prefix`, in key order,
  /// until `fn` returns false.
  void
  scan(family f, std::string_view prefix,
       const std::function<bool(std::string_view, std::string_view)>& fn) const;

  /// Number of entries in a family (exact; walks the family).
  uint64_t count(family f) const;

  /// Bytes the data directory takes on disk.
  uint64_t disk_bytes() const;

  /// The data directory.
  const std::string& dir() const;

  /// Flushes memtables to SST files (used before measuring size on disk).
  void flush();

  struct impl;

private:
  explicit store(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace recl
