#include "tests/system/process.hpp"

#include "common/util.hpp"
#include "edge/catalog.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fstream>
#include <poll.h>
#include <stdexcept>
#include <netdb.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace recl::test {

process::process(const std::string& binary, std::vector<std::string> args) {
  static int counter = 0;
  err_path_ = (fs::temp_directory_path()
               / ("recl-test-stderr-" + std::to_string(::getpid()) + "-"
                  + std::to_string(counter++)))
                .string();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A child never outlives its parent, even one that crashed: the kernel
    // sends SIGKILL when the parent dies (and at once if it already has).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1)
      ::_exit(127);
    ::dup2(fds[1], 1);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
}

process::~process() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  if (out_fd_ >= 0)
    ::close(out_fd_);
  std::error_code ec;
  fs::remove(err_path_, ec);
}

std::string process::wait_for_line(const std::string& needle,
                                   double timeout_s) {
  auto deadline = now_ms() + timeout_s * 1000;
  for (;;) {
    // Complete lines not yet consumed.
    for (;;) {
      auto nl = out_.find('\n', consumed_);
      if (nl == std::string::npos)
        break;
      auto line = out_.substr(consumed_, nl - consumed_);
      consumed_ = nl + 1;
      if (line.find(needle) != std::string::npos)
        return line;
    }
    auto left = deadline - now_ms();
    if (left <= 0)
      return "";
    pollfd p{out_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min(left, 200.0)));
    if (n > 0) {
      char buf[4096];
      auto got = ::read(out_fd_, buf, sizeof(buf));
      if (got <= 0)
        return "";
      out_.append(buf, static_cast<size_t>(got));
    }
  }
}

void process::signal(int sig) {
  if (!exited_)
    ::kill(pid_, sig);
}

bool process::running() {
  if (exited_)
    return false;
  int st = 0;
  auto r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

int process::wait(double timeout_s) {
  auto deadline = now_ms() + timeout_s * 1000;
  while (running()) {
    if (now_ms() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      exited_ = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status_))
    return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_))
    return 128 + WTERMSIG(status_);
  return -1;
}

std::string process::out() {
  if (!running()) {
    char buf[4096];
    ssize_t got;
    while ((got = ::read(out_fd_, buf, sizeof(buf))) > 0)
      out_.append(buf, static_cast<size_t>(got));
  }
  return out_;
}

std::string process::err() const {
  try {
    return read_file(err_path_);
  } catch (...) {
    return "";
  }
}

run_result run(const std::string& binary, std::vector<std::string> args,
               double timeout_s) {
  process p{binary, std::move(args)};
  run_result r;
  // Drain stdout while waiting so a chatty child cannot block on the pipe.
  auto deadline = now_ms() + timeout_s * 1000;
  while (p.running() && now_ms() < deadline)
    p.wait_for_line("\x01never\x01", 0.2);
  r.code = p.wait(std::max(0.0, (deadline - now_ms()) / 1000));
  r.out = p.out();
  r.err = p.err();
  return r;
}

temp_dir::temp_dir() {
  auto tmpl = (fs::temp_directory_path() / "recl-test-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

small_disk::small_disk(int mib) {
  auto opts = "size=" + std::to_string(mib) + "m,mode=0700";
  if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, opts.c_str()) == 0)
    mounted_ = true;
  else
    why_ = "cannot mount a tmpfs on " + dir_.path() + ": "
           + std::strerror(errno) + " (the test needs root)";
}

small_disk::~small_disk() {
  if (mounted_)
    ::umount2(dir_.path().c_str(), MNT_DETACH);
}

void small_disk::fill(uint64_t leave) {
  auto space = fs::space(path());
  auto f = std::fopen((path() + "/filler").c_str(), "ab");
  if (!f)
    throw std::runtime_error("cannot create " + path() + "/filler");
  std::vector<char> block(64 * 1024, 'f');
  uint64_t want = space.available > leave ? space.available - leave : 0;
  while (want > 0) {
    auto n = std::min<uint64_t>(want, block.size());
    auto put = std::fwrite(block.data(), 1, n, f);
    if (put == 0 || std::fflush(f) != 0)
      break; // full
    want -= put;
  }
  std::fclose(f);
}

void small_disk::unfill() {
  std::error_code ec;
  fs::remove(path() + "/filler", ec);
}

raw_socket::raw_socket(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
    throw std::runtime_error("cannot resolve " + host + ":" + port);
  fd_ = ::socket(res->ai_family, SOCK_STREAM, 0);
  int rc = ::connect(fd_, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0)
    throw std::runtime_error("cannot connect to " + host + ":" + port);
}

raw_socket::raw_socket(raw_socket&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

raw_socket::~raw_socket() {
  if (fd_ >= 0)
    ::close(fd_);
}

void raw_socket::send(const void* data, size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    auto n = ::send(fd_, p, size, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

bool raw_socket::closed_within(double seconds) {
  return read_for(seconds, nullptr);
}

std::string raw_socket::receive_response(double seconds) {
  std::string out;
  read_for(seconds, &out, [](const std::string& x) {
    auto end = x.find("\r\n\r\n");
    auto at = x.find("Content-Length: ");
    return end != std::string::npos && at != std::string::npos
           && x.size() >= end + 4 + std::stoul(x.substr(at + 16));
  });
  return out;
}

bool raw_socket::read_for(double seconds, std::string* out,
                          const std::function<bool(const std::string&)>& done) {
  auto deadline = now_ms() + seconds * 1000;
  char buf[4096];
  while (now_ms() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    int left = static_cast<int>(std::max(1.0, deadline - now_ms()));
    if (::poll(&p, 1, left) <= 0)
      continue;
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0)
      return true; // EOF or reset
    if (out)
      out->append(buf, static_cast<size_t>(n));
    if (out && done && done(*out))
      return false;
  }
  return false;
}

std::string http(const std::string& port, const std::string& method,
                 const std::string& path) {
  raw_socket s{"127.0.0.1", port};
  auto request = method + " " + path
                 + " HTTP/1.1\r\nHost: localhost\r\nConnection: "
                   "close\r\n\r\n";
  s.send(request.data(), request.size());
  return s.receive_response(10);
}

std::string free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return std::to_string(ntohs(a.sin_port));
}

uint64_t rss_bytes(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;
  return 0;
}

std::string bin(const std::string& name) {
  return std::string{RECL_BIN_DIR} + "/" + name;
}

std::string data_dir() {
  auto d = find_data_dir();
  if (!d.empty())
    return d;
  auto beside = fs::path{RECL_SOURCE_DIR} / ".." / "shared" / "data";
  if (fs::exists(beside / "catalog.tsv"))
    return beside.lexically_normal().string();
  return "";
}

std::string recld_address(process& recld, double timeout_s) {
  auto line = recld.wait_for_line("recld listening on", timeout_s);
  if (line.empty())
    throw std::runtime_error("recld did not start: " + recld.err());
  return line.substr(line.rfind(' ') + 1);
}

} // namespace recl::test
