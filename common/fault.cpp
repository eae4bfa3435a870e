#include "common/fault.hpp"

#include "common/log.hpp"

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

namespace recl {

bool fault_at(const char* point) {
  static std::mutex mtx;
  static std::set<std::string> reached;
  auto* at = std::getenv("RECL_CRASH_AT");
  if (at == nullptr || std::string{at} != point)
    return false;
  std::lock_guard<std::mutex> guard{mtx};
  if (!reached.insert(point).second)
    return false;
  log::warning("fault", "RECL_CRASH_AT=", point, ": failing here");
  return true;
}

void crash_at(const char* point) {
  if (fault_at(point))
    std::raise(SIGKILL);
}

} // namespace recl
