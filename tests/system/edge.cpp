// The edge for real (issue 15), against the real recld with expert models
// over loopback: it runs the model it is served, takes it as a delta that
// reproduces the served model bit for bit, and keeps going when the server
// is killed.

#include "common/util.hpp"
#include "schema/model_update.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/system/live_daemon.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>
#include <algorithm>
#include <set>
#include <thread>

using namespace recl;
using namespace recl::systest;

TEST_CASE_FIXTURE(one_place,
                  "adaptation: the edge runs the model it is served on its own "
                  "frames and writes what it detects"
                    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 3);
  live_daemon d{tmp.path() + "/data", data};
  auto out = tmp.path() + "/detections.jsonl";
  auto video = tmp.path() + "/annotated.mp4";
  auto a
    = d.edge("cam-a", {place[1], place[2]}, data, 0,
             {"--detections", out, "--infer-fps", "4", "--annotate", video});
  REQUIRE_MESSAGE(a.code == 0, a.err);
  // Nothing ran before the first reply served a model; after it, every
  // frame due at 4 per second did (about 20 of window 1's 5 s), with the
  // model the reply named.
  CHECK(contains(a.out, "[cam-a] window 0: 10 frames"));
  CHECK(contains(a.out, "swap to base (base)"));
  CHECK(contains(a.out, "[cam-a] window 1: edge ran base on 2"));
  std::ifstream in{out};
  std::string line;
  size_t lines = 0, boxes = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    CHECK(j["t"].get<double>() >= 5.0);
    CHECK(j["model"] == "base");
    boxes += j["boxes"].size();
    for (auto& b : j["boxes"])
      CHECK(b[4].get<double>() >= 0.3); // the operating point
    ++lines;
  }
  // 5 s of clip at 4 frames/s, give or take the frame on each edge.
  CHECK(lines >= 19);
  CHECK(lines <= 21);
  CHECK(boxes > 0);
  // The same frames, boxes drawn, as a video at 4 frames/s.
  cv::VideoCapture v{video};
  REQUIRE(v.isOpened());
  CHECK(v.get(cv::CAP_PROP_FPS) == doctest::Approx(4));
  CHECK(v.get(cv::CAP_PROP_FRAME_COUNT) == doctest::Approx(lines).epsilon(0.1));
}

TEST_CASE_FIXTURE(
  one_place, "adaptation: killed with -9 mid-stream, the server comes back, "
             "the edge kept running its model, dropped windows and reconnects"
               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 7);
  auto listen = "127.0.0.1:" + test::free_port();
  auto d = std::make_unique<live_daemon>(
    tmp.path() + "/data", data, std::vector<std::string>{"--listen", listen});
  auto out = tmp.path() + "/detections.jsonl";
  test::process edge{
    bin("recl-edge"),
    d->edge_args("cam-r", {place.begin() + 1, place.begin() + 7}, data,
                 {"--realtime", "--infer-fps", "2", "--detections", out,
                  "--state-dir", tmp.path() + "/edge-state", "--updates",
                  "delta-fp16"})};
  REQUIRE(!edge.wait_for_line("[cam-r] window 0: 10 frames", 60).empty());
  d->proc->signal(SIGKILL);
  d->proc->wait(30);
  REQUIRE(!edge.wait_for_line("dropped (1 so far)", 60).empty());
  d = std::make_unique<live_daemon>(
    tmp.path() + "/data", data, std::vector<std::string>{"--listen", listen});
  CHECK(!edge.wait_for_line("[cam-r] reconnected to", 60).empty());
  CHECK(edge.wait(120) == 0);
  auto text = edge.out();
  MESSAGE(text);
  CHECK(contains(text, "windows dropped while the server was away"));
  CHECK(contains(text, "[cam-r] done: "));
  // The model served before the kill ran on every frame due after it,
  // through the outage and on. When in window 1 it arrived depends on how
  // fast the loaded machine answered window 0, so count from window 2.
  std::ifstream in{out};
  std::string line;
  double last = 0;
  size_t from_window_2 = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    last = j["t"].get<double>();
    from_window_2 += last >= 10.0;
  }
  CHECK(from_window_2 >= 39); // 20 s at 2 frames/s, give or take the edges
  CHECK(last > 29);
  // Restarted, the edge resumes with the model it had: it runs it before
  // the server has said anything (and without state it runs nothing until
  // a reply serves one). Which model that is, base or one retrained after
  // the outage, is the safety checker's call on the window's frames.
  auto held = trim(read_file(tmp.path() + "/edge-state/model.id"));
  REQUIRE(!held.empty());
  auto again
    = d->edge("cam-r", {place[7]}, data, 1,
              {"--state-dir", tmp.path() + "/edge-state", "--infer-fps", "2"});
  REQUIRE_MESSAGE(again.code == 0, again.err);
  CHECK(contains(again.out, "[cam-r] resuming with " + held));
  CHECK(contains(again.out, "[cam-r] window 0: edge ran " + held));
}

TEST_CASE_FIXTURE(
  one_place, "edge: a served model comes as a delta against the edge's own and "
             "reproduces the server's copy bit for bit"
               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 5);
  auto state = tmp.path() + "/edge-state";
  auto out = tmp.path() + "/detections.jsonl";
  {
    live_daemon d{tmp.path() + "/data", data};
    auto a
      = d.edge("cam-d", {place[1], place[2], place[3], place[4]}, data, 0,
               {"--state-dir", state, "--detections", out, "--infer-fps", "2"});
    REQUIRE_MESSAGE(a.code == 0, a.err);
    MESSAGE(a.out);
    // The first model comes whole (the edge held none), a retrained one
    // as the tensors retraining changed.
    CHECK(contains(a.out, "[cam-d] window 0: full update to base"));
    CHECK(contains(a.out, "delta update to r-cam-d-"));
    CHECK_FALSE(contains(a.err, "cannot load"));
    d.proc->signal(SIGTERM);
    CHECK(d.proc->wait(60) == 0);
  }
  // The swapped-in model really runs: the edge's detections name the base
  // first, then the retrained model.
  std::ifstream in{out};
  std::string line;
  std::set<std::string> models;
  while (std::getline(in, line))
    models.insert(nlohmann::json::parse(line)["model"].get<std::string>());
  CHECK(models.count("base") == 1);
  CHECK(std::count_if(models.begin(), models.end(),
                      [](auto& m) { return m.rfind("r-cam-d-", 0) == 0; })
        >= 1);
  auto id = trim(read_file(state + "/model.id"));
  REQUIRE(id.rfind("r-cam-d-", 0) == 0);
  auto db = store::open(tmp.path() + "/data");
  auto bytes = db->get(family::experts, keys::weights(id));
  if (!bytes)
    bytes = db->get(family::experts, keys::model(id));
  REQUIRE(bytes);
  auto held = expert::load(state + "/model.pt");
  CHECK(content_hash(*held) == content_hash(*expert::from_bytes(*bytes)));
  CHECK(held->to_bytes() == expert::from_bytes(*bytes)->to_bytes());
}

TEST_CASE_FIXTURE(
  one_place, "edge: on the clock the model keeps running while the server is "
             "stalled, and the windows go on once it answers again"
               * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 5);
  live_daemon d{tmp.path() + "/data", data};
  auto out = tmp.path() + "/detections.jsonl";
  test::process edge{
    bin("recl-edge"),
    d.edge_args("cam-s", {place.begin() + 1, place.begin() + 5}, data,
                {"--realtime", "--infer-fps", "2", "--detections", out})};
  REQUIRE(!edge.wait_for_line("swap to base", 60).empty());
  auto lines = [&] {
    auto text = read_file(out);
    return std::count(text.begin(), text.end(), '\n');
  };
  // recld stops answering (SIGSTOP: connections open, nothing comes back).
  d.proc->signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto before = lines();
  std::this_thread::sleep_for(std::chrono::seconds(8));
  auto during = lines() - before;
  d.proc->signal(SIGCONT);
  // 8 s at 2 frames/s, written a window (5 s) at a time: the edge's model
  // went on running while its window waited for the server.
  CHECK(during >= 8);
  CHECK(edge.wait(120) == 0);
  auto text = edge.out();
  MESSAGE(text);
  CHECK(contains(text, "[cam-s] done: "));
}
