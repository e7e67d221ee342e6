// A temporary store and CAPF CA for the monitor tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::monitor::test {

struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/capf-monitor-XXXXXX";
    dir = ::mkdtemp(tmpl);
    ca_dir = dir + "/ca";
    auto ca = crypto::CertificateAuthority::load_or_create(ca_dir, crypto::CaOptions{});
    EXPECT_TRUE(ca.ok());
    ca_subject = ca->certificate().subject();
    reopen();
  }
  ~Fixture() {
    store.reset();
    std::system(("rm -rf '" + dir + "'").c_str());
  }
  void reopen() {
    store.reset();
    auto s = store::Store::open(dir + "/store");
    EXPECT_TRUE(s.ok());
    store = std::move(*s);
  }
  CertificateRecord lsc(const std::string& serial, const std::string& device, util::UnixTime not_after,
                        CertificateState state = CertificateState::delivered) {
    CertificateRecord c;
    c.serial = serial;
    c.device = device;
    c.issuer = ca_subject;
    c.key = "RSA-2048";
    c.issued_at = clock.now();
    c.not_after = not_after;
    c.state = state;
    return c;
  }
  std::string dir, ca_dir, ca_subject;
  std::unique_ptr<store::Store> store;
  util::ManualClock clock{util::now()};
};

}  // namespace capf::monitor::test
