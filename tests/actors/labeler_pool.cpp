// The labeler pool (actors/labeler_pool.cpp) and the labeler a worker
// offers (spawn_offered_labeler), without a teacher: the labelers behind
// them are scripted stand-ins that record what they were sent.

#include "actors/actors.hpp"
#include "common/util.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <mutex>
#include <thread>

using namespace recl;

namespace {

/// What a stand-in labeler was sent, and whether it answers.
struct script {
  std::mutex mtx;
  std::vector<std::string> seen; ///< "NAME:INDEX" per window, in order
  std::vector<window> windows;   ///< as they reached it
  bool answers = true;           ///< false: holds every window
};
using script_ptr = std::shared_ptr<script>;

/// A labeler that labels each frame with one box in 10 ms of "teacher".
labeler_actor::behavior_type stand_in(labeler_actor::pointer self,
                                      std::string name, script_ptr s) {
  return {
    [=](label_atom, window& w) -> caf::result<labelled_window> {
      {
        std::lock_guard<std::mutex> guard{s->mtx};
        s->seen.push_back(name + ":" + std::to_string(w.index));
        s->windows.push_back(w);
        if (!s->answers)
          return self->make_response_promise<labelled_window>(); // held
      }
      labelled_window lw;
      lw.queue_ms = now_ms() - w.arrived_ms;
      lw.teacher_ms = 10;
      for (size_t i = 0; i < w.frames.size(); ++i)
        lw.labels.push_back(frame_labels{640, 360, {box{1, 2, 3, 4, 0.9f, 2}}});
      lw.source = std::move(w);
      return lw;
    },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  script_ptr s = std::make_shared<script>();

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  labeler_actor labeler(const std::string& name) {
    return sys->spawn(stand_in, name, s);
  }

  /// Offers `l` to `pool` as worker node `node`'s labeler, and waits until
  /// the pool lists it.
  void join(const labeler_pool_actor& pool, const std::string& node,
            const labeler_actor& l) {
    caf::scoped_actor self{*sys};
    size_t before = 0;
    self->request(pool, caf::infinite, scheduler_atom_v)
      .receive([&](std::vector<device_state>& ds) { before = ds.size(); },
               [](caf::error&) {});
    self->send(pool, join_atom_v, label_atom_v, node,
               caf::actor_cast<caf::actor>(l));
    size_t after = 0;
    self->request(pool, caf::infinite, scheduler_atom_v)
      .receive([&](std::vector<device_state>& ds) { after = ds.size(); },
               [](caf::error&) {});
    REQUIRE(after == before + 1); // one sender: the join came first
  }

  /// Window `index` of cam-1 with three frames, arrived `ago_ms` ago.
  static window make_window(uint32_t index, double ago_ms = 0) {
    window w;
    w.camera = "cam-1";
    w.index = index;
    w.arrived_ms = now_ms() - ago_ms;
    for (uint8_t i = 0; i < 3; ++i)
      w.frames.push_back(frame{{0xff, 0xd8, i}, i * 500u});
    return w;
  }

  /// Asks `l` to label `w`: the labels, or the error's text.
  template <class Handle>
  std::pair<labelled_window, std::string> label(const Handle& l, window w) {
    caf::scoped_actor self{*sys};
    std::pair<labelled_window, std::string> out;
    self->request(l, std::chrono::seconds(10), label_atom_v, std::move(w))
      .receive([&](labelled_window& lw) { out.first = std::move(lw); },
               [&](caf::error& e) { out.second = describe(e); });
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "labeler pool: a worker's labeler answers with "
                           "the labels alone, the pool gives the window back "
                           "its frames and splits the time into waits and "
                           "the link's") {
  auto offered = spawn_offered_labeler(*sys, labeler("w1"));
  // Straight from the worker's labeler: labels, no frames.
  auto direct = label(offered, make_window(0));
  REQUIRE(direct.second.empty());
  CHECK(direct.first.labels.size() == 3);
  CHECK(direct.first.source.frames.empty());
  CHECK(direct.first.source.camera == "cam-1");

  auto pool = spawn_labeler_pool(*sys, {});
  join(pool, "w1", offered);
  auto sent = make_window(1, 50); // it waited 50 ms before the pool
  auto r = label(pool, sent);
  REQUIRE_MESSAGE(r.second.empty(), r.second);
  auto& lw = r.first;
  CHECK(lw.labeler == "w1/labeler:0");
  CHECK(lw.labels.size() == 3);
  // The coordinator's window, as it was: frames and arrival.
  REQUIRE(lw.source.frames.size() == 3);
  CHECK(lw.source.frames[2].bytes == sent.frames[2].bytes);
  CHECK(lw.source.arrived_ms == sent.arrived_ms);
  // The worker counted its wait on its own clock, from when it got the
  // window, not from the coordinator's arrival time.
  {
    std::lock_guard<std::mutex> guard{s->mtx};
    REQUIRE(s->windows.size() == 2);
    CHECK(s->windows[1].arrived_ms >= sent.arrived_ms + 50);
  }
  CHECK(lw.queue_ms >= 50);
  CHECK(lw.queue_ms < 5000);
  CHECK(lw.teacher_ms == 10);
  CHECK(lw.link_ms >= 0);
  CHECK(lw.link_ms < 5000);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(offered, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "labeler pool: ties go to a worker's labeler, "
                           "then to the one sent the fewest windows, and with "
                           "none a window fails with 'no labeler'") {
  auto empty = spawn_labeler_pool(*sys, {});
  auto none = label(empty, make_window(0));
  CHECK(none.second.find("no labeler") != std::string::npos);

  auto local = labeler("local");
  auto w1 = spawn_offered_labeler(*sys, labeler("w1"));
  auto w2 = spawn_offered_labeler(*sys, labeler("w2"));
  auto pool = spawn_labeler_pool(*sys, {local});
  join(pool, "w1", w1);
  join(pool, "w2", w2);
  for (uint32_t i = 1; i <= 4; ++i)
    REQUIRE(label(pool, make_window(i)).second.empty());
  {
    std::lock_guard<std::mutex> guard{s->mtx};
    CHECK(s->seen == std::vector<std::string>{"w1:1", "w2:2", "w1:3", "w2:4"});
  }
  for (auto a :
       {caf::actor_cast<caf::actor>(empty), caf::actor_cast<caf::actor>(pool),
        caf::actor_cast<caf::actor>(local), caf::actor_cast<caf::actor>(w1),
        caf::actor_cast<caf::actor>(w2)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "labeler pool: a worker's labeler that goes down "
                           "fails the windows it held at once, and the next "
                           "window goes elsewhere") {
  s->answers = false;
  auto held = spawn_offered_labeler(*sys, labeler("w1"));
  auto pool = spawn_labeler_pool(*sys, {});
  join(pool, "w1", held);
  auto t0 = now_ms();
  std::pair<labelled_window, std::string> r;
  std::thread asking{[&] { r = label(pool, make_window(0)); }};
  // Once it holds the window, its node goes.
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> guard{s->mtx};
      if (!s->seen.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  caf::anon_send_exit(held, caf::exit_reason::kill);
  asking.join();
  CHECK_MESSAGE(r.second.find("the labeler on w1/labeler:0 went down")
                  != std::string::npos,
                r.second);
  CHECK(now_ms() - t0 < 9000); // not the request's own 10 s timeout

  {
    std::lock_guard<std::mutex> guard{s->mtx};
    s->answers = true;
  }
  auto w2 = spawn_offered_labeler(*sys, labeler("w2"));
  join(pool, "w2", w2);
  auto next = label(pool, make_window(1));
  CHECK(next.second.empty());
  CHECK(next.first.labeler == "w2/labeler:0");
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(w2, caf::exit_reason::user_shutdown);
}
