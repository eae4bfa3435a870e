#pragma once
// A self-signed certificate made by the openssl command, for the system
// tests of TLS (tests/system/tls.cpp) and of node links
// (tests/system/cluster.cpp).

#include "tests/system/process.hpp"

#include <doctest/doctest.h>
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
    REQUIRE_MESSAGE(r.code == 0, "openssl failed: " << r.err);
  }
};

} // namespace recl::test
