// System tests of back-pressure (recld --max-windows-in-flight): the real
// daemon and edges over loopback. Over the limit a window is refused at once
// as "busy" with a time to retry after, nothing queues without bound, and
// recl-edge sends the window again.

#include "tests/system/daemon.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace recl;
using namespace recl::systest;

namespace {

/// The value of a metric line `name value` in /metrics, or -1.
double metric(const std::string& port, const std::string& name) {
  auto text = test::http(port, "GET", "/metrics");
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

} // namespace

TEST_CASE("overload: over the limit a window is refused as busy with a time "
          "to retry, and recl-edge sends it again"
          * doctest::skip(test::data_dir().empty())) {
  auto data = test::data_dir();
  recld_process d{
    {"--max-windows-in-flight", "1", "--metrics-listen", "127.0.0.1:0"}};
  auto port = d.metrics_port();
  // One edge keeps the server busy: three windows of 16 frames, back to
  // back. Between two of them recl-edge's window may take the one slot;
  // then this edge is refused too and sends again, as every edge must.
  std::atomic<int> answered{0};
  std::thread busy([&] {
    client a{d.address};
    a.register_camera("cam-busy", d.token);
    for (uint32_t w = 0; w < 3;) {
      try {
        a.update(w, frames(16), 1);
        ++answered;
        ++w;
      } catch (const rpc_error& e) {
        if (retry_after_s(e) < 0)
          return; // counted as missing below
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  });
  auto until = now_ms() + 10000;
  while (metric(port, "recl_windows_in_flight") < 1 && now_ms() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  client b{d.address};
  b.register_camera("cam-b", d.token);
  auto refused = rpc_failure([&] { b.update(0, frames(1), 1); });
  CHECK(contains(refused, "busy: camera cam-b, window 0: 1 windows in flight "
                          "(--max-windows-in-flight); retry after "));
  // recl-edge meets the same and sends its window again until it is served.
  auto edge
    = test::run(test::bin("recl-edge"),
                {"--server", d.address, "--camera", "cam-edge", "--source",
                 data + "/images", "--folder-fps", "1", "--window-seconds", "2",
                 "--windows", "1", "--token", d.token},
                120);
  busy.join();
  CHECK(answered == 3);
  CHECK_MESSAGE(edge.code == 0, edge.err);
  CHECK(contains(edge.out, "[cam-edge] window 0: server busy, sending it "
                           "again in"));
  CHECK(contains(edge.out, "[cam-edge] done: 1 windows"));
  CHECK(metric(port, "recl_windows_shed_total") >= 2);
  CHECK(metric(port, "recl_windows_answered_total") == 4);
  CHECK(d.stop() == 0);
}
