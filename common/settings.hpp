#pragma once
// Command-line and config-file settings, shared by every command.
//
// Every option has a long name (`--max-frames 64`). A config file
// (`--config FILE`) holds the same names as `key = value` lines; `#` starts a
// comment. The command line wins over the file, the file over defaults. Every
// bad value yields a `usage_error` that names the option and where it came
// from, so the user knows what to fix.

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace recl {

/// A bad command line, config file or setting value.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The declared options of one command and the values given to it.
class options {
public:
  /// `program` names the command, `synopsis` is the usage line's tail.
  options(std::string program, std::string synopsis, std::string about);

  /// Declares `--name METAVAR` with a default ("" = none).
  options& add(std::string name, std::string metavar, std::string help,
               std::string default_value = "");

  /// Declares a boolean `--name` switch.
  options& add_flag(std::string name, std::string help);

  /// Parses the command line. Returns false if `--help` was given.
  /// Positional arguments are kept in order; `--` ends options.
  bool parse(int argc, const char* const* argv);

  /// Reads `key = value` lines for options not set on the command line.
  void load_file(const std::string& path);

  /// The value of an option (its default when not given).
  const std::string& get(const std::string& name) const;

  /// Whether the option was given (command line or file).
  bool given(const std::string& name) const;

  /// Overrides a value from code (e.g. computed defaults).
  void set(const std::string& name, std::string value, std::string source);

  /// The value as an integer within [lo, hi].
  int64_t get_int(const std::string& name, int64_t lo, int64_t hi) const;

  /// The value "WxH" as (width, height), each a multiple of 32 in [32, max].
  std::pair<int, int> get_size(const std::string& name, int max) const;

  /// The value as a number within [lo, hi].
  double get_double(const std::string& name, double lo, double hi) const;

  /// Whether a flag is set.
  bool flag(const std::string& name) const;

  /// Positional arguments.
  const std::vector<std::string>& positional() const { return positional_; }

  /// The `--help` text.
  std::string help() const;

  /// The command's name.
  const std::string& program() const { return program_; }

  /// Throws a usage_error for `name` whose value is bad because `why`.
  [[noreturn]] void fail(const std::string& name, const std::string& why) const;

private:
  struct spec {
    std::string metavar;
    std::string help;
    std::string default_value;
    bool is_flag = false;
  };
  struct value {
    std::string text;
    std::string source; // "command line" or "FILE:LINE"
  };
  const spec& find(const std::string& name) const;

  std::string program_;
  std::string synopsis_;
  std::string about_;
  std::vector<std::string> order_;
  std::map<std::string, spec> specs_;
  std::map<std::string, value> values_;
  std::vector<std::string> positional_;
};

/// The frame of every command's `main`: parses the command line into `o`
/// (`--help` prints the help and exits 0), then runs `body`, whose return
/// value is the exit code. A usage_error, from parsing or from `body`, is
/// one line "PROGRAM: why" on stderr and exit code 2; any other exception
/// is one such line and exit code 1.
int run_command(options& o, int argc, char** argv,
                const std::function<int()>& body);

} // namespace recl
