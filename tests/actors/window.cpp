// One window's journey through the camera actor (actors/window.cpp) without
// a teacher or models: the labeler, selector, GPU owner, zoo and admin are
// scripted stand-ins, the store is real. What the camera decides and asks
// of each, step by step, is checked against the scores it is given.

#include "actors/actors.hpp"
#include "actors/records.hpp"
#include "common/util.hpp"
#include "store/store.hpp"
#include "tests/system/process.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>

using namespace recl;

namespace {

/// What the stand-ins answer, and what they were asked.
struct script {
  // Answers.
  bool label_fails = false;
  bool check_fails = false;
  bool fetch_fails = false;
  check_result scores;
  // Requests seen.
  std::mutex mtx;
  std::vector<uint32_t> check_k;
  std::vector<std::vector<std::string>> own;
  std::vector<std::string> fetched, selected, train_start;
  std::vector<std::vector<std::string>> train_rivals;
  std::vector<std::vector<uint64_t>> train_ts; ///< each request's frames
  std::vector<uint32_t> train_history;
  std::vector<camera_info> camstats;
};
using script_ptr = std::shared_ptr<script>;

caf::behavior labeler(caf::event_based_actor*, script_ptr s) {
  return {[=](label_atom, window& w) -> caf::result<labelled_window> {
    if (s->label_fails)
      return caf::make_error(ec::bad_frame, "frame 0: scripted");
    labelled_window lw;
    lw.labels.assign(w.frames.size(), frame_labels{640, 480, {}});
    lw.source = std::move(w);
    return lw;
  }};
}

caf::behavior selector(caf::event_based_actor*, script_ptr s) {
  return {[=](check_atom, labelled_window&, uint32_t k,
              std::vector<std::string>& own) -> caf::result<check_result> {
    std::lock_guard<std::mutex> guard{s->mtx};
    s->check_k.push_back(k);
    s->own.push_back(own);
    if (s->check_fails)
      return caf::make_error(ec::model, "scripted");
    return s->scores;
  }};
}

caf::behavior gpu_owner(caf::event_based_actor*, script_ptr s) {
  return {
    [=](await_atom, const std::string&) { return true; },
    [=](fetch_atom, const std::string& id) -> caf::result<std::string> {
      std::lock_guard<std::mutex> guard{s->mtx};
      s->fetched.push_back(id);
      if (s->fetch_fails)
        return caf::make_error(ec::storage, "scripted");
      return "weights of " + id;
    },
    // Records the request; the job "fails", so nothing is admitted.
    [=](train_atom, labelled_window& lw, std::string& start,
        std::vector<std::string>& rivals) -> caf::result<training_result> {
      std::lock_guard<std::mutex> guard{s->mtx};
      s->train_start.push_back(start);
      s->train_rivals.push_back(rivals);
      s->train_ts.emplace_back();
      for (auto& f : lw.source.frames)
        s->train_ts.back().push_back(f.ts_ms);
      s->train_history.push_back(lw.history);
      return caf::make_error(ec::model, "not trained in this test");
    },
  };
}

caf::behavior zoo(caf::event_based_actor*, script_ptr s) {
  return {
    [=](selected_atom, std::string& id) {
      std::lock_guard<std::mutex> guard{s->mtx};
      s->selected.push_back(id);
    },
  };
}

caf::behavior admin(caf::event_based_actor*, script_ptr s) {
  return {[=](camstats_atom, camera_info& c) {
    std::lock_guard<std::mutex> guard{s->mtx};
    s->camstats.push_back(c);
  }};
}

struct fixture {
  // In this order, so that the actors (which hold the store) are gone
  // before the store closes, and the store before its directory.
  test::temp_dir dir;
  std::shared_ptr<store> db = store::open(dir.path() + "/data");
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  script_ptr s = std::make_shared<script>();
  camera_actor cam;
  camera_deps d;

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    d.labeler = caf::actor_cast<labeler_actor>(sys->spawn(labeler, s));
    d.selector = caf::actor_cast<selector_actor>(sys->spawn(selector, s));
    d.gpu_owner = caf::actor_cast<gpu_owner_actor>(sys->spawn(gpu_owner, s));
    d.zoo = caf::actor_cast<zoo_actor>(sys->spawn(zoo, s));
    d.admin = caf::actor_cast<admin_actor>(sys->spawn(admin, s));
    d.db = db;
    d.zoo_size = std::make_shared<std::atomic<uint64_t>>(3);
    d.generalist = false;
    d.top_k = 4;
    cam = spawn_camera(*sys, "cam-1", d);
  }

  /// The camera again, with `d` as the test changed it.
  void respawn() {
    caf::anon_send_exit(cam, caf::exit_reason::user_shutdown);
    cam = spawn_camera(*sys, "cam-1", d);
  }

  ~fixture() { caf::anon_send_exit(cam, caf::exit_reason::user_shutdown); }

  /// The scores the check answers, for (ids, even, odd); all = their mean.
  void score(std::vector<std::string> ids, std::vector<float> even,
             std::vector<float> odd) {
    auto& c = s->scores;
    c.ids = std::move(ids);
    c.even = std::move(even);
    c.odd = std::move(odd);
    c.all.clear();
    for (size_t i = 0; i < c.even.size(); ++i)
      c.all.push_back((c.even[i] + c.odd[i]) / 2);
  }

  /// Sends window `index` (4 frames; the edge runs `model`) and returns the
  /// decision, or the error's text.
  std::pair<decision, std::string> send(uint32_t index,
                                        const std::string& model) {
    window w;
    w.camera = "cam-1";
    w.index = index;
    w.model_id = model;
    w.sample_fps = 1;
    w.arrived_ms = now_ms();
    for (uint64_t i = 0; i < 4; ++i)
      w.frames.push_back(frame{{0xff, 0xd8}, index * 1000 + i});
    caf::scoped_actor self{*sys};
    std::pair<decision, std::string> out;
    self->request(cam, caf::infinite, update_atom_v, w)
      .receive([&](decision& d) { out.first = std::move(d); },
               [&](caf::error& e) { out.second = describe(e); });
    return out;
  }

  /// Waits until `pred()` holds (the steps after the reply), at most 10 s.
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard<std::mutex> guard{s->mtx};
        if (pred(*s))
          return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  camera_info record() {
    auto rec = db->get(family::cameras, "cam-1");
    REQUIRE(rec);
    return decode_camera_info("cam-1", *rec);
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "window: a zoo expert that wins on the even frames "
                           "and is confirmed on the odd ones is served, "
                           "recorded, and trained from") {
  score({"e-zoo", "base"}, {0.8f, 0.5f}, {0.7f, 0.5f});
  auto [d, err] = send(0, "base");
  REQUIRE(err.empty());
  CHECK(d.swap);
  CHECK(d.model_id == "e-zoo");
  CHECK(d.source == "zoo");
  CHECK(d.accuracy == doctest::Approx(0.75));
  CHECK(d.current_accuracy == doctest::Approx(0.5));
  CHECK(std::string(d.weights.begin(), d.weights.end()) == "weights of e-zoo");
  CHECK(d.labels.size() == 4);
  CHECK(d.candidates == 2);
  CHECK(d.zoo_size == 3);
  // The check got K and the camera's own candidates: the edge's model.
  CHECK(s->check_k == std::vector<uint32_t>{4});
  CHECK(s->own == std::vector<std::vector<std::string>>{{"base"}});
  // After the reply: the zoo hears what was served, the GPU owner gets the
  // training request from the served model with the other candidates.
  REQUIRE(eventually(
    [](script& x) { return !x.train_start.empty() && !x.selected.empty(); }));
  CHECK(s->selected == std::vector<std::string>{"e-zoo"});
  CHECK(s->train_start == std::vector<std::string>{"e-zoo"});
  CHECK(s->train_rivals[0] == std::vector<std::string>{"e-zoo", "base"});
  auto r = record();
  CHECK(r.windows == 1);
  CHECK(r.frames_labelled == 4);
  CHECK(r.model_id == "e-zoo");
  REQUIRE(eventually([](script& x) { return !x.camstats.empty(); }));
  CHECK(s->camstats[0].windows == 1);
}

TEST_CASE_FIXTURE(fixture, "window: a candidate that wins only on the even "
                           "frames is not served") {
  score({"e-zoo", "base"}, {0.8f, 0.5f}, {0.4f, 0.5f});
  auto [d, err] = send(0, "base");
  REQUIRE(err.empty());
  CHECK_FALSE(d.swap);
  CHECK(d.model_id == "base");
  CHECK(d.weights.empty());
  CHECK(s->fetched.empty());
  REQUIRE(eventually(
    [](script& x) { return !x.train_start.empty() && !x.selected.empty(); }));
  CHECK(s->selected == std::vector<std::string>{"base"});
  CHECK(s->train_start == std::vector<std::string>{"base"});
}

TEST_CASE_FIXTURE(fixture, "window: every failure from the check on ends in "
                           "the edge keeping its model, before it in an "
                           "error") {
  SUBCASE("the check fails: keep, nothing selected or trained") {
    s->check_fails = true;
    auto [d, err] = send(0, "base");
    REQUIRE(err.empty());
    CHECK_FALSE(d.swap);
    CHECK(d.model_id == "base");
    CHECK(d.labels.size() == 4);
    CHECK(record().windows == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard<std::mutex> guard{s->mtx};
    CHECK(s->selected.empty());
    CHECK(s->train_start.empty());
  }
  SUBCASE("the weights cannot be fetched: keep, and train from the kept "
          "model") {
    s->fetch_fails = true;
    score({"e-zoo", "base"}, {0.8f, 0.5f}, {0.7f, 0.5f});
    auto [d, err] = send(0, "base");
    REQUIRE(err.empty());
    CHECK_FALSE(d.swap);
    CHECK(d.model_id == "base");
    CHECK(d.source == "kept");
    CHECK(d.weights.empty());
    CHECK(s->fetched == std::vector<std::string>{"e-zoo"});
    REQUIRE(eventually([](script& x) { return !x.train_start.empty(); }));
    CHECK(s->train_start == std::vector<std::string>{"base"});
  }
  SUBCASE("the labeler refuses a frame: the edge gets the error, nothing is "
          "recorded") {
    s->label_fails = true;
    auto [d, err] = send(0, "base");
    CHECK(err == "bad_frame: frame 0: scripted");
    CHECK_FALSE(db->get(family::cameras, "cam-1"));
    CHECK(s->check_k.empty());
  }
}

TEST_CASE_FIXTURE(fixture, "window: with --train-windows 3 a job trains on "
                           "the camera's last three windows, the newest "
                           "last and named as its own") {
  d.train_windows = 3;
  respawn();
  score({"base"}, {0.5f}, {0.5f});
  for (uint32_t w = 0; w < 4; ++w) {
    REQUIRE(send(w, "base").second.empty());
    REQUIRE(eventually([w](script& x) { return x.train_ts.size() == w + 1; }));
  }
  using ts = std::vector<uint64_t>;
  CHECK(s->train_ts[0] == ts{0, 1, 2, 3});
  CHECK(s->train_ts[1] == ts{0, 1, 2, 3, 1000, 1001, 1002, 1003});
  CHECK(s->train_ts[3]
        == ts{1000, 1001, 1002, 1003, 2000, 2001, 2002, 2003, 3000, 3001, 3002,
              3003});
  // The frames before the window's own only train (split_window).
  CHECK(s->train_history == std::vector<uint32_t>{0, 4, 8, 8});
}
