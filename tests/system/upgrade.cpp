// A data directory written before store schema 2 (camera, expert and
// credential records as text) is read by today's recld, and what it writes
// from then on is in the tagged form (actors/records.hpp).

#include "actors/records.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/system/daemon.hpp"

#include <doctest/doctest.h>

using namespace recl;
using namespace recl::systest;

namespace {

/// A schema-1 data directory: one camera, one expert, one credential.
void write_schema_1(const std::string& dir) {
  auto db = store::open(dir);
  write_batch b;
  b.put(family::meta, keys::schema_version, "1");
  b.put(family::cameras, "cam-old",
        "windows=7\nframes_labelled=70\nlast_reply_ms=900\nmodel_id=\n"
        "last_retrained_id=\n");
  b.put(family::experts, keys::info("e-old-1"),
        "origin_camera=cam-old\norigin_window=3\nadmitted_unix_ms=1700000000000"
        "\nweight_bytes=1\naccuracy=0.5\nadmitted_seq=2\n");
  b.put(family::experts, keys::weights("e-old-1"), "w");
  b.put(family::meta, keys::credential("viewer-1"),
        "viewer * 17 " + std::string(32, 'a') + " " + std::string(64, 'b'));
  db->write(b);
}

} // namespace

TEST_CASE("store: a schema-1 data directory is read, and its records are "
          "rewritten tagged when they change") {
  test::temp_dir tmp;
  auto dir = tmp.path() + "/data";
  write_schema_1(dir);
  {
    recld_process d{{}, dir};
    client c{d.address};
    CHECK(windows_of(c.status(d.token), "cam-old") == 7);
    auto zoo = c.zoo(d.token);
    REQUIRE(zoo.size() == 1);
    CHECK(zoo[0].id == "e-old-1");
    CHECK(zoo[0].origin_camera == "cam-old");
    CHECK(zoo[0].origin_window == 3);
    CHECK(zoo[0].accuracy == doctest::Approx(0.5));
    auto creds = c.credentials(d.token);
    REQUIRE(creds.size() == 1);
    CHECK(creds[0].name == "viewer-1");
    CHECK(creds[0].role == "viewer");
    CHECK(creds[0].created_unix_ms == 17);
    // A window for the old camera rewrites its record.
    c.register_camera("cam-old", d.token);
    c.update(7, frames(2), 1);
    CHECK(d.stop() == 0);
  }
  auto db = store::open(dir);
  CHECK(db->get(family::meta, keys::schema_version)
        == std::to_string(store_schema_version));
  auto rec = db->get(family::cameras, "cam-old");
  REQUIRE(rec);
  CHECK(rec->substr(0, 4) == "CA01");
  auto cam = decode_camera_info("cam-old", *rec);
  CHECK(cam.windows == 8);
  CHECK(cam.frames_labelled == 72);
  // Untouched records stay as they were, and are still read.
  CHECK(db->get(family::experts, keys::info("e-old-1"))->substr(0, 7)
        == "origin_");
}
