// CAPF-trust and CallManager-trust: uploads in every file form, the CAPF- refusal, duplicates,
// deletes, MIC roots, and the trust store the daemon builds from them.
#include "capf/trust/trust.hpp"

#include <gtest/gtest.h>

#include "test_pki.hpp"

namespace capf::trust {
namespace {

using namespace capf::testpki;

crypto::Bytes pem_bundle(const std::vector<crypto::Certificate>& certs) {
  std::string text;
  for (const auto& c : certs) text += c.to_pem();
  return bytes_of(text);
}

class TrustTest : public ::testing::Test {
 protected:
  TempStore store;
  crypto::CertificateAuthority root = make_root("Other Team Root CA");
  crypto::CertificateAuthority sub = make_intermediate(root, "Other Team Issuing CA");
};

TEST_F(TrustTest, RefusesACaWhoseCommonNameContainsCapf) {
  auto capf_like = make_root("CAPF-1234abcd");
  auto r = upload(*store, Kind::capf_trust, pem_bundle({capf_like.certificate()}), "other cluster", "admin", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().message.find("'CAPF-'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("reserved for CAPF certificates"), std::string::npos) << r.error().message;
  // A chain that holds one such CA is refused whole.
  auto chain = upload(*store, Kind::capf_trust, pem_bundle({root.certificate(), capf_like.certificate()}), "", "admin", kNow);
  EXPECT_FALSE(chain.ok());
  EXPECT_TRUE(must(list(*store)).empty());
}

TEST_F(TrustTest, UploadsAChainAsOneEntryPerCertificateWithTheSeedsAdvice) {
  auto r = must(upload(*store, Kind::capf_trust, pem_bundle({sub.certificate(), root.certificate()}),
                       "Certificate for External LSC-Signing CA", "admin", kNow));
  EXPECT_EQ(r.added.size(), 2u);
  EXPECT_TRUE(r.already.empty());
  ASSERT_EQ(r.notes.size(), 1u);  // the root belongs in CallManager-trust too
  EXPECT_NE(r.notes[0].find("callmanager-trust"), std::string::npos) << r.notes[0];
  auto entries = must(list(*store, Kind::capf_trust));
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    EXPECT_EQ(e.description, "Certificate for External LSC-Signing CA");
    EXPECT_EQ(e.origin, Origin::upload);
    EXPECT_EQ(e.id, e.fingerprint.substr(0, 16));
    EXPECT_EQ(e.added_by, "admin");
    EXPECT_TRUE(e.ca);
  }
  EXPECT_TRUE(must(list(*store, Kind::callmanager_trust)).empty());
  // Into CallManager-trust as well: no advice left.
  auto cm = must(upload(*store, Kind::callmanager_trust, pem_bundle({root.certificate()}), "", "admin", kNow));
  EXPECT_EQ(cm.added.size(), 1u);
  EXPECT_TRUE(cm.notes.empty());
}

TEST_F(TrustTest, DuplicatesAreHarmless) {
  auto bundle = pem_bundle({root.certificate(), root.certificate()});
  auto first = must(upload(*store, Kind::capf_trust, bundle, "", "admin", kNow));
  EXPECT_EQ(first.added.size(), 1u);
  auto second = must(upload(*store, Kind::capf_trust, bundle, "again", "admin", kNow));
  EXPECT_TRUE(second.added.empty());
  EXPECT_EQ(second.already.size(), 2u);
  auto entries = must(list(*store));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].description, "");  // the first upload's entry is left as it was
}

TEST_F(TrustTest, AcceptsDerAndPkcs7InDerAndPem) {
  auto der = root.certificate().to_der();
  EXPECT_EQ(must(upload(*store, Kind::capf_trust, der, "der", "admin", kNow)).added.size(), 1u);
  auto p7 = must(crypto::pkcs7_der({root.certificate(), sub.certificate()}));
  EXPECT_EQ(must(upload(*store, Kind::callmanager_trust, p7, "p7b", "admin", kNow)).added.size(), 2u);
  const std::string b64 = crypto::base64_encode(p7);
  std::string p7_pem = "-----BEGIN PKCS7-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) p7_pem += b64.substr(i, 64) + "\n";
  p7_pem += "-----END PKCS7-----\n";
  auto third = make_root("Third Root");
  auto mixed = p7_pem + third.certificate().to_pem();
  auto r = must(upload(*store, Kind::capf_trust, bytes_of(mixed), "pem p7", "admin", kNow));
  EXPECT_EQ(r.added.size(), 2u);   // the intermediate and the third root
  EXPECT_EQ(r.already.size(), 1u); // the root came in as DER before
  auto bad = upload(*store, Kind::capf_trust, bytes_of("not a certificate"), "", "admin", kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("PEM, DER or PKCS#7"), std::string::npos) << bad.error().message;
}

TEST_F(TrustTest, RefusesExpiredCertificates) {
  auto r = upload(*store, Kind::capf_trust, pem_bundle({root.certificate()}), "", "admin", kNow + 4000 * kDay);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expired"), std::string::npos) << r.error().message;
}

TEST_F(TrustTest, DeletesByIdAndAudits) {
  must(upload(*store, Kind::capf_trust, pem_bundle({root.certificate(), sub.certificate()}), "", "admin", kNow));
  must(upload(*store, Kind::callmanager_trust, pem_bundle({root.certificate()}), "", "admin", kNow));
  const std::string id = root.certificate().sha256_fingerprint().substr(0, 16);
  auto ambiguous = remove(*store, id, std::nullopt, "admin", kNow);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error().message.find("--store"), std::string::npos);
  auto gone = must(remove(*store, id, Kind::callmanager_trust, "admin", kNow));
  EXPECT_EQ(gone.store, Kind::callmanager_trust);
  EXPECT_TRUE(must(list(*store, Kind::callmanager_trust)).empty());
  EXPECT_EQ(must(list(*store, Kind::capf_trust)).size(), 2u);
  must(remove(*store, id, std::nullopt, "admin", kNow));  // now only in CAPF-trust
  auto missing = remove(*store, id, std::nullopt, "admin", kNow);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto audit = must(store->list_audit());
  std::size_t deletes = 0;
  for (const auto& a : audit) deletes += a.action == "trust.delete";
  EXPECT_EQ(deletes, 2u);
}

TEST_F(TrustTest, MicRootsAreSeededOnceAndCanBeDeletedAndReAdded) {
  auto mic = make_root("Cisco Manufacturing CA (test)");
  EXPECT_EQ(must(add_mic_roots(*store, {mic.certificate()}, kNow)), 1u);
  EXPECT_EQ(must(add_mic_roots(*store, {mic.certificate()}, kNow)), 0u);  // a restart
  auto entries = must(list(*store, Kind::capf_trust));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].origin, Origin::mic_root);
  must(remove(*store, entries[0].id, std::nullopt, "admin", kNow));
  EXPECT_EQ(must(add_mic_roots(*store, {mic.certificate()}, kNow)), 0u);  // stays deleted across restarts
  EXPECT_TRUE(must(list(*store)).empty());
  auto back = must(upload(*store, Kind::capf_trust, pem_bundle({mic.certificate()}), "MIC root", "admin", kNow));
  ASSERT_EQ(back.added.size(), 1u);
  EXPECT_EQ(back.added[0].origin, Origin::mic_root);
}

TEST_F(TrustTest, CapfTrustVerifiesWhatItHoldsPlusTheCapfCa) {
  auto phone = sign_phone(sub, "SEP000000000001", ec_key().public_key_der());
  auto capf_ca = make_root("CAPF-test");
  auto empty = must(capf_trust(*store, &capf_ca.certificate()));
  EXPECT_EQ(empty.size(), 1u);
  EXPECT_FALSE(empty.verify(phone, kNow, {sub.certificate()}).ok());
  must(upload(*store, Kind::capf_trust, pem_bundle({root.certificate()}), "", "admin", kNow));
  must(upload(*store, Kind::callmanager_trust, pem_bundle({sub.certificate()}), "", "admin", kNow));
  auto ts = must(capf_trust(*store, &capf_ca.certificate()));
  EXPECT_EQ(ts.size(), 2u);  // CallManager-trust is not CAPF's
  EXPECT_TRUE(ts.verify(phone, kNow, {sub.certificate()}).ok());
  EXPECT_FALSE(ts.verify(phone, kNow).ok());  // the intermediate is not in CAPF-trust
}

TEST(TrustKind, ParsesTheSeedsNamesAndShortForms) {
  EXPECT_EQ(parse_kind("CAPF-trust"), Kind::capf_trust);
  EXPECT_EQ(parse_kind("callmanager-trust"), Kind::callmanager_trust);
  EXPECT_EQ(parse_kind("CallManager"), Kind::callmanager_trust);
  EXPECT_FALSE(parse_kind("tomcat-trust"));
  EXPECT_EQ(to_string(Kind::callmanager_trust), "CallManager-trust");
}

}  // namespace
}  // namespace capf::trust
