// recl-admin: inspects a running recld through its Admin interface.

#include "common/settings.hpp"
#include "common/util.hpp"
#include "edge/client.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

using namespace recl;

namespace {

options make_options() {
  options o{"recl-admin", "[options] COMMAND",
            "Inspects a running recld.\n\ncommands:\n  status    uptime, "
            "teacher, store size and every camera (id, windows served,\n"
            "            last reply time)"};
  o.add("server", "HOST:PORT", "recld's address", "127.0.0.1:7450")
    .add("token", "SECRET", "the server's token (default: $RECL_TOKEN)")
    .add("token-file", "FILE", "read the token from FILE")
    .add_flag("json", "print one JSON object instead of text");
  return o;
}

void print_status(const server_status& s, bool json) {
  if (json) {
    nlohmann::json j;
    j["uptime_s"] = s.uptime_s;
    j["version"] = s.version;
    j["teacher"] = s.teacher;
    j["data_dir"] = s.data_dir;
    j["store_bytes"] = s.store_bytes;
    j["cameras"] = nlohmann::json::array();
    for (auto& c : s.cameras)
      j["cameras"].push_back({{"id", c.id},
                              {"windows", c.windows},
                              {"frames_labelled", c.frames_labelled},
                              {"last_reply_ms", c.last_reply_ms},
                              {"last_reply_unix_ms", c.last_reply_unix_ms},
                              {"connected", c.connected},
                              {"model_id", c.model_id}});
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("recld %s, up %.0f s\nteacher: %s\nstore: %s in %s\n",
              s.version.c_str(), s.uptime_s, s.teacher.c_str(),
              human_bytes(s.store_bytes).c_str(), s.data_dir.c_str());
  std::printf("cameras: %zu\n", s.cameras.size());
  if (!s.cameras.empty())
    std::printf("  %-24s %10s %10s %14s  %s\n", "id", "windows", "frames",
                "last reply ms", "state");
  for (auto& c : s.cameras)
    std::printf("  %-24s %10llu %10llu %14.0f  %s\n", c.id.c_str(),
                static_cast<unsigned long long>(c.windows),
                static_cast<unsigned long long>(c.frames_labelled),
                c.last_reply_ms, c.connected ? "connected" : "offline");
}

} // namespace

int main(int argc, char** argv) {
  auto o = make_options();
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    if (o.positional().empty())
      throw usage_error("no command given (see --help)");
    if (o.positional().size() > 1)
      throw usage_error("unexpected argument '" + o.positional()[1] + "'");
    auto cmd = o.positional()[0];
    if (cmd != "status")
      throw usage_error("unknown command '" + cmd + "' (see --help)");
    try {
      parse_endpoint(o.get("server"));
    } catch (const std::invalid_argument& e) {
      o.fail("server", e.what());
    }
    auto token = load_token(o.get("token"), o.get("token-file"));
    client c{o.get("server")};
    print_status(c.status(token), o.flag("json"));
    return 0;
  } catch (const usage_error& e) {
    std::cerr << "recl-admin: " << e.what() << "\n";
    return 2;
  } catch (const rpc_error& e) {
    std::cerr << "recl-admin: " << e.what() << "\n";
    return 1;
  }
}
