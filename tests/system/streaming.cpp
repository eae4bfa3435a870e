// recld --stream-models end to end: the real recld with the pretrained
// expert, a real client on real video over loopback RPC, the real store.
// Replay clock, so that what is trained does not depend on this machine's
// speed.

#include "edge/client.hpp"
#include "edge/frame_source.hpp"
#include "gpu/expert.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/system/live_daemon.hpp"
#include "tests/system/process.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <thread>

using namespace recl;
using namespace recl::systest;

namespace {

/// `n` JPEG frames of catalog clip `clip`, 2 a second (every 15th frame).
std::vector<frame> window_of(const std::string& clip, const std::string& data,
                             size_t n) {
  auto src = frame_source::open("catalog:" + clip, data);
  std::vector<frame> out;
  cv::Mat img;
  double t;
  for (size_t i = 0; out.size() < n && src->next(img, t); ++i)
    if (i % 15 == 0) {
      std::vector<uint8_t> jpeg;
      cv::imencode(".jpg", img, jpeg);
      out.push_back(frame{std::move(jpeg), static_cast<uint64_t>(t * 1000)});
    }
  return out;
}

} // namespace

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: with --stream-models a job's steps reach the edge in time "
  "order, each better on the held-out frames, the last one the job's model, "
  "and a camera whose edge never asked keeps none"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 2);
  live_daemon d{
    tmp.path() + "/data", data, {"--stream-models", "on", "--budget", "6"}};
  client edge{d.address};
  edge.register_camera("cam-s", d.token);
  auto r = edge.update(0, window_of(place[1], data, 16), 2);
  // Steps come once the job has ended (the replay clock waits for it).
  auto steps = edge.streamed(0);
  REQUIRE(!steps.empty());
  CHECK(steps.size() <= 6); // at most one per micro-window
  float at = 0, acc = -1;
  for (auto& s : steps) {
    CHECK(s.at > at);
    CHECK(s.at <= 1);
    CHECK(s.accuracy > acc);
    CHECK(s.model_id == "r-cam-s-0");
    CHECK_NOTHROW(expert::from_bytes(s.weights));
    at = s.at;
    acc = s.accuracy;
  }
  // A window that started no job has none, at once.
  CHECK(edge.streamed(7).empty());
  // A camera whose edge has not asked for steps keeps none once its job
  // ends (each is a model): asked afterwards, there are none. (Its job is
  // cam-s's again: same frames, from the base, since the zoo is empty while
  // cam-s's model waits for its next window to be judged.)
  client quiet{d.address};
  quiet.register_camera("cam-q", d.token);
  quiet.update(0, window_of(place[1], data, 16), 2);
  REQUIRE(d.await_idle(60));
  CHECK(quiet.streamed(0).empty());
  quiet.close_session();
  edge.close_session();
  d.proc->signal(SIGTERM);
  REQUIRE(d.proc->wait(60) == 0);
  // "job cam-s/0 ended: ... held-out accuracy X, N streamed"
  auto streamed_by = [log = d.proc->err()](const std::string& job) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(log, m,
                                      std::regex{"job " + job
                                                 + " ended: .*, ([0-9]+) "
                                                   "streamed"}),
                    log);
    return std::stoul(m[1]);
  };
  CHECK(streamed_by("cam-s/0") == steps.size());
  CHECK(streamed_by("cam-q/0") > 0); // made, but not kept
  // What the job keeps is the last step, byte for byte: the edge that ran
  // it runs the model the server knows by that id.
  auto db = store::open(d.dir);
  auto kept = db->get(family::experts, keys::model("r-cam-s-0"));
  REQUIRE(kept);
  CHECK(*kept == steps.back().weights);
  (void)r;
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: with --stream-models and the wall clock, an edge that polls "
  "gets a job's first steps while the job still runs"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 2);
  // Jobs train for 20 s after the reply; a micro-window takes about a second.
  live_daemon d{
    tmp.path() + "/data",
    data,
    {"--stream-models", "on", "--clock", "wall", "--window-seconds", "20"}};
  client edge{d.address};
  edge.register_camera("cam-w", d.token);
  edge.update(0, window_of(place[1], data, 16), 2);
  auto t0 = now_ms();
  std::vector<streamed_step> early;
  while (early.empty() && now_ms() - t0 < 15000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    early = edge.streamed(0, false);
  }
  REQUIRE_MESSAGE(!early.empty(), "no step in 15 s");
  auto polled_ms = now_ms() - t0;
  CHECK(!d.admin("scheduler")["jobs"].empty()); // the job goes on
  CHECK(early.front().at < 1);
  CHECK(early.front().model_id == "r-cam-w-0");
  // Waiting gives them all once the job ends: the early ones first.
  auto all = edge.streamed(0, true);
  CHECK(now_ms() - t0 > polled_ms);
  REQUIRE(all.size() >= early.size());
  for (size_t i = 0; i < early.size(); ++i) {
    CHECK(all[i].at == early[i].at);
    CHECK(all[i].weights == early[i].weights);
  }
}

TEST_CASE_FIXTURE(
  one_place,
  "adaptation: recl-edge --poll-steps runs the models a job streams as they "
  "come, before the next window's reply"
    * doctest::skip(test::data_dir().empty())) {
  REQUIRE(place.size() >= 9);
  // Wall clock: window 0's job trains while the edge plays window 1 (20 s
  // of video at stream speed; a micro-window takes a second or two),
  // polling twice a second.
  live_daemon d{
    tmp.path() + "/data",
    data,
    {"--stream-models", "on", "--clock", "wall", "--window-seconds", "30"}};
  auto a = d.edge("cam-p", {place.begin() + 1, place.begin() + 9}, data, 2,
                  {"--realtime", "--window-seconds", "20", "--poll-steps",
                   "0.5", "--infer-fps", "2"});
  REQUIRE_MESSAGE(a.code == 0, a.err);
  // Window 1 goes out naming the job's model, which no reply served.
  CHECK_MESSAGE(contains(a.out, "[cam-p] window 0: step 1 of its job"), a.out);
  CHECK_MESSAGE(contains(a.out, "[cam-p] window 1: edge ran r-cam-p-0"), a.out);
  // It goes out at 40 s, while the job (30 s from about 20 s) still runs:
  // its safety check waits for the job's model to be in the store.
  CHECK_MESSAGE(contains(d.proc->err(), "cam-p: window 1 runs a step of "
                                        "r-cam-p-0, whose job still trains"),
                d.proc->err());
}
