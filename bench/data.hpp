#pragma once
// The shared data folder of a benchmark: --data, else $RECL_DATA, else
// ../shared/data (beside the source tree too).

#include "common/settings.hpp"
#include "tests/system/process.hpp"

#include <filesystem>
#include <string>

namespace recl::bench {

/// The data folder, or a usage_error when there is none.
inline std::string data_folder(const options& o) {
  auto data = o.given("data") ? o.get("data") : test::data_dir();
  if (data.empty())
    throw usage_error("no shared data: set RECL_DATA or --data");
  if (!std::filesystem::exists(data + "/catalog.tsv"))
    throw usage_error("'" + data + "' holds no catalog.tsv: not the shared data");
  return data;
}

} // namespace recl::bench
