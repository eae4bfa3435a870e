#include "store/keys.hpp"
#include "store/store.hpp"

#include "tests/system/process.hpp"

#include <chrono>
#include <random>
#include <doctest/doctest.h>
#include <thread>

using namespace recl;

TEST_CASE("store: values survive close and reopen") {
  test::temp_dir dir;
  {
    auto db = store::open(dir.path());
    db->put(family::cameras, "cam1", "windows=3");
    db->put(family::experts, "info/e1", "x");
    db->put(family::experts, "info/e2", "y");
    db->put(family::experts, "weights/e1", std::string(100000, 'w'));
    db->erase(family::experts, "info/e2");
    CHECK(db->get(family::cameras, "cam1") == "windows=3");
    CHECK_FALSE(db->get(family::cameras, "cam2"));
  }
  auto db = store::open(dir.path());
  CHECK(db->get(family::cameras, "cam1") == "windows=3");
  CHECK(db->get(family::experts, "weights/e1")->size() == 100000);
  CHECK_FALSE(db->get(family::experts, "info/e2"));
  // Families are separate tables: the same key does not collide.
  CHECK_FALSE(db->get(family::samples, "cam1"));
  CHECK(db->get(family::meta, keys::schema_version)
        == std::to_string(store_schema_version));
  CHECK(db->disk_bytes() > 0);
}

TEST_CASE("store: compacting returns the room of deleted records") {
  test::temp_dir dir;
  auto db = store::open(dir.path());
  std::mt19937 rng{7};
  std::string big(1 << 20, '\0');
  for (int i = 0; i < 8; ++i) {
    for (auto& c : big) // incompressible, like weights
      c = static_cast<char>(rng());
    db->put(family::experts, keys::weights("e" + std::to_string(i)), big);
  }
  db->flush();
  auto full = db->disk_bytes();
  CHECK(full > (6u << 20));
  for (int i = 0; i < 8; ++i)
    db->erase(family::experts, keys::weights("e" + std::to_string(i)));
  db->compact();
  CHECK(db->disk_bytes() < full / 4);
  CHECK_FALSE(db->get(family::experts, keys::weights("e0")));
}

TEST_CASE("store: a batch spans families and applies all at once") {
  test::temp_dir dir;
  auto db = store::open(dir.path());
  write_batch b;
  b.put(family::experts, "info/a", "1");
  b.put(family::gating, "current", "v2");
  b.put(family::samples, "s/0001", "frame");
  b.erase(family::cameras, "nobody");
  CHECK(b.size() == 4);
  db->write(b);
  CHECK(db->get(family::experts, "info/a") == "1");
  CHECK(db->get(family::gating, "current") == "v2");
  CHECK(db->count(family::samples) == 1);
}

TEST_CASE("store: prefix scans in key order") {
  test::temp_dir dir;
  auto db = store::open(dir.path());
  for (auto k : {"info/b", "info/a", "weights/a", "info/c"})
    db->put(family::experts, k, k);
  std::vector<std::string> keys;
  db->scan(family::experts, "info/", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  CHECK(keys == std::vector<std::string>{"info/a", "info/b", "info/c"});
  keys.clear();
  db->scan(family::experts, "", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return keys.size() < 2; // stops early
  });
  CHECK(keys.size() == 2);
  CHECK(db->count(family::experts) == 4);
}

TEST_CASE("store: a second opener of the same directory is refused") {
  test::temp_dir dir;
  auto db = store::open(dir.path());
  db->put(family::cameras, "cam1", "kept");
  CHECK_THROWS_AS(store::open(dir.path()), store_error);
  try {
    store::open(dir.path());
  } catch (const store_error& e) {
    CHECK(std::string{e.what()}.find("in use by another recld")
          != std::string::npos);
  }
  // The first opener is unharmed.
  CHECK(db->get(family::cameras, "cam1") == "kept");
}

TEST_CASE("store: a newer schema version is refused") {
  test::temp_dir dir;
  {
    auto db = store::open(dir.path());
    db->put(family::meta, keys::schema_version,
            std::to_string(store_schema_version + 1));
  }
  CHECK_THROWS_AS(store::open(dir.path()), store_error);
}

TEST_CASE("store: an older schema version is opened and marked as this "
          "build's") {
  test::temp_dir dir;
  {
    auto db = store::open(dir.path());
    db->put(family::meta, keys::schema_version, "1");
    db->put(family::cameras, "cam1", "windows=3\n");
  }
  auto db = store::open(dir.path());
  CHECK(db->get(family::meta, keys::schema_version)
        == std::to_string(store_schema_version));
  CHECK(db->get(family::cameras, "cam1") == "windows=3\n");
}

TEST_CASE("store: an unusable path gives a clear error") {
  test::temp_dir dir;
  auto file = dir.path() + "/plain-file";
  { auto db = store::open(dir.path()); }
  FILE* f = std::fopen(file.c_str(), "w");
  std::fputs("x", f);
  std::fclose(f);
  CHECK_THROWS_AS(store::open(file + "/sub"), store_error);
}

TEST_CASE("store keys: log keys sort by sequence, prefixes match their keys") {
  CHECK(keys::seq(9) < keys::seq(10));
  CHECK(keys::seq(99999) < keys::seq(100000));
  CHECK(keys::seq_of(keys::seq(123456789)) == 123456789u);
  CHECK(keys::seq(5).rfind(keys::seq_prefix, 0) == 0);
  CHECK(keys::info("e1").rfind(keys::info_prefix, 0) == 0);
  CHECK(keys::queued_info("e1").rfind(keys::queued_info_prefix, 0) == 0);
  CHECK(keys::centroid("e1").substr(keys::centroid_prefix.size()) == "e1");
  // An expert's info and its queue record never share a prefix scan.
  CHECK(keys::queued_info("x").rfind(keys::info_prefix, 0) != 0);
  CHECK(keys::generalist == keys::model("generalist"));
}

TEST_CASE("store: a full disk fails writes cleanly, and they resume when space "
          "returns"
          * doctest::skip(!test::small_disk{1}.mounted())) {
  test::small_disk disk{16};
  REQUIRE_MESSAGE(disk.mounted(), disk.why());
  auto dir = disk.path() + "/db";
  // No reserve: RocksDB meets the full disk itself. Reopening is tried at
  // most every 2 s.
  auto db = store::open(dir, store_options{0, 2.0});
  disk.fill(3 << 20);
  std::string value(256 * 1024, 'v');
  // Fill the rest through the store: RocksDB itself meets ENOSPC.
  std::vector<std::string> written;
  std::string why;
  for (int i = 0; i < 64 && why.empty(); ++i) {
    auto key = "weights/m" + std::to_string(i);
    try {
      db->put(family::experts, key, value);
      written.push_back(key);
    } catch (const store_error& e) {
      why = e.what();
    }
  }
  REQUIRE_MESSAGE(!why.empty(), "3 MiB took 64 values of 256 KiB");
  MESSAGE("the failed write: " << why);
  CHECK_FALSE(db->writable());
  CHECK(db->fault().find("No space") != std::string::npos);
  // Further writes (before a reopen is due) are errors too, not an abort
  // (RocksDB 7.8 asserts when its log is written again after a failure).
  for (int i = 0; i < 3; ++i)
    CHECK_THROWS_AS(db->put(family::cameras, "cam", "x"), store_error);
  // Reads go on.
  for (auto& k : written)
    CHECK(db->get(family::experts, k)->size() == value.size());
  // Space returns: the next write reopens the database and succeeds.
  disk.unfill();
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  db->put(family::cameras, "cam", "after");
  CHECK(db->writable());
  CHECK(db->fault().empty());
  db.reset();
  // Everything acknowledged is there after a restart.
  auto again = store::open(dir);
  for (auto& k : written)
    CHECK(again->get(family::experts, k));
  CHECK(again->get(family::cameras, "cam") == "after");
}

TEST_CASE("store: a write that would eat the reserve is refused, nothing "
          "written"
          * doctest::skip(!test::small_disk{1}.mounted())) {
  test::small_disk disk{16};
  REQUIRE_MESSAGE(disk.mounted(), disk.why());
  auto db = store::open(disk.path() + "/db", store_options{4 << 20, 0.0});
  db->put(family::cameras, "cam", "before");
  disk.fill(5 << 20);
  CHECK_THROWS_WITH_AS(
    db->put(family::experts, "big", std::string(2 << 20, 'b')),
    doctest::Contains("disk full"), store_error);
  CHECK_FALSE(db->get(family::experts, "big"));
  CHECK(db->fault().find("the reserve") != std::string::npos);
  // Small writes still fit, and clear the fault.
  db->put(family::cameras, "cam", "small");
  CHECK(db->writable());
  CHECK(db->get(family::cameras, "cam") == "small");
}
