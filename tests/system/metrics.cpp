// System tests of the metrics and health endpoint (recld --metrics-listen):
// the real daemon, plain HTTP over loopback.

#include "tests/system/daemon.hpp"

#include <doctest/doctest.h>

using namespace recl;
using namespace recl::systest;

TEST_CASE("metrics: /metrics counts windows, connections and refusals, "
          "/healthz says ok, other requests are refused") {
  recld_process d{{"--metrics-listen", "127.0.0.1:0"}};
  auto port = d.metrics_port();
  auto health = test::http(port, "GET", "/healthz");
  CHECK(contains(health, "HTTP/1.1 200 OK"));
  CHECK(contains(health, "\r\n\r\nok\n"));

  client edge{d.address};
  edge.register_camera("cam-m", d.token);
  edge.update(0, frames(2), 1);
  CHECK(contains(rpc_failure([&] { edge.update(1, {}, 1); }), "bad_window"));
  client wrong{d.address};
  CHECK(contains(rpc_failure([&] { wrong.status("not-the-token"); }),
                 "unauthorized"));

  auto m = test::http(port, "GET", "/metrics");
  CHECK(contains(m, "HTTP/1.1 200 OK"));
  CHECK(contains(m, "text/plain; version=0.0.4"));
  CHECK(contains(m, "# TYPE recl_windows_answered_total counter\n"));
  CHECK(contains(m, "\nrecl_windows_answered_total 1\n"));
  CHECK(contains(m, "\nrecl_windows_failed_total 1\n"));
  CHECK(contains(m, "\nrecl_windows_in_flight 0\n"));
  // Every window answered: none left in any stage, the failed one included.
  CHECK(contains(m, "# TYPE recl_windows_in_stage gauge\n"));
  for (auto stage : {"budget", "label", "check", "reply"})
    CHECK(contains(m, std::string{"\nrecl_windows_in_stage{stage=\""} + stage
                        + "\"} 0\n"));
  CHECK(contains(m, "# TYPE recl_gpu_queued gauge\n")); // idle: nothing waits
  CHECK(contains(m, "\nrecl_gpu_queued 0\n"));
  CHECK(contains(m, "\nrecl_camera_windows_total{camera=\"cam-m\"} 1\n"));
  CHECK(
    contains(m, "\nrecl_camera_frames_labelled_total{camera=\"cam-m\"} 2\n"));
  CHECK(contains(m, "\nrecl_cameras_connected 1\n"));
  CHECK(contains(m, "\nrecl_tokens_refused_total 1\n"));
  CHECK(contains(m, "\nrecl_connections_open 1\n")); // the edge's
  CHECK(contains(m, "\nrecl_store_writable 1\n"));
  CHECK(contains(m, "\nrecl_up 1\n"));
  CHECK(contains(m, "\nrecl_zoo_experts 0\n"));
  CHECK(contains(m, "\nrecl_zoo_admitted_total 0\n"));
  CHECK(contains(m, "\nrecl_zoo_pruned_total 0\n"));
  CHECK(contains(m, "\nrecl_window_errors_total{kind=\"bad_window\"} 1\n"));
  CHECK(contains(m, "# TYPE recl_reply_seconds histogram\n"));
  CHECK(contains(m, "\nrecl_reply_seconds_bucket{le=\"+Inf\"} 1\n"));
  CHECK(contains(m, "\nrecl_reply_seconds_count 1\n"));
  CHECK(contains(m, "\nrecl_reply_part_seconds_total{part=\"teacher\"} "));
  CHECK(contains(m, "\nrecl_reply_part_seconds_total{part=\"fetch\"} "));
  // Labelled here: no link to a worker's labeler.
  CHECK(contains(m, "\nrecl_reply_part_seconds_total{part=\"link\"} 0\n"));
  CHECK(contains(test::http(port, "GET", "/readyz"), "HTTP/1.1 200 OK"));

  CHECK(contains(test::http(port, "POST", "/metrics"), "405"));
  CHECK(contains(test::http(port, "GET", "/nope"), "404"));
  CHECK(d.stop() == 0);
}

TEST_CASE("metrics: a bad or taken address is refused at start") {
  auto r = test::run(test::bin("recld"), {"--data-dir", "/tmp/recl-unused",
                                          "--metrics-listen", "nowhere"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--metrics-listen"));
  recld_process d{{"--metrics-listen", "127.0.0.1:0"}};
  auto port = d.metrics_port();
  test::temp_dir dir;
  auto taken = test::run(test::bin("recld"),
                         {"--data-dir", dir.path() + "/data", "--listen",
                          "127.0.0.1:0", "--base-expert", "none", "--teacher",
                          "hog", "--metrics-listen", "127.0.0.1:" + port});
  CHECK(taken.code == 1);
  CHECK(contains(taken.err, "cannot listen on 127.0.0.1:" + port));
  CHECK(d.stop() == 0);
}
