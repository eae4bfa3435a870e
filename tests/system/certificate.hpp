#pragma once
// A self-signed certificate made by the openssl command, for the system
// tests of TLS (tests/system/tls.cpp) and of node links
// (tests/system/cluster.cpp), and the nodes benchmark (bench/cluster.cpp).

#include "tests/system/process.hpp"

#include <stdexcept>
#include <string>

namespace recl::test {

/// A self-signed certificate for `name` and its key, in `dir`; being
/// self-signed, it is its own CA.
struct certificate {
  std::string cert, key;

  certificate(const std::string& dir, const std::string& name) {
    cert = dir + "/" + name + "-cert.pem";
    key = dir + "/" + name + "-key.pem";
    auto r = run("/usr/bin/openssl",
                 {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                  "-out", cert, "-subj", "/CN=" + name, "-addext",
                  "subjectAltName=DNS:" + name, "-days", "2"});
    if (r.code != 0)
      throw std::runtime_error("openssl failed: " + r.err);
  }
};

} // namespace recl::test
