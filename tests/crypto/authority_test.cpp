#include <sys/stat.h>

#include <regex>

#include "capf/util/files.hpp"
#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// Every property of the CAPF CA profile (capf-protocol.md §1), read with OpenSSL directly.
void expect_ca_profile(const CertificateAuthority& ca, const KeySpec& spec, int validity_days) {
  const Certificate& cert = ca.certificate();
  auto x = parse(cert);
  ASSERT_TRUE(x);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())), 0);
  EXPECT_EQ(X509_check_issued(x.get(), x.get()), X509_V_OK);
  EXPECT_EQ(X509_verify(x.get(), X509_get0_pubkey(x.get())), 1);
  int sig = X509_get_signature_nid(x.get());
  EXPECT_EQ(sig, spec.algorithm == KeyAlgorithm::rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);

  const ASN1_INTEGER* serial = X509_get0_serialNumber(x.get());
  EXPECT_EQ(serial->type, V_ASN1_INTEGER);  // positive
  EXPECT_LE(serial->length, 16);
  EXPECT_GE(serial->length, 8);

  EXPECT_EQ(criticality(x.get(), NID_basic_constraints), 1);
  EXPECT_EQ(basic_constraints(x.get()), (std::pair<int, long>{1, 0}));
  EXPECT_EQ(criticality(x.get(), NID_key_usage), 1);
  EXPECT_EQ(key_usage_bits(x.get()), kKeyCertSign | kCrlSign | kDigitalSignature);
  EXPECT_EQ(ext_key_usages(x.get()), (std::vector<int>{NID_server_auth, NID_client_auth}));
  EXPECT_EQ(criticality(x.get(), NID_subject_key_identifier), 0);
  EXPECT_EQ(criticality(x.get(), NID_authority_key_identifier), 0);
  std::string ski = octets(X509_get0_subject_key_id(x.get()));
  EXPECT_EQ(ski.size(), 20u);
  EXPECT_EQ(octets(X509_get0_authority_key_id(x.get())), ski);

  EXPECT_EQ(seconds_between(X509_get0_notBefore(x.get()), X509_get0_notAfter(x.get())),
            static_cast<long long>(validity_days) * 86400 + 300);
  EXPECT_NEAR(static_cast<double>(cert.not_before()), static_cast<double>(util::now() - 300), 60);

  EXPECT_EQ(cert.key_spec(), spec);
  EXPECT_EQ(ca.key().spec(), spec);
  auto pair = CertificateAuthority::from_pem(cert.to_pem(), ca.key().to_pem());
  EXPECT_TRUE(pair.ok()) << (pair.ok() ? "" : pair.error().message);
}

TEST(CertificateAuthority, CreatesRsa2048CaWithTheFullProfile) {
  const auto& ca = cached_ca(rsa(2048));
  expect_ca_profile(ca, rsa(2048), 3650);
  EXPECT_EQ(ca.certificate().subject(), "CN=CAPF-test-RSA-2048,O=capf");
}

TEST(CertificateAuthority, CreatesP256CaWithTheFullProfile) {
  expect_ca_profile(cached_ca(ec(EcCurve::p256)), ec(EcCurve::p256), 3650);
}

TEST(CertificateAuthority, CreatesP384CaWithTheFullProfile) {
  expect_ca_profile(cached_ca(ec(EcCurve::p384)), ec(EcCurve::p384), 3650);
}

TEST(CertificateAuthority, DefaultNameIsCapfWithEightHexDigits) {
  CaOptions options;
  options.key = ec(EcCurve::p256);
  options.organization = "Example Corp";
  options.validity_days = 30;
  auto ca = CertificateAuthority::create(options);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  EXPECT_TRUE(std::regex_match(ca->certificate().subject_cn(), std::regex("CAPF-[0-9a-f]{8}")))
      << ca->certificate().subject_cn();
  EXPECT_NE(ca->certificate().subject().find(",O=Example Corp"), std::string::npos);
  expect_ca_profile(*ca, ec(EcCurve::p256), 30);
}

TEST(CertificateAuthority, RejectsUnsupportedCaKeysAndValidity) {
  for (const KeySpec& spec : {rsa(1024), ec(EcCurve::p521)}) {
    CaOptions options;
    options.key = spec;
    auto ca = CertificateAuthority::create(options);
    ASSERT_FALSE(ca.ok()) << to_string(spec);
    EXPECT_EQ(ca.error().code, Errc::invalid_argument);
  }
  CaOptions options;
  options.key = ec(EcCurve::p256);
  options.validity_days = 0;
  auto ca = CertificateAuthority::create(options);
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, Errc::invalid_argument);
}

TEST(CertificateAuthority, LoadOrCreateWritesPrivateFilesAndReloadsTheSameCa) {
  TempDir tmp;
  std::string dir = tmp.file("ca/nested");
  CaOptions options;
  options.key = ec(EcCurve::p256);
  auto first = CertificateAuthority::load_or_create(dir, options);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir + "/capf-ca.key"), 0600u);
  EXPECT_EQ(mode_of(dir + "/capf-ca.pem"), 0644u);
  EXPECT_EQ(*util::read_file(dir + "/capf-ca.pem"), first->certificate().to_pem());

  options.key = rsa(2048);  // ignored: the CA on disk wins
  auto second = CertificateAuthority::load_or_create(dir, options);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->certificate().to_der(), first->certificate().to_der());
  EXPECT_EQ(second->key().public_key_der(), first->key().public_key_der());
  EXPECT_EQ(second->key().spec(), ec(EcCurve::p256));
}

TEST(CertificateAuthority, MismatchedKeyOnDiskIsAnError) {
  TempDir tmp;
  CaOptions options;
  options.key = ec(EcCurve::p256);
  ASSERT_TRUE(CertificateAuthority::load_or_create(tmp.path(), options).ok());
  ASSERT_TRUE(util::write_file_atomic(tmp.file("capf-ca.key"), cached_key(ec(EcCurve::p256)).to_pem(), 0600).ok());
  auto r = CertificateAuthority::load_or_create(tmp.path(), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos) << r.error().message;

  auto direct = CertificateAuthority::from_pem(cached_ca().certificate().to_pem(), cached_key(rsa(2048)).to_pem());
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message.find("does not match"), std::string::npos);
}

TEST(CertificateAuthority, HalfACaOnDiskIsNotOverwritten) {
  TempDir tmp;
  ASSERT_TRUE(util::write_file_atomic(tmp.file("capf-ca.pem"), cached_ca().certificate().to_pem(), 0644).ok());
  auto r = CertificateAuthority::load_or_create(tmp.path(), CaOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("capf-ca.key"), std::string::npos) << r.error().message;
  EXPECT_FALSE(util::exists(tmp.file("capf-ca.key")));
}

TEST(CertificateAuthority, CorruptFileOnDiskNamesThePath) {
  TempDir tmp;
  ASSERT_TRUE(util::write_file_atomic(tmp.file("capf-ca.pem"), "garbage", 0644).ok());
  ASSERT_TRUE(util::write_file_atomic(tmp.file("capf-ca.key"), "garbage", 0600).ok());
  auto r = CertificateAuthority::load_or_create(tmp.path(), CaOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(tmp.path()), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace capf::crypto::test
