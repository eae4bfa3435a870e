// The wire module: every message written into its Cap'n Proto form and read
// back is the message it was, field by field.

#include "schema/wire.hpp"

#include <capnp/message.h>
#include <doctest/doctest.h>

#include <stdexcept>

using namespace recl;

namespace {

template <class Struct, class T>
T round_trip(const T& x) {
  capnp::MallocMessageBuilder msg;
  auto root = msg.initRoot<Struct>();
  wire::write(x, root);
  return wire::get<T>(root.asReader());
}

frame_labels some_labels() {
  frame_labels l;
  l.width = 640;
  l.height = 360;
  l.boxes.push_back(box{1, 2, 30, 40, 0.9f, 2});
  l.boxes.push_back(box{5, 6, 70, 80, 0.4f, 0});
  return l;
}

} // namespace

TEST_CASE("wire: a decision survives the round trip, every field") {
  decision d;
  d.window = 7;
  d.swap = true;
  d.model_id = "e-cam-1-3-abc";
  d.weights = {1, 2, 3, 250};
  d.update = {7, 8};
  d.labels = {some_labels(), frame_labels{}};
  d.next_sample_fps = 1.5f;
  d.time = window_timing{1, 2, 3, 4, 5, 6, 7, 8};
  d.teacher = "yolox-nano-416";
  d.source = "zoo";
  d.accuracy = 0.61f;
  d.current_accuracy = 0.42f;
  d.zoo_size = 12;
  d.candidates = 9;
  d.compare = selector_comparison{0.5f, 0.4f, 0.7f};
  auto r = round_trip<rpc::Decision>(d);
  CHECK(r.window == 7);
  CHECK(r.swap);
  CHECK(r.model_id == d.model_id);
  CHECK(r.weights == d.weights);
  CHECK(r.update == d.update);
  REQUIRE(r.labels.size() == 2);
  CHECK(r.labels[0].width == 640);
  CHECK(r.labels[0].height == 360);
  REQUIRE(r.labels[0].boxes.size() == 2);
  CHECK(r.labels[0].boxes[1].x1 == 70);
  CHECK(r.labels[0].boxes[1].cls == 0);
  CHECK(r.labels[1].boxes.empty());
  CHECK(r.next_sample_fps == 1.5f);
  CHECK(r.time.queue_ms == 1);
  CHECK(r.time.check_ms == 5);
  CHECK(r.time.fetch_ms == 6);
  CHECK(r.time.link_ms == 7);
  CHECK(r.time.total_ms == 8);
  CHECK(r.teacher == d.teacher);
  CHECK(r.source == "zoo");
  CHECK(r.accuracy == 0.61f);
  CHECK(r.current_accuracy == 0.42f);
  CHECK(r.zoo_size == 12);
  CHECK(r.candidates == 9);
  CHECK(r.compare.gating == 0.5f);
  CHECK(r.compare.odin == 0.4f);
  CHECK(r.compare.oracle == 0.7f);
}

TEST_CASE("wire: a kept decision without comparison reads -1 for it") {
  decision d;
  auto r = round_trip<rpc::Decision>(d);
  CHECK_FALSE(r.swap);
  CHECK(r.weights.empty());
  CHECK(r.accuracy == -1);
  CHECK(r.compare.gating == -1);
  CHECK(r.compare.oracle == -1);
}

TEST_CASE("wire: windows, stats, limits and admin replies round-trip") {
  SUBCASE("a window's frames, as the gateway reads them") {
    window w;
    w.index = 3;
    w.sample_fps = 2;
    w.model_id = "base";
    w.model_hash = "ab12";
    w.updates = update_form::delta_half;
    w.frames = {frame{{0xff, 0xd8, 1}, 100}, frame{{9}, 200}};
    capnp::MallocMessageBuilder msg;
    auto root = msg.initRoot<rpc::Window>();
    wire::write(w, root);
    auto in = root.asReader();
    CHECK(in.getIndex() == 3);
    CHECK(in.getSampleFps() == 2);
    window h;
    wire::read_header(in, h);
    CHECK(h.index == 3);
    CHECK(h.sample_fps == 2);
    CHECK(h.model_id == "base");
    CHECK(h.model_hash == "ab12");
    CHECK(h.updates == update_form::delta_half);
    CHECK(h.frames.empty());
    REQUIRE(in.getFrames().size() == 2);
    auto f = wire::get<frame>(in.getFrames()[1]);
    CHECK(f.bytes == std::vector<uint8_t>{9});
    CHECK(f.ts_ms == 200);
  }
  SUBCASE("an update form from a newer client is refused") {
    capnp::MallocMessageBuilder msg;
    auto root = msg.initRoot<rpc::Window>();
    root.setUpdates(static_cast<rpc::Window::UpdateForm>(9));
    window h;
    CHECK_THROWS_WITH_AS(wire::read_header(root.asReader(), h),
                         "unknown update form 9", std::invalid_argument);
  }
  SUBCASE("edge stats") {
    edge_stats s{"", 4, 99, "m", 0.3f};
    auto r = round_trip<rpc::EdgeStats>(s);
    CHECK(r.window == 4);
    CHECK(r.frames_seen == 99);
    CHECK(r.model_id == "m");
    CHECK(r.accuracy == 0.3f);
  }
  SUBCASE("limits") {
    server_limits l{10, 1000, 100000};
    auto r = round_trip<rpc::Limits>(l);
    CHECK(r.max_frames == 10);
    CHECK(r.max_frame_bytes == 1000);
    CHECK(r.max_message_bytes == 100000);
  }
  SUBCASE("status") {
    status_info s;
    s.uptime_s = 12.5;
    s.teacher = "t";
    s.store_bytes = 4096;
    s.data_dir = "/d";
    s.version = "0.1.0";
    camera_info c;
    c.id = "cam-a";
    c.windows = 3;
    c.frames_labelled = 30;
    c.last_reply_ms = 80;
    c.last_reply_unix_ms = 1700000000000;
    c.model_id = "m1";
    c.last_retrained_id = "r1";
    c.connected = true;
    s.cameras = {c};
    auto r = round_trip<rpc::Status>(s);
    CHECK(r.uptime_s == 12.5);
    CHECK(r.store_bytes == 4096);
    CHECK(r.version == "0.1.0");
    REQUIRE(r.cameras.size() == 1);
    CHECK(r.cameras[0].id == "cam-a");
    CHECK(r.cameras[0].frames_labelled == 30);
    CHECK(r.cameras[0].last_reply_unix_ms == 1700000000000);
    CHECK(r.cameras[0].last_retrained_id == "r1");
    CHECK(r.cameras[0].connected);
  }
  SUBCASE("scheduler report") {
    scheduler_report s;
    s.policy = "recl";
    s.clock = "replay";
    s.now = 3;
    s.jobs = {"a", "b"};
    s.recent = {grant_record{1, "a", true, 0.1f, 0.2f, 1, 0.5, "cpu:1"}};
    s.busy_s = 2;
    s.grants = 5;
    s.selector_s = 0.25;
    s.queued = 7;
    s.devices = 2;
    s.device_states = {device_state{"w1", "cuda:0", "up", 1, 2, 3, 4, 5, 6, 7}};
    s.links = {link_traffic{"w1", 10, 11, 12, 2, 1, 9}};
    auto r = round_trip<rpc::SchedulerReport>(s);
    CHECK(r.jobs == s.jobs);
    REQUIRE(r.recent.size() == 1);
    CHECK(r.recent[0].job == "a");
    CHECK(r.recent[0].profile);
    CHECK(r.recent[0].acc_after == 0.2f);
    CHECK(r.grants == 5);
    CHECK(r.selector_s == 0.25);
    CHECK(r.queued == 7);
    CHECK(r.recent[0].device == "cpu:1");
    CHECK(r.devices == 2);
    REQUIRE(r.device_states.size() == 1);
    auto& d = r.device_states[0];
    CHECK(d.node == "w1");
    CHECK(d.device == "cuda:0");
    CHECK(d.link == "up");
    CHECK(d.jobs == 1);
    CHECK(d.in_flight == 2);
    CHECK(d.requests == 3);
    CHECK(d.grants == 4);
    CHECK(d.busy_s == 5);
    CHECK(d.elapsed_s == 6);
    CHECK(d.queued == 7);
    REQUIRE(r.links.size() == 1);
    auto& l = r.links[0];
    CHECK(l.node == "w1");
    CHECK(l.store_requests == 10);
    CHECK(l.bytes_sent == 11);
    CHECK(l.bytes_received == 12);
    CHECK(l.experts_sent == 2);
    CHECK(l.experts_moved == 1);
    CHECK(l.expert_bytes == 9);
  }
  SUBCASE("the zoo's experts") {
    capnp::MallocMessageBuilder msg;
    auto root = msg.initRoot<rpc::Admin::ZooResults>();
    std::vector<expert_info> xs(2);
    xs[0].id = "e1";
    xs[0].origin_camera = "cam-a";
    xs[0].origin_window = 4;
    xs[0].accuracy = 0.5f;
    xs[1].id = "e2";
    xs[1].chosen = 3;
    wire::write(xs, root.initExperts(2));
    auto r = wire::get<std::vector<expert_info>>(root.asReader().getExperts());
    REQUIRE(r.size() == 2);
    CHECK(r[0].origin_camera == "cam-a");
    CHECK(r[0].origin_window == 4);
    CHECK(r[1].chosen == 3);
  }
}
