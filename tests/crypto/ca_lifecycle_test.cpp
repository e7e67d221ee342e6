// CAPF CA regeneration on disk and the CRL it signs, checked with the openssl command-line tool.
#include "capf/crypto/ca_lifecycle.hpp"

#include <sys/stat.h>

#include <fstream>

#include "capf/util/files.hpp"
#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

std::string run(const std::string& cmd, int* rc) {
  const std::string out = "/tmp/capf-crl-test-" + std::to_string(::getpid()) + ".txt";
  *rc = std::system((cmd + " > " + out + " 2>&1").c_str());
  auto text = util::read_file(out);
  std::remove(out.c_str());
  return text.ok() ? *text : "";
}

TEST(CaLifecycle, RegenerateKeepsTheOldCaInRetiredAndLoadNeverCreates) {
  TempDir dir;
  EXPECT_EQ(load_ca(dir.path()).error().code, Errc::not_found);
  EXPECT_FALSE(util::exists(dir.file("capf-ca.pem"))) << "load_ca must not create a CA";
  auto first = CertificateAuthority::load_or_create(dir.path(), CaOptions{});
  ASSERT_TRUE(first.ok()) << first.error().message;
  CaOptions ec_options;
  ec_options.key = KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
  auto done = regenerate_ca(dir.path(), ec_options);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->old_ca.certificate().serial_hex(), first->certificate().serial_hex());
  EXPECT_NE(done->new_ca.certificate().subject(), first->certificate().subject());
  auto loaded = load_ca(dir.path());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->certificate().serial_hex(), done->new_ca.certificate().serial_hex());
  EXPECT_EQ(to_string(loaded->certificate().key_spec()), "EC-P256");

  const std::string base = dir.file("retired/" + first->certificate().serial_hex());
  struct stat st {};
  ASSERT_EQ(::stat((base + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto retired = retired_cas(dir.path());
  ASSERT_TRUE(retired.ok());
  ASSERT_EQ(retired->size(), 1u);
  EXPECT_EQ((*retired)[0].certificate.subject(), first->certificate().subject());

  // An unsupported key changes nothing.
  CaOptions small;
  small.key = KeySpec{KeyAlgorithm::rsa, 1024, EcCurve::p256};
  EXPECT_EQ(regenerate_ca(dir.path(), small).error().code, Errc::invalid_argument);
  EXPECT_EQ(load_ca(dir.path())->certificate().serial_hex(), done->new_ca.certificate().serial_hex());

  EXPECT_EQ(delete_retired_ca(dir.path(), "abc").error().code, Errc::not_found);
  EXPECT_EQ(delete_retired_ca(dir.path(), "../x").error().code, Errc::invalid_argument);
  ASSERT_TRUE(delete_retired_ca(dir.path(), first->certificate().serial_hex()).ok());
  EXPECT_TRUE(retired_cas(dir.path())->empty());
}

TEST(Crl, ReasonNamesRoundTrip) {
  EXPECT_EQ(parse_revocation_reason("key-compromise"), RevocationReason::key_compromise);
  EXPECT_EQ(parse_revocation_reason("KEYCOMPROMISE"), RevocationReason::key_compromise);
  EXPECT_EQ(parse_revocation_reason("superseded"), RevocationReason::superseded);
  EXPECT_FALSE(parse_revocation_reason("because"));
  EXPECT_EQ(to_string(RevocationReason::cessation_of_operation), "cessationOfOperation");
}

TEST(Crl, OpensslVerifiesTheSignatureAndReadsSerialsReasonsAndNextUpdate) {
  const auto& ca = cached_ca(rsa(2048));
  auto lsc1 = ca.issue_lsc("SEP000000000001", cached_key(rsa(2048)).public_key_der(), 30, util::now());
  auto lsc2 = ca.issue_lsc("SEP000000000002", cached_key(rsa(2048)).public_key_der(), 30, util::now());
  ASSERT_TRUE(lsc1.ok() && lsc2.ok());
  const auto now = util::now();
  auto der = make_crl(ca,
                      {{lsc1->serial_hex(), now - 60, RevocationReason::key_compromise},
                       {lsc2->serial_hex(), now - 30, RevocationReason::unspecified}},
                      7, now, now + 7 * 86400);
  ASSERT_TRUE(der.ok()) << der.error().message;
  TempDir dir;
  ASSERT_TRUE(util::write_file_atomic(dir.file("crl.pem"), crl_pem(*der), 0644).ok());
  ASSERT_TRUE(util::write_file_atomic(dir.file("crl.der"), std::string(der->begin(), der->end()), 0644).ok());
  ASSERT_TRUE(util::write_file_atomic(dir.file("ca.pem"), ca.certificate().to_pem(), 0644).ok());
  int rc = 0;
  auto out = run("openssl crl -in " + dir.file("crl.pem") + " -CAfile " + dir.file("ca.pem") + " -noout -text", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("verify OK"), std::string::npos) << out;
  EXPECT_NE(out.find("X509v3 CRL Number"), std::string::npos) << out;
  EXPECT_NE(out.find("Key Compromise"), std::string::npos) << out;
  EXPECT_NE(out.find("Next Update"), std::string::npos) << out;
  std::string upper = lsc2->serial_hex();
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_NE(out.find(upper), std::string::npos) << out;
  out = run("openssl crl -inform DER -in " + dir.file("crl.der") + " -CAfile " + dir.file("ca.pem") + " -noout", &rc);
  EXPECT_EQ(rc, 0) << out;

  // The LSC now fails a CRL-checking verification; another CA's signature is refused.
  ASSERT_TRUE(util::write_file_atomic(dir.file("lsc.pem"), lsc1->to_pem(), 0644).ok());
  out = run("openssl verify -crl_check -CAfile " + dir.file("ca.pem") + " -CRLfile " + dir.file("crl.pem") + " " +
                dir.file("lsc.pem"),
            &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("revoked"), std::string::npos) << out;
  const auto& other = cached_ca(ec(EcCurve::p384));
  ASSERT_TRUE(util::write_file_atomic(dir.file("other.pem"), other.certificate().to_pem(), 0644).ok());
  out = run("openssl crl -in " + dir.file("crl.pem") + " -CAfile " + dir.file("other.pem") + " -noout", &rc);
  EXPECT_EQ(out.find("verify OK"), std::string::npos) << out;

  EXPECT_EQ(make_crl(ca, {{"zz", now, RevocationReason::unspecified}}, 1, now, now + 1).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(make_crl(ca, {}, 1, now, now).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace capf::crypto::test
