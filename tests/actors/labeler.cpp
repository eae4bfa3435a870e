// Actor-level tests on a real actor system: the labeler with the real
// teacher, and a window's whole flow through node and camera into the store.

#include "actors/actors.hpp"
#include "actors/records.hpp"

#include "common/util.hpp"
#include "gpu/teacher.hpp"
#include "store/store.hpp"
#include "tests/system/process.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

using namespace recl;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::string data = test::data_dir();

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  teacher_options teacher() const {
    teacher_options o;
    o.spec = data.empty() ? "hog" : "yolox:" + data + "/models/yolox_nano.onnx";
    return o;
  }

  /// bus.jpg's bytes, or a synthetic JPEG without the shared data.
  std::vector<uint8_t> picture() const {
    if (!data.empty()) {
      auto s = read_file(data + "/images/bus.jpg");
      return {s.begin(), s.end()};
    }
    std::vector<uint8_t> out;
    cv::imencode(".jpg", cv::Mat(240, 320, CV_8UC3, cv::Scalar(90, 90, 90)),
                 out);
    return out;
  }

  window make_window(const std::string& cam, uint32_t index, size_t n) const {
    window w;
    w.camera = cam;
    w.index = index;
    w.sample_fps = 1;
    w.arrived_ms = now_ms();
    for (size_t i = 0; i < n; ++i)
      w.frames.push_back(frame{picture(), i * 1000});
    return w;
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "labeler: labels every frame of a window") {
  // ... and hands on the frames it decoded, so that nothing decodes them
  // again (the GPU owner scores and trains on these).
  auto lab = spawn_labeler(*sys, teacher());
  caf::scoped_actor self{*sys};
  self->request(lab, caf::infinite, label_atom_v, make_window("c", 4, 2))
    .receive(
      [&](labelled_window& lw) {
        REQUIRE(lw.labels.size() == 2);
        CHECK(lw.source.index == 4);
        CHECK(lw.labels[0].width > 0);
        CHECK(lw.teacher_ms > 0);
        REQUIRE(lw.images);
        REQUIRE(lw.images->size() == 2);
        for (size_t i = 0; i < 2; ++i) {
          auto& img = (*lw.images)[i];
          CHECK(img.width == lw.labels[i].width);
          CHECK(img.height == lw.labels[i].height);
          CHECK(img.bgr.size() == 3u * img.width * img.height);
        }
        if (!data.empty()) {
          int buses = 0;
          for (auto& b : lw.labels[1].boxes)
            buses += b.cls == 5 && b.score >= 0.5f;
          CHECK(buses >= 1);
        }
      },
      [&](caf::error& e) { FAIL("unexpected error: " << describe(e)); });
  self->send_exit(lab, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "labeler: a frame that is not an image is named") {
  auto lab = spawn_labeler(*sys, teacher());
  caf::scoped_actor self{*sys};
  auto w = make_window("cam7", 3, 3);
  std::string junk = "definitely not a jpeg";
  w.frames[1].bytes.assign(junk.begin(), junk.end());
  w.frames[2].bytes.clear();
  self->request(lab, caf::infinite, label_atom_v, w)
    .receive([&](labelled_window&) { FAIL("junk was labelled"); },
             [&](caf::error& e) {
               CHECK(e.category() == caf::atom("recl"));
               CHECK(e.code() == static_cast<uint8_t>(ec::bad_frame));
               CHECK(describe(e).find("camera cam7, window 3, frame 1")
                     != std::string::npos);
             });
  // The labeler survives and keeps working.
  self->request(lab, caf::infinite, label_atom_v, make_window("cam7", 4, 1))
    .receive([&](labelled_window& lw) { CHECK(lw.labels.size() == 1); },
             [&](caf::error& e) { FAIL(describe(e)); });
  self->send_exit(lab, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "node and camera: a window is labelled, answered "
                           "and recorded durably") {
  test::temp_dir dir;
  std::shared_ptr<store> db = store::open(dir.path());
  node_config nc;
  nc.data_dir = dir.path();
  nc.teacher_spec = teacher().spec;
  nc.version = "test";
  auto node = spawn_node(*sys, db, nc);
  {
    caf::scoped_actor self{*sys};
    camera_actor cam;
    self->request(node, caf::infinite, register_atom_v, std::string{"cam-a"})
      .receive([&](camera_actor& c) { cam = c; },
               [&](caf::error& e) { FAIL(describe(e)); });
    REQUIRE(cam);
    for (uint32_t i = 0; i < 2; ++i)
      self
        ->request(cam, caf::infinite, update_atom_v, make_window("cam-a", i, 2))
        .receive(
          [&](decision& d) {
            CHECK(d.window == i);
            CHECK_FALSE(d.swap);
            CHECK(d.labels.size() == 2);
            CHECK(d.time.total_ms >= d.time.teacher_ms);
            // The same frame twice: labels agree, AMS samples less.
            CHECK(d.next_sample_fps == doctest::Approx(0.75f));
            CHECK(d.source == "kept"); // no base expert: nothing to serve
          },
          [&](caf::error& e) { FAIL(describe(e)); });
    // An empty window is refused; the camera stays up.
    self->request(cam, caf::infinite, update_atom_v, make_window("cam-a", 2, 0))
      .receive([&](decision&) { FAIL("empty window accepted"); },
               [&](caf::error& e) {
                 CHECK(e.code() == static_cast<uint8_t>(ec::bad_window));
               });
    auto rec = db->get(family::cameras, "cam-a");
    REQUIRE(rec);
    auto info = decode_camera_info("cam-a", *rec);
    CHECK(info.windows == 2);
    CHECK(info.frames_labelled == 4);
    self->request(node, caf::infinite, status_atom_v)
      .receive(
        [&](status_info& s) {
          REQUIRE(s.cameras.size() == 1);
          CHECK(s.cameras[0].id == "cam-a");
          CHECK(s.cameras[0].windows == 2);
          CHECK(s.cameras[0].connected);
          CHECK(s.data_dir == dir.path());
        },
        [&](caf::error& e) { FAIL(describe(e)); });
    self->request(node, caf::infinite, register_atom_v, std::string{"bad id!"})
      .receive([&](camera_actor&) { FAIL("bad id accepted"); },
               [&](caf::error& e) {
                 CHECK(e.code() == static_cast<uint8_t>(ec::bad_camera_id));
               });
    self->send_exit(node, caf::exit_reason::user_shutdown);
  }
  // Every actor ends, and the store is then free for another opener.
  sys->await_all_actors_done();
  node = nullptr;
  db.reset();
  CHECK(store::open(dir.path())->get(family::cameras, "cam-a"));
}
