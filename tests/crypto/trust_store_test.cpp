#include <fstream>

#include "capf/util/files.hpp"
#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

const util::UnixTime kNow = util::now();
constexpr util::UnixTime kDay = 86400;

Certificate lsc_from(const CertificateAuthority& ca, int days = 30, util::UnixTime now = kNow) {
  auto lsc = ca.issue_lsc("SEP001122334455", cached_key(ec(EcCurve::p256)).public_key_der(), days, now);
  EXPECT_TRUE(lsc.ok());
  return *lsc;
}

TEST(TrustStore, AcceptsAnLscOfATrustedCa) {
  TrustStore trust;
  trust.add(cached_ca().certificate());
  trust.add(cached_ca(ec(EcCurve::p256)).certificate());
  trust.add(cached_ca().certificate());
  EXPECT_EQ(trust.size(), 2u);
  EXPECT_TRUE(trust.verify(lsc_from(cached_ca()), kNow).ok());
  EXPECT_TRUE(trust.verify(lsc_from(cached_ca(ec(EcCurve::p256))), kNow).ok());
  EXPECT_TRUE(trust.verify(cached_ca().certificate(), kNow).ok());
}

TEST(TrustStore, RejectsACertificateOfAnotherCaNamingTheReason) {
  TrustStore trust;
  trust.add(cached_ca().certificate());
  auto r = trust.verify(lsc_from(cached_ca(ec(EcCurve::p384))), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_EQ(r.error().message,
            "certificate CN=SEP001122334455,O=capf does not chain to CAPF-trust: unable to get local issuer "
            "certificate");
  EXPECT_FALSE(TrustStore().verify(lsc_from(cached_ca()), kNow).ok());
}

TEST(TrustStore, SameNameDifferentKeyIsRejected) {
  CaOptions options;
  options.key = ec(EcCurve::p256);
  options.common_name = "CAPF-test-RSA-2048";  // same subject as cached_ca(), different key
  auto impostor = CertificateAuthority::create(options);
  ASSERT_TRUE(impostor.ok());
  TrustStore trust;
  trust.add(cached_ca().certificate());
  EXPECT_FALSE(trust.verify(lsc_from(*impostor), kNow).ok());
}

TEST(TrustStore, ChecksValidityAtTheGivenTime) {
  TrustStore trust;
  trust.add(cached_ca().certificate());
  Certificate lsc = lsc_from(cached_ca(), 30);
  EXPECT_TRUE(trust.verify(lsc, kNow + 29 * kDay).ok());
  auto expired = trust.verify(lsc, kNow + 31 * kDay);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message.find("does not chain to CAPF-trust: certificate has expired"), std::string::npos)
      << expired.error().message;
  auto early = trust.verify(lsc, kNow - kDay);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.error().message.find("not yet valid"), std::string::npos) << early.error().message;
  auto far = trust.verify(lsc, kNow + 20 * 365 * kDay);
  ASSERT_FALSE(far.ok());
  EXPECT_NE(far.error().message.find("expired"), std::string::npos) << far.error().message;
}

TEST(TrustStore, SelfSignedStrangerIsRejected) {
  TrustStore trust;
  trust.add(cached_ca().certificate());
  auto r = trust.verify(cached_ca(ec(EcCurve::p384)).certificate(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("self-signed"), std::string::npos) << r.error().message;
}

// A root → intermediate chain made with the openssl tool, so the intermediate's CA certificate
// is one capf did not make (no pathlen on the root, a different extension layout).
class ImportedChain : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("int.ext")) << "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                                           "keyUsage=critical,keyCertSign,cRLSign\n"
                                           "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
    std::string cmd = "(cd " + dir_.path() +
                      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key"
                      " -out root.pem -subj '/CN=Test Root' -days 30"
                      " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
                      " && openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr"
                      " -subj '/O=Lab/CN=Test Intermediate'"
                      " && openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30"
                      " -extfile int.ext -out int.pem) > " +
                      dir_.file("openssl.log") + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << *util::read_file(dir_.file("openssl.log"));
    root_ = *Certificate::from_pem(*util::read_file(dir_.file("root.pem")));
    auto intermediate =
        CertificateAuthority::from_pem(*util::read_file(dir_.file("int.pem")), *util::read_file(dir_.file("int.key")));
    ASSERT_TRUE(intermediate.ok()) << intermediate.error().message;
    intermediate_ = std::make_unique<CertificateAuthority>(std::move(*intermediate));
    now_ = util::now();  // openssl dated the chain at this process's wall clock, after kNow
  }

  static std::string why(const Result<void>& r) { return r.ok() ? "" : r.error().message; }

  TempDir dir_;
  Certificate root_;
  std::unique_ptr<CertificateAuthority> intermediate_;
  util::UnixTime now_ = 0;
};

TEST_F(ImportedChain, LscChainsToTheRootThroughGivenIntermediates) {
  Certificate lsc = lsc_from(*intermediate_, 30, now_);
  EXPECT_EQ(lsc.subject(), "CN=SEP001122334455,O=Lab");
  EXPECT_EQ(lsc.issuer(), "CN=Test Intermediate,O=Lab");
  TrustStore root_only;
  root_only.add(root_);
  auto chained = root_only.verify(lsc, now_, {intermediate_->certificate()});
  EXPECT_TRUE(chained.ok()) << why(chained);
  auto missing = root_only.verify(lsc, now_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("unable to get local issuer certificate"), std::string::npos);
}

TEST_F(ImportedChain, ATrustedIntermediateIsAnAnchorByItself) {
  TrustStore intermediate_only;
  intermediate_only.add(intermediate_->certificate());
  auto r = intermediate_only.verify(lsc_from(*intermediate_, 30, now_), now_);
  EXPECT_TRUE(r.ok()) << why(r);
}

TEST_F(ImportedChain, AnExpiredIntermediateIsNamed) {
  TrustStore root_only;
  root_only.add(root_);
  Certificate lsc = lsc_from(*intermediate_, 365, now_);
  auto r = root_only.verify(lsc, now_ + 100 * kDay, {intermediate_->certificate()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expired"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("(at CN=Test"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace capf::crypto::test
