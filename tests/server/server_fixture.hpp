// What the server's unit tests start from: a fresh store in a directory of this process and a
// CA with an EC P-256 key (quick to make), both as the tests' fixtures hold them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"

namespace capf::server::testing {

/// temp/NAME-PID, emptied; the store opened in its db/ (null after a test failure).
inline std::unique_ptr<store::Store> fresh_store(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  auto s = store::Store::open((dir / "db").string());
  EXPECT_TRUE(s.ok()) << (s ? "" : s.error().message);
  return s.ok() ? std::move(*s) : nullptr;
}

/// A directory under the system's temp directory named for the test and this process.
inline std::filesystem::path test_dir(const std::string& name) {
  return std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
}

/// A new CA with an EC P-256 key.
inline std::optional<crypto::CertificateAuthority> ec_ca() {
  crypto::CaOptions options;
  options.key = KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
  auto made = crypto::CertificateAuthority::create(options);
  EXPECT_TRUE(made.ok()) << (made ? "" : made.error().message);
  if (!made) return std::nullopt;
  return std::move(*made);
}

/// Stores a device of job J0001 armed for Install/Upgrade and returns it.
inline Device put_armed_device(store::Store& store, const std::string& name) {
  Device d;
  d.name = name;
  d.operation = CertificateOperation::install_upgrade;
  d.job_id = "J0001";
  store::Transition t;
  t.put_devices.push_back(d);
  EXPECT_TRUE(store.apply(t).ok());
  return d;
}

/// A phone's new EC P-256 key.
inline std::optional<crypto::PrivateKey> ec_key() {
  auto k = crypto::PrivateKey::generate(KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
  EXPECT_TRUE(k.ok()) << (k ? "" : k.error().message);
  if (!k) return std::nullopt;
  return std::move(*k);
}

}  // namespace capf::server::testing
