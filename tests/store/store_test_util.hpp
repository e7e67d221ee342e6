// Helpers shared by the store tests: a temporary directory and fully populated records.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "capf/core/device.hpp"
#include "capf/store/store.hpp"

namespace capf::store::testing {

/// A fresh directory under /tmp, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "capf-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// The directory itself.
  const std::string& path() const { return path_; }
  /// A path inside it (the store creates the directory).
  std::string db() const { return path_ + "/db"; }

 private:
  std::string path_;
};

/// Opens a store, expecting success; null (after a test failure) otherwise.
inline std::unique_ptr<Store> open_ok(const std::string& path) {
  auto s = Store::open(path);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(*s) : nullptr;
}

/// A device with every field set to something other than its default.
inline Device full_device(const std::string& name) {
  Device d;
  d.name = name;
  d.description = "Lobby phone \"east\"";
  d.device_type = "Cisco 8841";
  d.device_pool = "DP-HQ";
  d.security_profile = "Cisco 8841 - Standard SIP Secure Profile";
  d.security_mode = SecurityMode::authenticated;  // not what the profile name implies (Encrypted)
  d.operation = CertificateOperation::install_upgrade;
  d.auth_mode = AuthMode::auth_string;
  d.auth_string = "123456";
  d.rsa_key_bits = 4096;
  d.key_order = KeyOrder::ec_preferred_rsa_backup;
  d.ec_key_bits = 384;
  d.completes_by = 1'900'000'000;
  d.ipv4 = "10.1.2.3";
  d.ipv6 = "2001:db8::1";
  d.status = OperationStatus::in_progress;
  d.status_reason = "waiting for the phone";
  d.auth_failures = 2;
  d.keygen_failures = 1;
  d.last_seen = 1'700'000'001;
  d.lsc_serial = "0a1b2c";
  d.lsc_issuer = "CN=CAPF-1234,O=Example";
  d.lsc_not_after = 1'800'000'000;
  d.fetched_cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  d.phone_certificates = {{PhoneCertificateKind::lsc, false, 1'700'000'003, {0x30, 0x03, 0x02, 0x01, 0x00}},
                          {PhoneCertificateKind::unknown, false, -1, {0x30, 0x00, 0x80, 0xff}},
                          {PhoneCertificateKind::mic, true, 1'700'000'004, std::vector<std::uint8_t>(300, 0xa5)}};
  d.updated_at = 1'700'000'002;
  return d;
}

/// A certificate record with every field set to something other than its default.
inline CertificateRecord full_certificate(const std::string& serial, const std::string& device) {
  CertificateRecord c;
  c.serial = serial;
  c.device = device;
  c.issuer = "CN=CAPF-1234,O=Example";
  c.key = "EC-P384";
  c.issued_at = 1'700'000'010;
  c.delivered_at = 1'700'000'020;
  c.not_after = 1'857'000'000;
  c.state = CertificateState::delivered;
  c.der_hex = "3082010a0282010100";
  return c;
}

/// An audit entry with every field set.
inline AuditEntry full_audit(std::int64_t time, const std::string& action) {
  return AuditEntry{time, "phone:SEP001122334455", action, "SEP001122334455", "detail text"};
}

/// Expects two devices to agree on every field.
inline void expect_same(const Device& a, const Device& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.device_type, b.device_type);
  EXPECT_EQ(a.device_pool, b.device_pool);
  EXPECT_EQ(a.security_profile, b.security_profile);
  EXPECT_EQ(a.security_mode, b.security_mode);
  EXPECT_EQ(a.operation, b.operation);
  EXPECT_EQ(a.auth_mode, b.auth_mode);
  EXPECT_EQ(a.auth_string, b.auth_string);
  EXPECT_EQ(a.rsa_key_bits, b.rsa_key_bits);
  EXPECT_EQ(a.key_order, b.key_order);
  EXPECT_EQ(a.ec_key_bits, b.ec_key_bits);
  EXPECT_EQ(a.completes_by, b.completes_by);
  EXPECT_EQ(a.ipv4, b.ipv4);
  EXPECT_EQ(a.ipv6, b.ipv6);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.status_reason, b.status_reason);
  EXPECT_EQ(a.auth_failures, b.auth_failures);
  EXPECT_EQ(a.keygen_failures, b.keygen_failures);
  EXPECT_EQ(a.last_seen, b.last_seen);
  EXPECT_EQ(a.lsc_serial, b.lsc_serial);
  EXPECT_EQ(a.lsc_issuer, b.lsc_issuer);
  EXPECT_EQ(a.lsc_not_after, b.lsc_not_after);
  EXPECT_EQ(a.fetched_cert_pem, b.fetched_cert_pem);
  EXPECT_EQ(a.phone_certificates, b.phone_certificates);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

/// Expects two certificate records to agree on every field.
inline void expect_same(const CertificateRecord& a, const CertificateRecord& b) {
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.issuer, b.issuer);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.issued_at, b.issued_at);
  EXPECT_EQ(a.delivered_at, b.delivered_at);
  EXPECT_EQ(a.not_after, b.not_after);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.der_hex, b.der_hex);
}

/// Expects two audit entries to agree on every field.
inline void expect_same(const AuditEntry& a, const AuditEntry& b) {
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.actor, b.actor);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.detail, b.detail);
}

}  // namespace capf::store::testing
