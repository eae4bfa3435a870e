#include "store/keys.hpp"
#include "store/store.hpp"

#include "tests/system/process.hpp"

#include <doctest/doctest.h>

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
  CHECK(db->get(family::meta, "schema_version")
        == std::to_string(store_schema_version));
  CHECK(db->disk_bytes() > 0);
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
    db->put(family::meta, "schema_version",
            std::to_string(store_schema_version + 1));
  }
  CHECK_THROWS_AS(store::open(dir.path()), store_error);
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
