#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

// The test CAs are made at the wall clock, so issuance happens at the wall clock too.
const util::UnixTime kNow = util::now();

// The LSC profile (capf-protocol.md §5.4), read with OpenSSL directly.
void expect_lsc_profile(const CertificateAuthority& ca, const Certificate& lsc, const std::string& device,
                        const Bytes& spki, int days, util::UnixTime now) {
  auto x = parse(lsc);
  auto issuer = parse(ca.certificate());
  ASSERT_TRUE(x && issuer);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(lsc.subject_cn(), device);
  EXPECT_EQ(lsc.subject(), "CN=" + device + ",O=capf");
  // Issuer is the CA's SUBJECT (capfd's bug used the issuer's issuer).
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(x.get()), X509_get_subject_name(issuer.get())), 0);
  EXPECT_EQ(X509_check_issued(issuer.get(), x.get()), X509_V_OK);
  EXPECT_EQ(X509_verify(x.get(), X509_get0_pubkey(issuer.get())), 1);

  const ASN1_INTEGER* serial = X509_get0_serialNumber(x.get());
  EXPECT_EQ(serial->type, V_ASN1_INTEGER);
  EXPECT_LE(serial->length, 16);
  EXPECT_GE(serial->length, 8);
  EXPECT_FALSE(lsc.serial_hex().empty());
  EXPECT_NE(lsc.serial_hex(), "0");

  bool ec_ca = ca.key().spec().algorithm == KeyAlgorithm::ec;
  EXPECT_EQ(X509_get_signature_nid(x.get()), ec_ca ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption);

  EXPECT_EQ(criticality(x.get(), NID_basic_constraints), 1);
  EXPECT_EQ(basic_constraints(x.get()).first, 0);
  EXPECT_EQ(criticality(x.get(), NID_key_usage), 1);
  EXPECT_EQ(key_usage_bits(x.get()), kDigitalSignature | kKeyEncipherment);
  EXPECT_EQ(ext_key_usages(x.get()), (std::vector<int>{NID_server_auth, NID_client_auth}));
  EXPECT_EQ(octets(X509_get0_subject_key_id(x.get())).size(), 20u);
  EXPECT_EQ(octets(X509_get0_authority_key_id(x.get())), octets(X509_get0_subject_key_id(issuer.get())));

  auto* san = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(san, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(san), 1);
  int type = 0;
  auto* uri = static_cast<ASN1_IA5STRING*>(GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(san, 0), &type));
  EXPECT_EQ(type, GEN_URI);
  EXPECT_EQ(octets(uri), device);
  GENERAL_NAMES_free(san);

  EXPECT_EQ(lsc.not_before(), now - 300);
  EXPECT_EQ(lsc.not_after(), now + static_cast<util::UnixTime>(days) * 86400);
  EXPECT_EQ(seconds_between(X509_get0_notBefore(x.get()), X509_get0_notAfter(x.get())),
            static_cast<long long>(days) * 86400 + 300);
  EXPECT_EQ(lsc.public_key_der(), spki);

  TrustStore trust;
  trust.add(ca.certificate());
  auto verified = trust.verify(lsc, now);
  EXPECT_TRUE(verified.ok()) << (verified.ok() ? "" : verified.error().message);
}

class IssueLsc : public ::testing::TestWithParam<KeySpec> {};

TEST_P(IssueLsc, FollowsTheLscProfileForEveryPhoneKey) {
  const KeySpec spec = GetParam();
  const auto& ca = cached_ca();
  Bytes spki = cached_key(spec).public_key_der();
  auto lsc = ca.issue_lsc("SEP001122334455", spki, 1825, kNow);
  ASSERT_TRUE(lsc.ok()) << lsc.error().message;
  expect_lsc_profile(ca, *lsc, "SEP001122334455", spki, 1825, kNow);
  EXPECT_EQ(lsc->key_spec(), spec);

  auto again = ca.issue_lsc("SEP001122334455", spki, 1825, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->serial_hex(), lsc->serial_hex());
}

INSTANTIATE_TEST_SUITE_P(PhoneKeys, IssueLsc,
                         ::testing::Values(rsa(1024), rsa(2048), rsa(3072), rsa(4096), ec(EcCurve::p256),
                                           ec(EcCurve::p384), ec(EcCurve::p521)),
                         [](const auto& info) {
                           std::string name = to_string(info.param);
                           std::erase(name, '-');
                           return name;
                         });

TEST(IssueLscFromEcCa, SignsWithEcdsaSha256) {
  const auto& ca = cached_ca(ec(EcCurve::p384));
  Bytes spki = cached_key(rsa(2048)).public_key_der();
  auto lsc = ca.issue_lsc("SEPAABBCCDDEEFF", spki, 1, kNow);
  ASSERT_TRUE(lsc.ok()) << lsc.error().message;
  expect_lsc_profile(ca, *lsc, "SEPAABBCCDDEEFF", spki, 1, kNow);
}

TEST(IssueLscValidity, ZeroAnd1826DaysAreRefusedWithTheFieldName) {
  Bytes spki = cached_key(ec(EcCurve::p256)).public_key_der();
  for (int days : {0, 1826, -5}) {
    auto r = cached_ca().issue_lsc("SEP001122334455", spki, days, kNow);
    ASSERT_FALSE(r.ok()) << days;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().message,
              "Duration of Certificate Validity must be 1–1825 days, got " + std::to_string(days));
  }
}

TEST(IssueLscInput, GarbageSpkiIsRefused) {
  Bytes garbage = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad};
  auto r = cached_ca().issue_lsc("SEP001122334455", garbage, 365, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find("public key"), std::string::npos) << r.error().message;
  EXPECT_FALSE(cached_ca().issue_lsc("SEP001122334455", {}, 365, kNow).ok());
}

TEST(IssueLscInput, EmptyOrOverlongNameIsRefused) {
  Bytes spki = cached_key(ec(EcCurve::p256)).public_key_der();
  EXPECT_FALSE(cached_ca().issue_lsc("", spki, 365, kNow).ok());
  EXPECT_FALSE(cached_ca().issue_lsc(std::string(65, 'A'), spki, 365, kNow).ok());
}

TEST(IssueMic, HasTheSameProfileWithAnyValidity) {
  CaOptions options;
  options.key = ec(EcCurve::p256);
  options.common_name = "Simulated Manufacturing CA";
  auto mfg = CertificateAuthority::create(options);
  ASSERT_TRUE(mfg.ok()) << mfg.error().message;
  Bytes spki = cached_key(rsa(2048)).public_key_der();
  auto mic = mfg->issue_mic("CP-8841-SEP001122334455", spki, 3650, kNow);
  ASSERT_TRUE(mic.ok()) << mic.error().message;
  expect_lsc_profile(*mfg, *mic, "CP-8841-SEP001122334455", spki, 3650, kNow);
  auto bad = mfg->issue_mic("x", spki, 0, kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST(IssueMic, NameWithPunctuationGetsNoUriButAnExactCn) {
  Bytes spki = cached_key(ec(EcCurve::p256)).public_key_der();
  auto mic = cached_ca().issue_mic("Phone, model=8841", spki, 10, kNow);
  ASSERT_TRUE(mic.ok()) << mic.error().message;
  EXPECT_EQ(mic->subject_cn(), "Phone, model=8841");
  auto x = parse(*mic);
  EXPECT_EQ(criticality(x.get(), NID_subject_alt_name), -1);
}

}  // namespace
}  // namespace capf::crypto::test
