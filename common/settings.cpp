#include "common/settings.hpp"

#include "common/util.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace recl {

options::options(std::string program, std::string synopsis, std::string about)
  : program_(std::move(program)), synopsis_(std::move(synopsis)),
    about_(std::move(about)) {
  add_flag("help", "print this help and exit");
}

options& options::add(std::string name, std::string metavar, std::string help,
                      std::string default_value) {
  order_.push_back(name);
  specs_[name] = spec{std::move(metavar), std::move(help),
                      std::move(default_value), false};
  return *this;
}

options& options::add_flag(std::string name, std::string help) {
  order_.push_back(name);
  specs_[name] = spec{"", std::move(help), "", true};
  return *this;
}

const options::spec& options::find(const std::string& name) const {
  auto i = specs_.find(name);
  if (i == specs_.end())
    throw std::logic_error("undeclared option --" + name);
  return i->second;
}

bool options::parse(int argc, const char* const* argv) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (arg == "--") {
        only_positional = true;
        continue;
      }
      if (arg.size() > 1 && arg[0] == '-' && !only_positional) {
        if (arg == "-h")
          return false;
        throw usage_error("unknown option '" + arg + "' (see --help)");
      }
      positional_.push_back(arg);
      continue;
    }
    auto name = arg.substr(2);
    std::string text;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      text = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    auto s = specs_.find(name);
    if (s == specs_.end())
      throw usage_error("unknown option '--" + name + "' (see --help)");
    if (name == "help")
      return false;
    if (s->second.is_flag) {
      if (inline_value && text != "true" && text != "false")
        throw usage_error("--" + name + " takes no value");
      values_[name] = value{inline_value ? text : "true", "command line"};
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc)
        throw usage_error("--" + name + " needs a value (" + s->second.metavar
                          + ")");
      text = argv[++i];
    }
    values_[name] = value{text, "command line"};
  }
  return true;
}

void options::load_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw usage_error("cannot read config file '" + path + "'");
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto where = path + ":" + std::to_string(lineno);
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.erase(hash);
    auto t = trim(line);
    if (t.empty())
      continue;
    auto eq = t.find('=');
    if (eq == std::string::npos)
      throw usage_error(where + ": expected 'key = value', got '" + t + "'");
    auto key = trim(t.substr(0, eq));
    auto text = trim(t.substr(eq + 1));
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
      text = text.substr(1, text.size() - 2);
    auto s = specs_.find(key);
    if (s == specs_.end() || key == "help" || key == "config")
      throw usage_error(where + ": unknown setting '" + key + "'");
    if (s->second.is_flag && text != "true" && text != "false")
      throw usage_error(where + ": " + key + " must be true or false");
    auto v = values_.find(key);
    if (v != values_.end() && v->second.source == "command line")
      continue; // the command line wins
    values_[key] = value{text, where};
  }
}

const std::string& options::get(const std::string& name) const {
  const auto& s = find(name);
  auto v = values_.find(name);
  return v != values_.end() ? v->second.text : s.default_value;
}

bool options::given(const std::string& name) const {
  find(name);
  return values_.count(name) > 0;
}

void options::set(const std::string& name, std::string text,
                  std::string source) {
  find(name);
  values_[name] = value{std::move(text), std::move(source)};
}

void options::fail(const std::string& name, const std::string& why) const {
  auto v = values_.find(name);
  std::string where = v != values_.end() ? v->second.source : "default";
  if (where == "command line")
    throw usage_error("--" + name + ": " + why);
  throw usage_error(where + ": " + name + ": " + why);
}

int64_t options::get_int(const std::string& name, int64_t lo,
                         int64_t hi) const {
  const auto& text = get(name);
  errno = 0;
  char* end = nullptr;
  auto x = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    fail(name, "'" + text + "' is not an integer");
  if (x < lo || x > hi)
    fail(name, std::to_string(x) + " is out of range [" + std::to_string(lo)
                 + ", " + std::to_string(hi) + "]");
  return x;
}

std::pair<int, int> options::get_size(const std::string& name, int max) const {
  const auto& text = get(name);
  auto x = text.find('x');
  int w = 0, h = 0;
  if (x != std::string::npos && x > 0 && x + 1 < text.size()
      && text.find_first_not_of("0123456789x") == std::string::npos
      && text.find('x', x + 1) == std::string::npos && x < 6
      && text.size() - x - 1 < 6) {
    w = std::stoi(text.substr(0, x));
    h = std::stoi(text.substr(x + 1));
  }
  if (w < 32 || h < 32 || w > max || h > max || w % 32 || h % 32)
    fail(name, "'" + text + "' is not WxH with multiples of 32 in [32, "
                 + std::to_string(max) + "]");
  return {w, h};
}

double options::get_double(const std::string& name, double lo,
                           double hi) const {
  const auto& text = get(name);
  errno = 0;
  char* end = nullptr;
  auto x = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
    fail(name, "'" + text + "' is not a number");
  if (x < lo || x > hi) {
    std::ostringstream msg;
    msg << x << " is out of range [" << lo << ", " << hi << "]";
    fail(name, msg.str());
  }
  return x;
}

bool options::flag(const std::string& name) const {
  find(name);
  auto v = values_.find(name);
  return v != values_.end() && v->second.text == "true";
}

std::string options::help() const {
  std::ostringstream out;
  out << "usage: " << program_ << " " << synopsis_ << "\n\n"
      << about_ << "\n\noptions:\n";
  for (auto& name : order_) {
    const auto& s = specs_.at(name);
    std::string left = "  --" + name;
    if (!s.is_flag)
      left += " " + s.metavar;
    out << left;
    if (left.size() < 30)
      out << std::string(30 - left.size(), ' ');
    else
      out << "\n" << std::string(30, ' ');
    out << s.help;
    if (!s.default_value.empty())
      out << " (default: " << s.default_value << ")";
    out << "\n";
  }
  return out.str();
}

int run_command(options& o, int argc, char** argv,
                const std::function<int()>& body) {
  try {
    if (!o.parse(argc, argv)) {
      std::cout << o.help();
      return 0;
    }
    return body();
  } catch (const usage_error& e) {
    std::cerr << o.program() << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << o.program() << ": " << e.what() << "\n";
    return 1;
  }
}

} // namespace recl
