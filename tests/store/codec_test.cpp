#include <gtest/gtest.h>

#include "capf/store/store.hpp"
#include "store_test_util.hpp"

namespace capf::store {
namespace {

using testing::expect_same;
using testing::full_audit;
using testing::full_certificate;
using testing::full_device;

// The envelope a stored value would have if it carried `json` at schema version `version`.
std::string sealed(std::uint8_t version, const std::string& json) {
  return std::string(1, static_cast<char>(version)) + json;
}

TEST(StoreCodec, DeviceRoundTripsEveryField) {
  const Device d = full_device("SEP001122334455");
  const std::string bytes = encode_device(d);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), kSchemaVersion);
  auto back = decode_device(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(*back, d);
}

TEST(StoreCodec, DeviceWithoutCompletesByStaysAbsent) {
  Device d = full_device("SEP001122334455");
  d.completes_by.reset();
  auto back = decode_device(encode_device(d));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(back->completes_by.has_value());
  expect_same(*back, d);
}

TEST(StoreCodec, DefaultDeviceRoundTrips) {
  auto back = decode_device(encode_device(Device{}));
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(*back, Device{});
}

TEST(StoreCodec, DecodingIntoAUsedDeviceLeavesNothingOfItBehind) {
  Device reused = full_device("SEP001122334455");
  Device minimal;
  minimal.name = "SEP0A";
  ASSERT_TRUE(decode_device(encode_device(minimal), reused).ok());
  expect_same(reused, minimal);
  const Device full = full_device("SEPFFFFFFFFFFFF");
  ASSERT_TRUE(decode_device(encode_device(full), reused).ok());
  expect_same(reused, full);
  // A record of a build that knew only the first two fields: the rest are defaults, not leftovers.
  const std::string old = std::string(1, static_cast<char>(kSchemaVersion)) +
                          "\x02\x03SEP\x01"
                          "d";
  ASSERT_TRUE(decode_device(old, reused).ok());
  Device expected;
  expected.name = "SEP";
  expected.description = "d";
  expect_same(reused, expected);
}

TEST(StoreCodec, EveryEnumValueRoundTripsThroughItsText) {
  for (auto op : {CertificateOperation::none, CertificateOperation::install_upgrade, CertificateOperation::delete_lsc,
                  CertificateOperation::troubleshoot})
    for (auto mode :
         {AuthMode::auth_string, AuthMode::null_string, AuthMode::existing_cert_lsc, AuthMode::existing_cert_mic})
      for (auto order : {KeyOrder::rsa_only, KeyOrder::ec_only, KeyOrder::ec_preferred_rsa_backup,
                         KeyOrder::rsa_preferred_ec_backup})
        for (auto status :
             {OperationStatus::none, OperationStatus::pending, OperationStatus::in_progress, OperationStatus::success,
              OperationStatus::failed, OperationStatus::locked, OperationStatus::expired}) {
          Device d;
          d.name = "SEP0000000000AA";
          d.operation = op;
          d.auth_mode = mode;
          d.key_order = order;
          d.status = status;
          auto back = decode_device(encode_device(d));
          ASSERT_TRUE(back.ok()) << back.error().message;
          EXPECT_EQ(back->operation, op);
          EXPECT_EQ(back->auth_mode, mode);
          EXPECT_EQ(back->key_order, order);
          EXPECT_EQ(back->status, status);
        }
  for (auto state : {CertificateState::issued, CertificateState::delivered, CertificateState::stale,
                     CertificateState::replaced, CertificateState::deleted, CertificateState::revoked}) {
    CertificateRecord c;
    c.state = state;
    auto back = decode_certificate(encode_certificate(c));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->state, state);
  }
}

TEST(StoreCodec, EnumsAreStoredAsText) {
  const std::string bytes = encode_device(full_device("SEP001122334455"));
  EXPECT_NE(bytes.find("Install/Upgrade"), std::string::npos);
  EXPECT_NE(bytes.find("in-progress"), std::string::npos);
  EXPECT_NE(encode_certificate(full_certificate("01", "SEP001122334455")).find("\"delivered\""), std::string::npos);
}

// Every field but the DER, which has a value of its own (the version byte and the raw bytes).
TEST(StoreCodec, CertificateRoundTripsEveryFieldAndItsDerApart) {
  CertificateRecord c = full_certificate("7f00aa", "SEP001122334455");
  const std::string record = encode_certificate(c);
  EXPECT_EQ(record.find(c.der_hex), std::string::npos);
  auto der = encode_certificate_der(c.der_hex);
  ASSERT_TRUE(der.ok()) << der.error().message;
  EXPECT_EQ(*der,
            std::string(1, static_cast<char>(kSchemaVersion)) + std::string("\x30\x82\x01\x0a\x02\x82\x01\x01\x00", 9));
  auto back = decode_certificate(record);
  ASSERT_TRUE(back.ok()) << back.error().message;
  auto der_back = decode_certificate_der(*der);
  ASSERT_TRUE(der_back.ok()) << der_back.error().message;
  back->der_hex = *der_back;
  expect_same(*back, c);
  EXPECT_FALSE(encode_certificate_der("3g").ok());
  for (const std::string& bad :
       {std::string(), sealed(2, "\x30\x01"), sealed(static_cast<std::uint8_t>(kSchemaVersion + 1), "\x30\x01")}) {
    auto refused = decode_certificate_der(bad);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("certificate DER value has schema version"), std::string::npos);
  }
}

TEST(StoreCodec, AuditRoundTripsEveryField) {
  const AuditEntry a = full_audit(1'700'000'123, "lsc.issued");
  auto back = decode_audit(encode_audit(a));
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(*back, a);
}

TEST(StoreCodec, AuditTextsKeepNoControlCharacters) {
  AuditEntry a = full_audit(1'700'000'124, "session.refused");
  a.subject = "SEPFORGED\n2026-01-01T00:00:00Z admin config.set x";
  a.detail = "the CA said \"denied\r\n\x1b[2J\"";
  auto back = decode_audit(encode_audit(a));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->subject, "SEPFORGED\\n2026-01-01T00:00:00Z admin config.set x");
  EXPECT_EQ(back->detail, "the CA said \"denied\\r\\n\\x1b[2J\"");
}

TEST(StoreCodec, NegativeAndLargeTimesRoundTrip) {
  const AuditEntry a = full_audit(-5, "x");
  EXPECT_EQ(decode_audit(encode_audit(a))->time, -5);
  Device d;
  d.completes_by = INT64_MAX;
  d.last_seen = INT64_MIN;
  auto back = decode_device(encode_device(d));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->completes_by, INT64_MAX);
  EXPECT_EQ(back->last_seen, INT64_MIN);
}

TEST(StoreCodec, MetaRoundTrips) {
  auto back = decode_meta(encode_meta("42"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "42");
}

TEST(StoreCodec, UnknownVersionByteIsAnIoError) {
  const std::string body = encode_device(full_device("SEP001122334455")).substr(1);
  for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{kSchemaVersion + 1}, std::uint8_t{0xff}}) {
    auto r = decode_device(sealed(v, body));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("schema version " + std::to_string(v)), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(decode_certificate(sealed(9, "{}")).ok());
  EXPECT_FALSE(decode_audit(sealed(9, "{}")).ok());
  EXPECT_FALSE(decode_meta(sealed(9, "\"1\"")).ok());
}

TEST(StoreCodec, MalformedValuesAreIoErrors) {
  for (const std::string& bytes :
       {std::string(), sealed(kSchemaVersion, ""), sealed(kSchemaVersion, "{\"name\":"),
        sealed(kSchemaVersion, "[1,2]"), sealed(kSchemaVersion, "null"), std::string("{\"name\":\"SEP\"}")}) {
    auto r = decode_device(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io);
  }
  auto c = decode_certificate(sealed(kSchemaVersion, "not json"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(decode_audit(sealed(kSchemaVersion, "{")).ok());
  EXPECT_FALSE(decode_meta(sealed(kSchemaVersion, "42")).ok());
}

// A device value as builds before schema version 2 wrote it (JSON); such values still decode.
const std::string kJsonDevice =
    "{\"auth_failures\":2,\"auth_mode\":\"By Authentication String\",\"auth_string\":\"12345\","
    "\"description\":\"d\",\"device_pool\":\"DP-HQ\",\"device_type\":\"Cisco 8841\",\"ec_key_bits\":256,"
    "\"fetched_cert_pem\":\"\",\"ipv4\":\"10.0.0.9\",\"ipv6\":\"\",\"key_order\":\"RSA Only\",\"last_seen\":5,"
    "\"lsc_issuer\":\"\",\"lsc_not_after\":0,\"lsc_serial\":\"\",\"name\":\"SEP001122334455\","
    "\"operation\":\"Install/Upgrade\",\"rsa_key_bits\":2048,\"security_profile\":\"p\","
    "\"status\":\"in-progress\",\"status_reason\":\"\",\"updated_at\":7}";

TEST(StoreCodec, JsonDeviceOfSchemaOneStillDecodes) {
  auto d = decode_device(sealed(1, kJsonDevice));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->name, "SEP001122334455");
  EXPECT_EQ(d->status, OperationStatus::in_progress);
  EXPECT_EQ(d->auth_failures, 2);
  EXPECT_EQ(d->job_id, "");  // added after version 1 values were written
  EXPECT_FALSE(d->completes_by.has_value());
}

TEST(StoreCodec, MissingMistypedOrUnknownJsonFieldsNameTheField) {
  const std::string good = sealed(1, kJsonDevice);

  std::string missing = good;
  missing.replace(missing.find("\"ipv4\""), 6, "\"ipv9\"");
  auto r1 = decode_device(missing);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("'ipv4' is missing"), std::string::npos) << r1.error().message;

  std::string mistyped = good;
  mistyped.replace(mistyped.find("\"auth_failures\":2"), 17, "\"auth_failures\":\"2\"");
  auto r2 = decode_device(mistyped);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("'auth_failures'"), std::string::npos) << r2.error().message;

  std::string unknown = good;
  unknown.replace(unknown.find("\"in-progress\""), 13, "\"sleeping\"");
  auto r3 = decode_device(unknown);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("'status' has unknown value \"sleeping\""), std::string::npos)
      << r3.error().message;

  auto r4 = decode_device(sealed(1, "{\"name\":\"x\",\"rsa_key_bits\":99999999999}"));
  ASSERT_FALSE(r4.ok());
}

TEST(StoreCodec, DamagedBinaryDeviceNamesTheField) {
  const std::string good = encode_device(full_device("SEP001122334455"));
  // Cut anywhere, the record is refused with the field where it ends.
  for (std::size_t n = 1; n < good.size(); ++n) {
    auto r = decode_device(good.substr(0, n));
    ASSERT_FALSE(r.ok()) << "cut at " << n;
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("device value: field '"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("is truncated"), std::string::npos) << r.error().message;
  }
  auto trailing = decode_device(good + "xy");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().message, "device value has 2 bytes after its last field");

  std::string unknown = good;
  unknown.replace(unknown.find("in-progress"), 11, "sleeping!!!");
  auto r = decode_device(unknown);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "device value: field 'status' has unknown value \"sleeping!!!\"");
}

TEST(StoreCodec, BinaryDeviceWithFewerFieldsKeepsDefaultsForTheRest) {
  // A record from a build that knew only the first two fields: field count 2, two texts.
  const std::string old = std::string(1, static_cast<char>(kSchemaVersion)) +
                          "\x02\x03SEP\x01"
                          "d";
  auto d = decode_device(old);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->name, "SEP");
  EXPECT_EQ(d->description, "d");
  EXPECT_EQ(d->rsa_key_bits, Device{}.rsa_key_bits);
  EXPECT_EQ(d->ec_key_bits, Device{}.ec_key_bits);
  EXPECT_EQ(d->auth_mode, Device{}.auth_mode);
}

/// The bytes a build that wrote only the first `fields` fields would have written for `d`: the
/// encoding with its trailing fields cut (the fields after the 24th are a small integer, a
/// short text and, for a device without phone certificates, one zero byte).
std::string written_by_older_build(Device d, int fields) {
  d.phone_certificates.clear();
  std::string bytes = encode_device(d);
  EXPECT_EQ(static_cast<int>(bytes[1]), 27);
  EXPECT_EQ(bytes.back(), '\0');
  if (fields < 27) bytes.pop_back();  // field 27: phone_certificates, none
  const std::string mode(to_string(d.security_mode));
  EXPECT_EQ(bytes.substr(bytes.size() - mode.size() - 1), static_cast<char>(mode.size()) + mode);
  if (fields < 26) bytes.resize(bytes.size() - mode.size() - 1);  // field 26: security_mode
  if (fields < 25) bytes.pop_back();                              // field 25: keygen_failures (< 64)
  bytes[1] = static_cast<char>(fields);
  return bytes;
}

TEST(StoreCodec, RecordOfTheTwentySixFieldBuildHasNoPhoneCertificates) {
  // Builds before Troubleshoot kept what it retrieved wrote 26 fields and kept the one
  // certificate Troubleshoot fetched as PEM: that still reads, beside an empty list.
  Device d = full_device("SEP001122334455");
  auto old = decode_device(written_by_older_build(d, 26));
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_TRUE(old->phone_certificates.empty());
  EXPECT_EQ(old->fetched_cert_pem, d.fetched_cert_pem);
  d.phone_certificates.clear();
  testing::expect_same(*old, d);
}

TEST(StoreCodec, PhoneCertificatesThatDoNotFitAreNamedNotRead) {
  Device d;
  d.phone_certificates = {{PhoneCertificateKind::mic, true, 5, {0x30, 0x01, 0x00}}};
  const std::string good = encode_device(d);
  // Cut inside the DER: truncated.
  auto cut = decode_device(good.substr(0, good.size() - 1));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().message, "device value: field 'phone_certificates' is truncated");
  // A count far past what the bytes can hold.
  std::string many = good;
  many[many.size() - 11] = 0x7f;  // the count, right before "\x03MIC"
  ASSERT_EQ(many.substr(many.size() - 10, 4), "\x03MIC");
  auto counted = decode_device(many);
  ASSERT_FALSE(counted.ok());
  EXPECT_EQ(counted.error().message,
            "device value: field 'phone_certificates' is truncated (127 certificates in 10 bytes)");
  // An unknown kind.
  std::string kind = good;
  kind.replace(kind.size() - 9, 3, "XYZ");
  auto unknown = decode_device(kind);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "device value: field 'phone_certificates' has unknown certificate kind \"XYZ\"");
}

TEST(StoreCodec, RecordOfTheTwentyFourFieldBuildReadsNoKeyGenerationFailures) {
  // The 2026-11-27 build wrote 24 fields; keygen_failures came 25th.
  Device d = full_device("SEP001122334455");
  d.keygen_failures = 3;
  auto old = decode_device(written_by_older_build(d, 24));
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->keygen_failures, 0);
  d.keygen_failures = 0;
  d.phone_certificates.clear();
  d.security_mode = SecurityMode::encrypted;  // derived from "… Standard SIP Secure Profile"
  testing::expect_same(*old, d);
}

TEST(StoreCodec, RecordsWithoutTheDeviceSecurityModeDeriveItFromTheProfileName) {
  // Builds before issue 19 wrote 25 fields and no Device Security Mode.
  Device d = full_device("SEP001122334455");
  for (const auto& [profile, mode] : std::vector<std::pair<std::string, SecurityMode>>{
           {"Cisco 8841 - Standard SIP Secure Profile", SecurityMode::encrypted},
           {"Cisco 8841 - Standard SIP Non-Secure Profile", SecurityMode::non_secure},
           {"Lab - Authenticated", SecurityMode::authenticated},
           {"", SecurityMode::non_secure}}) {
    d.security_profile = profile;
    auto old = decode_device(written_by_older_build(d, 25));
    ASSERT_TRUE(old.ok()) << old.error().message;
    EXPECT_EQ(old->security_mode, mode) << profile;
    EXPECT_EQ(old->keygen_failures, d.keygen_failures);
  }
  // A record that has the field keeps it, whatever the profile says.
  auto now = decode_device(encode_device(d));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->security_mode, SecurityMode::authenticated);
  // Schema-1 JSON devices derive it too (kJsonDevice's profile "p" says nothing: Non Secure).
  auto json = decode_device(sealed(1, kJsonDevice));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->security_mode, SecurityMode::non_secure);
}

TEST(StoreCodec, InvalidUtf8IsReplacedNotThrown) {
  Device d = full_device("SEP001122334455");
  d.description = std::string("bad \xff\xfe bytes");
  std::string bytes;
  ASSERT_NO_THROW(bytes = encode_device(d));
  auto back = decode_device(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->description.rfind("bad ", 0), 0u);
}

TEST(StoreCodec, EscapedAndNonAsciiTextRoundTripsExactly) {
  // The device encoder copies plain ASCII itself and hands every other string to nlohmann.
  for (const std::string& text :
       {std::string("quote \" and backslash \\ here"), std::string("tab\tnewline\ncr\r"),
        std::string("ctrl \x01\x1f del \x7f"), std::string("Z\xc3\xbcrich \xe2\x80\x94 \xf0\x9f\x93\x9e"),
        std::string(), std::string(300, 'x')}) {
    Device d = full_device("SEP001122334455");
    d.description = text;
    d.status_reason = text;
    auto back = decode_device(encode_device(d));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->description, text);
    EXPECT_EQ(back->status_reason, text);
    expect_same(*back, d);
  }
  Device d = full_device("SEP001122334455");
  d.device_pool = std::string("DP-\xff");
  auto back = decode_device(encode_device(d));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->device_pool, "DP-\xef\xbf\xbd");  // U+FFFD, as nlohmann's replace handler writes
}

}  // namespace
}  // namespace capf::store
