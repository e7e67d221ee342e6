#include <gtest/gtest.h>

#include "capf/core/vocabulary.hpp"

using namespace capf;

TEST(Vocabulary, SeedWordsRoundTrip) {
  for (auto op : {CertificateOperation::none, CertificateOperation::install_upgrade, CertificateOperation::delete_lsc,
                  CertificateOperation::troubleshoot})
    EXPECT_EQ(parse_operation(to_string(op)), op);
  for (auto m : {AuthMode::auth_string, AuthMode::null_string, AuthMode::existing_cert_lsc, AuthMode::existing_cert_mic})
    EXPECT_EQ(parse_auth_mode(to_string(m)), m);
  for (auto k : {KeyOrder::rsa_only, KeyOrder::ec_only, KeyOrder::ec_preferred_rsa_backup, KeyOrder::rsa_preferred_ec_backup})
    EXPECT_EQ(parse_key_order(to_string(k)), k);
  EXPECT_EQ(parse_operation("install"), CertificateOperation::install_upgrade);
  EXPECT_EQ(parse_auth_mode("by null string"), AuthMode::null_string);
  EXPECT_FALSE(parse_operation("Reinstall"));
}

TEST(Vocabulary, DeviceNames) {
  EXPECT_TRUE(valid_device_name("SEP001122334455"));
  EXPECT_TRUE(valid_device_name("sepabcdefabcdef"));
  EXPECT_FALSE(valid_device_name("SEP00112233445"));
  EXPECT_FALSE(valid_device_name("SEP00112233445G"));
  EXPECT_TRUE(valid_device_name("CSFjsmith"));
  EXPECT_FALSE(valid_device_name("CSF john"));
  EXPECT_FALSE(valid_device_name(""));
  EXPECT_FALSE(valid_device_name("ABCDEFGHIJKLMNOP"));
}

TEST(Vocabulary, AuthStringsAreFourToTenDigits) {
  EXPECT_TRUE(valid_auth_string("1234"));
  EXPECT_TRUE(valid_auth_string("1234567890"));
  EXPECT_FALSE(valid_auth_string("123"));
  EXPECT_FALSE(valid_auth_string("12345678901"));
  EXPECT_FALSE(valid_auth_string("12a4"));
}

TEST(Vocabulary, SameKeyKindComparesOnlyTheFieldsOfTheAlgorithm) {
  const KeySpec rsa{KeyAlgorithm::rsa, 2048, EcCurve::p384};
  EXPECT_TRUE(same_key_kind(rsa, KeySpec{KeyAlgorithm::rsa, 2048, EcCurve::p256}));
  EXPECT_FALSE(same_key_kind(rsa, KeySpec{KeyAlgorithm::rsa, 3072, EcCurve::p384}));
  const KeySpec ec{KeyAlgorithm::ec, 0, EcCurve::p256};
  EXPECT_TRUE(same_key_kind(ec, KeySpec{KeyAlgorithm::ec, 2048, EcCurve::p256}));
  EXPECT_FALSE(same_key_kind(ec, KeySpec{KeyAlgorithm::ec, 0, EcCurve::p384}));
  EXPECT_FALSE(same_key_kind(ec, rsa));
}

TEST(Vocabulary, DeviceSecurityModeFromTheColumnOrTheProfileName) {
  EXPECT_EQ(parse_security_mode("Non Secure"), SecurityMode::non_secure);
  EXPECT_EQ(parse_security_mode("non-secure"), SecurityMode::non_secure);
  EXPECT_EQ(parse_security_mode(" ENCRYPTED "), SecurityMode::encrypted);
  EXPECT_EQ(parse_security_mode("Authenticated"), SecurityMode::authenticated);
  EXPECT_FALSE(parse_security_mode("secure"));
  for (auto m : {SecurityMode::non_secure, SecurityMode::authenticated, SecurityMode::encrypted})
    EXPECT_EQ(parse_security_mode(to_string(m)), m);
  // The documented rule, used only when a CSV has no Device Security Mode column.
  EXPECT_EQ(security_mode_from_profile("Cisco 8841 - Standard SIP Non-Secure Profile"), SecurityMode::non_secure);
  EXPECT_EQ(security_mode_from_profile("Cisco 8841 - Standard SIP Secure Profile"), SecurityMode::encrypted);
  EXPECT_EQ(security_mode_from_profile("Lab NONSECURE"), SecurityMode::non_secure);
  EXPECT_EQ(security_mode_from_profile("Branch Encrypted TFTP"), SecurityMode::encrypted);
  EXPECT_EQ(security_mode_from_profile("Universal - Authenticated"), SecurityMode::authenticated);
  EXPECT_EQ(security_mode_from_profile("Universal - Authentication only"), SecurityMode::authenticated);
  EXPECT_EQ(security_mode_from_profile(""), SecurityMode::non_secure);
  EXPECT_EQ(security_mode_from_profile("Standard SIP Profile"), SecurityMode::non_secure);
  EXPECT_FALSE(auth_string_refusal(SecurityMode::non_secure));
  ASSERT_TRUE(auth_string_refusal(SecurityMode::encrypted));
  EXPECT_NE(auth_string_refusal(SecurityMode::authenticated)->find("Device Security Mode Authenticated"), std::string::npos);
}
