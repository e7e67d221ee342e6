// Verifies issued certificates with the openssl command-line tool, independently of capf's code.
#include <fstream>

#include "capf/util/files.hpp"
#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

int run(const std::string& cmd, const TempDir& dir, std::string* output) {
  std::string full = cmd + " > " + dir.file("out.txt") + " 2>&1";
  int rc = std::system(full.c_str());
  auto text = util::read_file(dir.file("out.txt"));
  *output = text.ok() ? *text : "";
  return rc;
}

class OpensslVerify : public ::testing::TestWithParam<std::pair<KeySpec, KeySpec>> {};

TEST_P(OpensslVerify, AcceptsTheIssuedLscStrictlyForClientAndServerUse) {
  auto [ca_spec, phone_spec] = GetParam();
  const auto& ca = cached_ca(ca_spec);
  auto lsc = ca.issue_lsc("SEP001122334455", cached_key(phone_spec).public_key_der(), 365, util::now());
  ASSERT_TRUE(lsc.ok()) << lsc.error().message;
  TempDir dir;
  ASSERT_TRUE(util::write_file_atomic(dir.file("ca.pem"), ca.certificate().to_pem(), 0644).ok());
  ASSERT_TRUE(util::write_file_atomic(dir.file("lsc.pem"), lsc->to_pem(), 0644).ok());
  std::string out;
  std::string base = "openssl verify -x509_strict -CAfile " + dir.file("ca.pem");
  EXPECT_EQ(run(base + " " + dir.file("lsc.pem"), dir, &out), 0) << out;
  EXPECT_NE(out.find(": OK"), std::string::npos) << out;
  EXPECT_EQ(run(base + " -purpose sslclient " + dir.file("lsc.pem"), dir, &out), 0) << out;
  EXPECT_EQ(run(base + " -purpose sslserver " + dir.file("lsc.pem"), dir, &out), 0) << out;
  // The CA certificate itself is the TLS server certificate of the CAPF port.
  EXPECT_EQ(run(base + " -purpose sslserver " + dir.file("ca.pem"), dir, &out), 0) << out;

  // And a certificate from another CA is refused by the same command.
  const auto& other = cached_ca(ca_spec == rsa(2048) ? ec(EcCurve::p384) : rsa(2048));
  ASSERT_TRUE(util::write_file_atomic(dir.file("other.pem"), other.certificate().to_pem(), 0644).ok());
  EXPECT_NE(run("openssl verify -CAfile " + dir.file("other.pem") + " " + dir.file("lsc.pem"), dir, &out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(Pairs, OpensslVerify,
                         ::testing::Values(std::pair{rsa(2048), rsa(2048)}, std::pair{rsa(2048), ec(EcCurve::p256)},
                                           std::pair{ec(EcCurve::p256), ec(EcCurve::p521)},
                                           std::pair{ec(EcCurve::p384), rsa(1024)}),
                         [](const auto& info) {
                           std::string name = "CA" + to_string(info.param.first) + "_Phone" + to_string(info.param.second);
                           std::erase(name, '-');
                           return name;
                         });

TEST(OpensslText, ParsesTheLscAndShowsTheProfile) {
  auto lsc = cached_ca().issue_lsc("SEP001122334455", cached_key(ec(EcCurve::p256)).public_key_der(), 365,
                                   util::now());
  ASSERT_TRUE(lsc.ok());
  TempDir dir;
  Bytes der = lsc->to_der();
  ASSERT_TRUE(util::write_file_atomic(dir.file("lsc.der"), std::string(der.begin(), der.end()), 0644).ok());
  std::string out;
  ASSERT_EQ(run("openssl x509 -inform DER -noout -text -in " + dir.file("lsc.der"), dir, &out), 0) << out;
  EXPECT_NE(out.find("Signature Algorithm: sha256WithRSAEncryption"), std::string::npos) << out;
  EXPECT_NE(out.find("X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("TLS Web Server Authentication, TLS Web Client Authentication"), std::string::npos) << out;
  EXPECT_NE(out.find("CA:FALSE"), std::string::npos) << out;
  EXPECT_NE(out.find("URI:SEP001122334455"), std::string::npos) << out;
}

}  // namespace
}  // namespace capf::crypto::test
