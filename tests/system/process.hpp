#pragma once
// Runs the real binaries as child processes for system tests.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace recl::test {

/// Whether `haystack` holds `needle` (a process's output, a report).
inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A child process with its stdout on a pipe and stderr in a file.
class process {
public:
  /// Starts `bin` (a path) with `args`.
  process(const std::string& bin, std::vector<std::string> args);
  ~process();

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  /// Reads stdout lines until one contains `needle` or `timeout_s` passes;
  /// returns that line or "" on timeout or end of output.
  std::string wait_for_line(const std::string& needle, double timeout_s);

  /// Sends `sig`.
  void signal(int sig);

  /// Waits for exit; returns the exit code, 128+signal if killed, or -1 on
  /// timeout (the process is then killed).
  int wait(double timeout_s);

  /// Whether the process still runs.
  bool running();

  /// All stdout read so far plus what remains after exit.
  std::string out();

  /// Everything written to stderr.
  std::string err() const;

  int pid() const { return pid_; }

private:
  int pid_ = -1;
  int out_fd_ = -1;
  int status_ = -1;
  bool exited_ = false;
  std::string out_;
  std::string err_path_;
  size_t consumed_ = 0;
};

/// The "HOST:PORT" a started recld listens on, once it says so (within
/// `timeout_s`); throws std::runtime_error with recld's stderr when it does
/// not start.
std::string recld_address(process& recld, double timeout_s = 60);

/// Runs a command to completion; returns {exit code, stdout, stderr}.
struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};
run_result run(const std::string& bin, std::vector<std::string> args,
               double timeout_s = 120);

/// A fresh temporary directory, removed on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

/// A tmpfs of a few MiB mounted on a fresh directory, for tests of a full
/// disk; unmounted on destruction. Mounting needs root (CAP_SYS_ADMIN):
/// where it is refused, `mounted()` is false and `why()` says so.
class small_disk {
public:
  explicit small_disk(int mib);
  ~small_disk();
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& path() const { return dir_.path(); }

  /// Fills the disk with a file until `leave` bytes are free (0: full).
  void fill(uint64_t leave = 0);
  /// Removes what fill() wrote.
  void unfill();

private:
  temp_dir dir_;
  bool mounted_ = false;
  std::string why_;
};

/// A plain TCP connection, for tests of what recld does with peers that do
/// not speak its protocol.
class raw_socket {
public:
  raw_socket(const std::string& host, const std::string& port);
  raw_socket(raw_socket&& other) noexcept;
  ~raw_socket();
  /// Sends what it can; a closed peer is not an error here.
  void send(const void* data, size_t size);
  /// Whether the peer closed the connection within `seconds`.
  bool closed_within(double seconds);
  /// An HTTP response: until its Content-Length is in, the peer closes, or
  /// `seconds` pass.
  std::string receive_response(double seconds);

private:
  /// Reads (into `out` if given) until the peer closes (true), `seconds`
  /// pass or `done(*out)` (false).
  bool read_for(double seconds, std::string* out,
                const std::function<bool(const std::string&)>& done = {});

  int fd_ = -1;
};

/// One HTTP/1.1 request to 127.0.0.1:`port`; the whole response (status
/// line, headers, body).
std::string http(const std::string& port, const std::string& method,
                 const std::string& path);

/// A TCP port free on loopback now (for a server that must come back on
/// the same port).
std::string free_port();

/// A process's resident memory, from /proc/PID/status.
uint64_t rss_bytes(int pid);

/// build/bin/NAME.
std::string bin(const std::string& name);

/// The shared data folder, or "" when absent (tests then say they skip).
std::string data_dir();

} // namespace recl::test
