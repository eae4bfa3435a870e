#include "actors/modes.hpp"

#include "common/util.hpp"

#include <stdexcept>
#include <utility>

namespace recl {

namespace {

/// One table per enum: its values and their names, in order.
template <class E, size_t N>
using names = std::pair<E, const char*>[N];

template <class E, size_t N>
E parse(const char* what, const std::string& name, const names<E, N>& table) {
  std::string choices;
  for (auto& [value, text] : table) {
    if (name == text)
      return value;
    choices += choices.empty() ? "" : ", ";
    choices += text;
  }
  throw std::invalid_argument("unknown " + std::string{what} + " '" + name
                              + "' (" + choices + ")");
}

template <class E, size_t N>
const char* name_of(E x, const names<E, N>& table) {
  for (auto& [value, text] : table)
    if (value == x)
      return text;
  return "?";
}

const names<clock_kind, 2> clocks{{clock_kind::wall, "wall"},
                                  {clock_kind::replay, "replay"}};
const names<selector_kind, 5> selectors{{selector_kind::gating, "gating"},
                                        {selector_kind::odin, "odin"},
                                        {selector_kind::oracle, "oracle"},
                                        {selector_kind::none, "none"},
                                        {selector_kind::compare, "compare"}};
const names<gain_frames, 2> gains{{gain_frames::window, "window"},
                                  {gain_frames::holdout, "holdout"}};
const names<selection_rule, 3> selections{{selection_rule::lineage, "lineage"},
                                          {selection_rule::confirm, "confirm"},
                                          {selection_rule::all, "all"}};
const names<admission_rule, 2> admissions{{admission_rule::next, "next"},
                                          {admission_rule::holdout, "holdout"}};
const names<train_start, 2> starts{{train_start::served, "served"},
                                   {train_start::line, "line"}};

} // namespace

clock_kind parse_clock(const std::string& name) {
  return parse("clock", name, clocks);
}
selector_kind parse_selector(const std::string& name) {
  return parse("selector", name, selectors);
}
gain_frames parse_gain_frames(const std::string& name) {
  return parse("gain-frames", name, gains);
}
selection_rule parse_selection(const std::string& name) {
  return parse("selection", name, selections);
}
admission_rule parse_admission(const std::string& name) {
  return parse("admission", name, admissions);
}
train_start parse_train_start(const std::string& name) {
  return parse("train-from", name, starts);
}

std::vector<std::string> parse_devices(const std::string& list) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("'" + list + "': " + why
                                 + " (cpu, cpu:N, cuda:K, or a list of them)");
  };
  std::vector<std::string> out;
  for (auto& item : split(list, ',')) {
    auto colon = item.find(':');
    auto kind = item.substr(0, colon);
    auto n
      = colon == std::string::npos ? std::string{} : item.substr(colon + 1);
    if (colon != std::string::npos
        && (n.empty() || n.size() > 4
            || n.find_first_not_of("0123456789") != std::string::npos))
      throw bad("'" + item + "' has no number after ':'");
    if (kind == "cpu" && n.empty()) {
      out.push_back("cpu:" + std::to_string(out.size()));
    } else if (kind == "cpu") {
      auto count = std::stoi(n);
      if (count < 1 || count > 64)
        throw bad("cpu:N splits the CPU into 1 to 64 owners");
      for (int i = 0; i < count; ++i)
        out.push_back("cpu:" + std::to_string(out.size()));
    } else if (kind == "cuda" && !n.empty()) {
      out.push_back(item);
    } else {
      throw bad("'" + item + "' is not a device");
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (out[i] == out[j])
        throw bad(out[i] + " is listed twice");
  return out;
}

const char* to_string(clock_kind x) {
  return name_of(x, clocks);
}
const char* to_string(selector_kind x) {
  return name_of(x, selectors);
}
const char* to_string(gain_frames x) {
  return name_of(x, gains);
}
const char* to_string(selection_rule x) {
  return name_of(x, selections);
}
const char* to_string(admission_rule x) {
  return name_of(x, admissions);
}
const char* to_string(train_start x) {
  return name_of(x, starts);
}

} // namespace recl
