// Helpers shared by the online CA tests: CSRs, parameters for the emulator, chain checks.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capf/ca_online/online_ca.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/time.hpp"
#include "emu_process.hpp"

namespace capf::test {

struct Csr {
  crypto::PrivateKey key;
  std::vector<std::uint8_t> der;
};

/// RSA-1024 by default (a phone key size, and quick to generate on a busy test machine).
inline Csr make_csr(const std::string& cn, KeySpec spec = KeySpec{KeyAlgorithm::rsa, 1024, EcCurve::p256}) {
  auto key = crypto::PrivateKey::generate(spec);
  EXPECT_TRUE(key);
  auto der = crypto::make_csr(*key, cn);
  EXPECT_TRUE(der);
  return Csr{std::move(*key), std::move(*der)};
}

/// Online CA Parameters for an emulator, as an administrator would set them.
inline OnlineCaParams adcs_params(const certsrv::EmuProcess& emu, const std::string& template_name = "Phone") {
  OnlineCaParams p;
  p.type = "microsoft";
  p.host = emu.hostname();
  p.port = emu.port();
  p.template_name = template_name;
  p.username = "capf";
  p.password = "s3cret-pass";
  p.connect_address = "127.0.0.1";
  p.timeout_s = 5;
  p.poll_interval_s = 60;
  p.retry_base_s = 2;
  return p;
}

inline std::unique_ptr<OnlineCa> adcs(const certsrv::EmuProcess& emu, const OnlineCaParams& p) {
  auto ca = ca_online::make_online_ca(p, emu.ca_pem());
  EXPECT_TRUE(ca) << ca.error().message;
  return ca ? std::move(*ca) : nullptr;
}

/// The emulator's standard arguments with the test's password.
inline std::vector<std::string> emu_args(std::vector<std::string> extra) {
  std::vector<std::string> args{"--user", "capf", "--password", "s3cret-pass"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Checks that an issued outcome's certificate chains to `ca_pem` (with its chain as helpers)
/// and carries the CSR's key.
inline void expect_chains(const CaOutcome& o, const std::string& ca_pem, const Csr& csr) {
  ASSERT_EQ(o.kind, CaOutcome::Kind::issued) << o.message;
  auto leaf = crypto::Certificate::from_pem(o.certificate_pem);
  ASSERT_TRUE(leaf) << leaf.error().message;
  EXPECT_EQ(leaf->public_key_der(), csr.key.public_key_der());
  crypto::TrustStore trust;
  auto ca = crypto::Certificate::from_pem(ca_pem);
  ASSERT_TRUE(ca);
  trust.add(*ca);
  std::vector<crypto::Certificate> helpers;
  for (const auto& pem : o.chain_pem) helpers.push_back(*crypto::Certificate::from_pem(pem));
  auto ok = trust.verify(*leaf, util::now(), helpers);
  EXPECT_TRUE(ok) << ok.error().message;
}

}  // namespace capf::test
