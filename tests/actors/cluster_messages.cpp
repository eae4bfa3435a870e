// What crosses a cluster link (actors/cluster.cpp) serializes and comes
// back whole: the GPU owner's requests and replies, as CAF's middleman
// writes them. And what the coordinator counts of each link.

#include "actors/actors.hpp"
#include "actors/cluster_protocol.hpp"
#include "actors/credentials.hpp"
#include "actors/held.hpp"
#include "actors/traffic.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <doctest/doctest.h>

using namespace recl;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// `msg` through a serializer and back.
  caf::message round_trip(const caf::message& msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{*sys, buf};
    auto copy = msg;
    auto e1 = sink(copy);
    REQUIRE_MESSAGE(!e1, sys->render(e1));
    caf::message out;
    caf::binary_deserializer source{*sys, buf};
    auto e2 = source(out);
    REQUIRE_MESSAGE(!e2, sys->render(e2));
    return out;
  }
};

labelled_window sample_window() {
  labelled_window lw;
  lw.source.camera = "cam-1";
  lw.source.index = 3;
  lw.source.frames.push_back(frame{{0xff, 0xd8, 0x01}, 500});
  lw.source.updates = update_form::delta_half;
  lw.labels.push_back(frame_labels{640, 480, {box{1, 2, 3, 4, 0.5f, 2}}});
  lw.teacher_ms = 12.5;
  return lw;
}

} // namespace

TEST_CASE_FIXTURE(fixture, "cluster: a check and a training request, and "
                           "their replies, cross a node link whole") {
  auto check = round_trip(caf::make_message(
    check_atom_v, sample_window(), uint32_t{4},
    std::vector<std::string>{"base"}, std::vector<std::string>{"e-1"}));
  REQUIRE(check.match_element<labelled_window>(1));
  auto lw = check.get_as<labelled_window>(1);
  CHECK(lw.source.camera == "cam-1");
  CHECK(lw.source.frames[0].bytes == std::vector<uint8_t>{0xff, 0xd8, 0x01});
  CHECK(lw.source.updates == update_form::delta_half);
  CHECK(lw.labels[0].boxes[0].cls == 2);
  CHECK(lw.teacher_ms == 12.5);

  check_result c;
  c.ids = {"e-1", "base"};
  c.all = {0.5f, 0.25f};
  c.compare.oracle = 0.75f;
  auto back = round_trip(caf::make_message(c)).get_as<check_result>(0);
  CHECK(back.ids == c.ids);
  CHECK(back.compare.oracle == 0.75f);

  auto with_history = sample_window();
  with_history.history = 1; // --train-windows: the first frame is older
  auto train = round_trip(caf::make_message(train_atom_v, with_history,
                                            std::string{"base"},
                                            std::vector<std::string>{"e-1"}));
  CHECK(train.get_as<labelled_window>(1).history == 1);
  CHECK(train.get_as<std::string>(2) == "base");
  training_result r;
  r.camera = "cam-1";
  r.rival_accuracy = {0.5f};
  r.steps = {streamed_step{0.25f, 0.5f, "r-cam-1-0", std::string("\0ab", 3)}};
  auto rb = round_trip(caf::make_message(r)).get_as<training_result>(0);
  CHECK(rb.camera == "cam-1");
  REQUIRE(rb.steps.size() == 1); // --stream-models: a job's steps
  CHECK(rb.steps[0].at == 0.25f);
  CHECK(rb.steps[0].weights == std::string("\0ab", 3));
}

TEST_CASE_FIXTURE(fixture, "cluster: a GPU owner's report with its devices "
                           "and links crosses a node link whole") {
  scheduler_report s;
  s.grants = 3;
  s.device_states = {device_state{"w1", "cpu:0", "up", 1, 0, 4, 3, 2, 9, 0}};
  s.links = {link_traffic{"w1", 5, 100, 7, 2, 1, 80}};
  auto r = round_trip(caf::make_message(s)).get_as<scheduler_report>(0);
  CHECK(r.grants == 3);
  REQUIRE(r.device_states.size() == 1);
  CHECK(r.device_states[0].link == "up");
  CHECK(r.device_states[0].requests == 4);
  REQUIRE(r.links.size() == 1);
  CHECK(r.links[0].bytes_sent == 100);
}

TEST_CASE_FIXTURE(fixture, "cluster: the learning settings a coordinator "
                           "hands a worker cross a node link whole") {
  gpu_owner_config g;
  g.expert.input_width = 320;
  g.expert.classes = {2, 7};
  g.train.optimizer = "sgd";
  g.train.lr = 0.003;
  g.train.frozen_stages = 3;
  g.scheduler = "round-robin";
  g.gain_tolerance = 0.05;
  g.gains_on = gain_frames::holdout;
  g.clock = clock_kind::replay;
  g.budget = 4;
  g.generalist = false;
  g.gating_epochs = 3;
  g.selector = selector_kind::oracle;
  g.stream = true;
  auto r = round_trip(caf::make_message(g)).get_as<gpu_owner_config>(0);
  CHECK(r.expert.input_width == 320);
  CHECK(r.expert.classes == std::vector<int>{2, 7});
  CHECK(r.train.optimizer == "sgd");
  CHECK(r.train.lr == 0.003);
  CHECK(r.train.frozen_stages == 3);
  CHECK(r.scheduler == "round-robin");
  CHECK(r.gain_tolerance == 0.05);
  CHECK(r.gains_on == gain_frames::holdout);
  CHECK(r.clock == clock_kind::replay);
  CHECK(r.budget == 4);
  CHECK_FALSE(r.generalist);
  CHECK(r.gating_epochs == 3);
  CHECK(r.selector == selector_kind::oracle);
  CHECK(r.stream);

  labelled_window lw;
  lw.link_ms = 4.5;
  lw.queue_ms = 2;
  auto back = round_trip(caf::make_message(lw)).get_as<labelled_window>(0);
  CHECK(back.link_ms == 4.5);
  CHECK(back.queue_ms == 2);
}

TEST_CASE("cluster: each node's store traffic is counted, and a model sent "
          "twice moved once") {
  cluster_traffic t;
  t.count("w1", 0, 1000, "weights/e-1");
  t.count("w1", 0, 1000, "weights/e-1");
  t.count("w1", 0, 500, "model/r-cam-1");
  t.count("w1", 300, 0);
  t.count("w2", 0, 40);
  auto s = t.snapshot();
  REQUIRE(s.size() == 2);
  CHECK(s[0].node == "w1");
  CHECK(s[0].store_requests == 4);
  CHECK(s[0].bytes_sent == 2500);
  CHECK(s[0].bytes_received == 300);
  CHECK(s[0].experts_sent == 3);
  CHECK(s[0].experts_moved == 2);
  CHECK(s[0].expert_bytes == 2500);
  CHECK(s[1].node == "w2");
  CHECK(s[1].store_requests == 1);
  CHECK(s[1].experts_sent == 0);
  CHECK(s[1].experts_moved == 0);
}

TEST_CASE("cluster: a worker keeps the models it read, least recently used "
          "out first, up to its bytes") {
  CHECK(is_model_weights(family::experts, "weights/e-1"));
  CHECK(is_model_weights(family::experts, "model/r-cam-1-0"));
  CHECK_FALSE(is_model_weights(family::experts, "info/e-1"));
  CHECK_FALSE(is_model_weights(family::experts, "queue/e-1"));
  CHECK_FALSE(is_model_weights(family::gating, "weights/e-1"));
  model_cache c{10};
  c.put("weights/a", "aaaa");
  c.put("weights/b", "bbbb");
  CHECK(c.get("weights/a") == "aaaa"); // a is now the most recent
  c.put("weights/c", "cccc");          // 12 bytes: b goes
  CHECK_FALSE(c.get("weights/b"));
  CHECK(c.get("weights/a") == "aaaa");
  CHECK(c.get("weights/c") == "cccc");
  CHECK(c.bytes() == 8);
  c.put("weights/d", std::string(11, 'd')); // larger than all: not kept
  CHECK_FALSE(c.get("weights/d"));
  CHECK(c.bytes() == 8);
}

TEST_CASE("cluster: requests held for an actor that goes down fail once "
          "each, and a settled one not at all") {
  held_requests held;
  std::vector<std::string> failed;
  int answers = 0;
  auto answer = once([&](auto&&) { ++answers; });
  auto a = held.hold([&](caf::error) { failed.push_back("a"); });
  held.hold([&](caf::error) { failed.push_back("b"); });
  held.hold([answer](caf::error e) mutable { answer(e); });
  held.settle(a);
  answer(1); // the reply came first; its failure below changes nothing
  CHECK(held.fail_all(caf::make_error(ec::model, "gone")) == 2);
  CHECK(failed == std::vector<std::string>{"b"});
  CHECK(answers == 1);
  CHECK(held.fail_all(caf::make_error(ec::model, "gone")) == 0);
}

TEST_CASE_FIXTURE(fixture, "cluster: what crosses a node link has the shape "
                           "its protocol version names") {
  auto shape = cluster_shape(*sys);
  CHECK(shape == cluster_shape(*sys));
  CHECK(shape.find("recl::node_welcome:") != std::string::npos);
  CHECK(shape.find("door:") != std::string::npos);
  CHECK(shape.find("unserializable") == std::string::npos);
  // A node of another build would fail to decode what this one sends, and
  // say nothing: the version a worker says at hello must change with it.
  auto hash = sha256_hex(shape);
  CHECK_MESSAGE(hash == std::string{cluster_shape_hash},
                "what crosses a node link changed shape: raise "
                "cluster_protocol (now "
                  << cluster_protocol << ") and set cluster_shape_hash to "
                  << hash << " (actors/cluster_protocol.hpp)");
  CHECK(protocol_refusal(cluster_protocol).empty());
  CHECK(protocol_refusal(0).find("protocol 0, this coordinator")
        != std::string::npos);
}
