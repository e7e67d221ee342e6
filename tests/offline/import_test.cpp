// Offline CA import: each certificate matched to its CSR by public key and checked (chain to
// CAPF-trust, key usage, validity, CN), bad files reported one by one, good ones recorded.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "capf/ca_offline/offline.hpp"
#include "capf/trust/trust.hpp"
#include "test_pki.hpp"

namespace capf::offline {
namespace {

using namespace capf::testpki;

InputFile file_of(const std::string& name, const crypto::Bytes& data) { return {name, data}; }
InputFile pem_file(const std::string& name, const std::vector<crypto::Certificate>& certs) {
  std::string text;
  for (const auto& c : certs) text += c.to_pem();
  return {name, bytes_of(text)};
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Only the root is uploaded: the issuing CA must come with the certificates.
    std::string pem = root.certificate().to_pem();
    must(trust::upload(*store, trust::Kind::capf_trust, bytes_of(pem), "Other Team Root", "admin", kNow));
    ts = std::make_unique<crypto::TrustStore>(must(trust::capf_trust(*store)));
  }
  ImportReport run(const std::vector<InputFile>& files, std::size_t batch = 1000) {
    return must(import_certificates(*store, *ts, files, "admin", kNow, batch));
  }
  CsrRecord csr_of(const Phone& p) { return must(decode_csr(*must(store->get_doc(store::Family::csrs, p.csr.id)))); }

  TempStore store;
  crypto::CertificateAuthority root = make_root("Other Team Root CA");
  crypto::CertificateAuthority sub = make_intermediate(root, "Other Team Issuing CA");
  std::unique_ptr<crypto::TrustStore> ts;
};

TEST_F(ImportTest, AcceptsACertificateAndRecordsItForDelivery) {
  auto phone = add_phone(*store, "SEP00000000A001");
  auto cert = sign_phone(sub, phone.device, phone.spki());
  auto report = run({pem_file("a001.pem", {cert, sub.certificate()})});
  EXPECT_EQ(report.imported, 1u);
  EXPECT_EQ(report.failed, 0u);
  ASSERT_EQ(report.devices, std::vector<std::string>{phone.device});
  auto rec = must(store->get_certificate(cert.serial_hex()));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->state, CertificateState::issued);
  EXPECT_EQ(rec->device, phone.device);
  EXPECT_EQ(rec->der_hex, util::to_hex(cert.to_der()));
  EXPECT_EQ(rec->issuer, sub.certificate().subject());
  EXPECT_EQ(rec->not_after, cert.not_after());
  auto csr = csr_of(phone);
  EXPECT_EQ(csr.state, CsrState::issued);
  EXPECT_EQ(csr.serial, cert.serial_hex());
  bool audited = false;
  for (const auto& a : must(store->list_audit())) audited |= a.action == "offline.imported" && a.subject == phone.device;
  EXPECT_TRUE(audited);
}

TEST_F(ImportTest, RefusesAWrongCaAndKeepsTheReasonOnTheCsr) {
  auto phone = add_phone(*store, "SEP00000000A002");
  auto stranger = make_root("Someone Else CA");
  auto report = run({pem_file("wrong-ca.pem", {sign_phone(stranger, phone.device, phone.spki())})});
  EXPECT_EQ(report.failed, 1u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].file, "wrong-ca.pem");
  EXPECT_NE(report.problems[0].subject.find(phone.device), std::string::npos);
  EXPECT_NE(report.problems[0].reason.find("does not chain to CAPF-trust"), std::string::npos) << report.problems[0].reason;
  auto csr = csr_of(phone);
  EXPECT_EQ(csr.state, CsrState::pending);
  EXPECT_NE(csr.error.find("does not chain"), std::string::npos) << csr.error;
}

TEST_F(ImportTest, RefusesAWrongKeyAndACertificateWithoutACsr) {
  auto phone = add_phone(*store, "SEP00000000A003");
  auto other_key = must(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256}));
  auto wrong_key = sign_phone(sub, phone.device, other_key.public_key_der());
  auto nobody = sign_phone(sub, "SEP00000000FFFF", other_key.public_key_der());
  auto report = run({pem_file("wrong-key.pem", {wrong_key, sub.certificate()}), pem_file("nobody.pem", {nobody})});
  EXPECT_EQ(report.failed, 2u);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_NE(report.problems[0].reason.find("not the key of SEP00000000A003"), std::string::npos) << report.problems[0].reason;
  EXPECT_NE(report.problems[1].reason.find("no pending CSR"), std::string::npos) << report.problems[1].reason;
  EXPECT_NE(csr_of(phone).error.find("public key"), std::string::npos);
}

TEST_F(ImportTest, RefusesExpiredMissingKeyUsageAndWrongCommonName) {
  auto a = add_phone(*store, "SEP00000000A004");
  auto b = add_phone(*store, "SEP00000000A005");
  auto c = add_phone(*store, "SEP00000000A006");
  Defects expired;
  expired.expired = true;
  Defects no_ke;
  no_ke.key_usage = "critical,digitalSignature";
  Defects wrong_cn;
  wrong_cn.cn = "somebody-else";
  auto report = run({pem_file("expired.pem", {sign_phone(sub, a.device, a.spki(), expired), sub.certificate()}),
                     pem_file("no-ke.pem", {sign_phone(sub, b.device, b.spki(), no_ke), sub.certificate()}),
                     pem_file("cn.pem", {sign_phone(sub, c.device, c.spki(), wrong_cn), sub.certificate()})});
  EXPECT_EQ(report.imported, 0u);
  ASSERT_EQ(report.problems.size(), 3u);
  EXPECT_NE(report.problems[0].reason.find("expired on"), std::string::npos) << report.problems[0].reason;
  EXPECT_NE(report.problems[1].reason.find("lacks keyEncipherment"), std::string::npos) << report.problems[1].reason;
  EXPECT_NE(report.problems[2].reason.find("Common Name \"somebody-else\""), std::string::npos) << report.problems[2].reason;
  for (const auto* p : {&a, &b, &c}) EXPECT_EQ(csr_of(*p).state, CsrState::pending);
}

TEST_F(ImportTest, TheSameCertificateTwiceIsHarmless) {
  auto phone = add_phone(*store, "SEP00000000A007");
  auto f = pem_file("a007.pem", {sign_phone(sub, phone.device, phone.spki()), sub.certificate()});
  auto first = run({f, f});
  EXPECT_EQ(first.imported, 1u);
  EXPECT_EQ(first.already, 1u);
  EXPECT_EQ(first.failed, 0u);
  auto second = run({f});
  EXPECT_EQ(second.imported, 0u);
  EXPECT_EQ(second.already, 1u);
  EXPECT_EQ(second.failed, 0u);
  // Another certificate for an answered CSR is refused, naming the first one.
  auto again = run({pem_file("other.pem", {sign_phone(sub, phone.device, phone.spki()), sub.certificate()})});
  ASSERT_EQ(again.problems.size(), 1u);
  EXPECT_NE(again.problems[0].reason.find("already answered"), std::string::npos) << again.problems[0].reason;
}

TEST_F(ImportTest, ReadsDerAndPkcs7AndReportsUnreadableFiles) {
  auto a = add_phone(*store, "SEP00000000A008");
  auto b = add_phone(*store, "SEP00000000A009");
  // DER of the leaf alone cannot chain (the issuing CA is not in CAPF-trust) …
  auto der_only = run({file_of("a.der", sign_phone(sub, a.device, a.spki()).to_der())});
  EXPECT_EQ(der_only.failed, 1u);
  // … a PKCS#7 bundle with its issuing CA can; so can a DER leaf signed by the root itself.
  auto p7 = must(crypto::pkcs7_der({sub.certificate(), sign_phone(sub, a.device, a.spki())}));
  auto report = run({file_of("a.p7b", p7), file_of("b.cer", sign_phone(root, b.device, b.spki()).to_der()),
                     file_of("junk.bin", bytes_of("garbage"))});
  EXPECT_EQ(report.imported, 2u);
  EXPECT_EQ(report.failed, 1u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].file, "junk.bin");
  EXPECT_TRUE(report.problems[0].subject.empty());
}

TEST_F(ImportTest, AHundredCertificatesInOneBundleInSeveralBatches) {
  std::vector<crypto::Certificate> bundle{sub.certificate()};
  std::vector<Phone> phones;
  for (int i = 0; i < 100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "SEP0000000B%04d", i);
    phones.push_back(add_phone(*store, name));
    bundle.push_back(sign_phone(sub, phones.back().device, phones.back().spki()));
  }
  auto p7 = must(crypto::pkcs7_der(bundle));
  auto report = run({file_of("round-001.p7b", p7)}, 7);
  EXPECT_EQ(report.imported, 100u);
  EXPECT_EQ(report.failed, 0u);
  EXPECT_EQ(report.devices.size(), 100u);
  for (const auto& p : phones) EXPECT_EQ(csr_of(p).state, CsrState::issued) << p.device;
  std::size_t issued = 0;
  must(store->for_each_certificate([&](const CertificateRecord& c) { issued += c.state == CertificateState::issued; return true; }));
  EXPECT_EQ(issued, 100u);
}

TEST_F(ImportTest, DirectoriesAreWalkedRecursivelySkippingManifestsAndCsrs) {
  auto a = add_phone(*store, "SEP00000000A010");
  auto b = add_phone(*store, "SEP00000000A011");
  const std::string dir = store.dir() + "/answers";
  std::filesystem::create_directories(dir + "/nested");
  std::ofstream(dir + "/a.pem") << sign_phone(root, a.device, a.spki()).to_pem();
  std::ofstream(dir + "/nested/b.crt") << sign_phone(root, b.device, b.spki()).to_pem();
  std::ofstream(dir + "/manifest.csv") << "device,job\n";
  std::ofstream(dir + "/SEP00000000A010.csr.pem") << "-----BEGIN CERTIFICATE REQUEST-----\n";
  auto paths = must(expand_paths({dir}));
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], dir + "/a.pem");
  EXPECT_EQ(paths[1], dir + "/nested/b.crt");
  auto missing = expand_paths({dir + "/nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nope"), std::string::npos);
}

}  // namespace
}  // namespace capf::offline

namespace capf::offline {
namespace {

// Manual measurement (not a timed assertion): CAPF_IMPORT_N certificates (default 10,000) in one
// PKCS#7 bundle. Run with --gtest_also_run_disabled_tests --gtest_filter='*ManyCertificates*'.
TEST(ImportScale, DISABLED_ManyCertificatesImportInOnePass) {
  using namespace capf::testpki;
  const char* env = std::getenv("CAPF_IMPORT_N");
  const int n = env ? std::atoi(env) : 10000;
  TempStore store;
  auto root = make_root("Scale Root");
  must(trust::upload(*store, trust::Kind::capf_trust, bytes_of(root.certificate().to_pem()), "", "admin", kNow));
  auto ts = must(trust::capf_trust(*store));
  // One key for every phone would collide in the key map; distinct keys are what phones have.
  std::vector<crypto::Certificate> bundle;
  store::Transition t;
  for (int i = 0; i < n; ++i) {
    auto key = must(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256}));
    const std::string device = "SEP" + std::to_string(100000000000 + i);
    auto der = must(crypto::make_csr(key, device));
    CsrRecord c;
    c.id = crypto::sha256_hex(der);
    c.device = device;
    c.issuer = IssuerKind::offline_ca;
    c.key = "EC-P256";
    c.csr_der_hex = util::to_hex(der);
    c.spki_sha256 = crypto::sha256_hex(key.public_key_der());
    c.created_at = kNow - 60;
    t.put_docs.push_back({store::Family::csrs, c.id, encode_csr(c)});
    bundle.push_back(sign_phone(root, device, key.public_key_der()));
  }
  ASSERT_TRUE(store->apply(t).ok());
  auto p7 = must(crypto::pkcs7_der(bundle));
  const auto start = std::chrono::steady_clock::now();
  auto report = must(import_certificates(*store, ts, {{"all.p7b", p7}}, "admin", kNow));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(report.imported, static_cast<std::size_t>(n));
  std::printf("imported %d certificates in %.2f s (%.0f per second)\n", n, s, n / s);
}

}  // namespace
}  // namespace capf::offline
