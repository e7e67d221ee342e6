// Offline CA export rounds, the CSR listing, and stale LSCs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "capf/ca_offline/offline.hpp"
#include "test_pki.hpp"

namespace capf::offline {
namespace {

using namespace capf::testpki;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Export, RoundsTakeNewPendingCsrsOnceAndAgainOnRequest) {
  TempStore store;
  auto a = add_phone(*store, "SEP00000000C001", kNow - 200);
  auto b = add_phone(*store, "SEP00000000C002", kNow - 100);
  const std::string out = store.dir() + "/out";
  auto first = must(record_export(*store, out, false, "admin", kNow));
  EXPECT_EQ(first.round.number, 1);
  EXPECT_EQ(first.round.directory, out + "/round-001");
  ASSERT_EQ(first.csrs.size(), 2u);
  EXPECT_EQ(first.csrs[0].device, a.device);  // oldest first
  EXPECT_EQ(first.csrs[0].file, "SEP00000000C001.csr.pem");
  must(write_round_files(first));
  const std::string pem = slurp(out + "/round-001/SEP00000000C001.csr.pem");
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);
  const std::string csv = slurp(out + "/round-001/manifest.csv");
  EXPECT_NE(csv.find("device,job,csr_sha256,created_at,key,file\n"), std::string::npos);
  EXPECT_NE(csv.find(a.device + ",job-1," + a.csr.id + "," + util::format_iso8601(kNow - 200) + ",EC-P256,"),
            std::string::npos) << csv;
  EXPECT_NE(slurp(out + "/round-001/manifest.json").find("\"round\": 1"), std::string::npos);

  // Exported CSRs stay pending, in round 1; nothing new → nothing to export.
  auto csrs = must(list_csrs(*store, CsrState::pending));
  ASSERT_EQ(csrs.size(), 2u);
  EXPECT_EQ(csrs[0].round, 1);
  EXPECT_EQ(must(record_export(*store, out, false, "admin", kNow)).round.number, 0);

  auto c = add_phone(*store, "SEP00000000C003", kNow - 50);
  auto second = must(record_export(*store, out, false, "admin", kNow));
  EXPECT_EQ(second.round.number, 2);
  ASSERT_EQ(second.csrs.size(), 1u);
  EXPECT_EQ(second.csrs[0].device, c.device);

  auto again = must(record_export(*store, out, true, "admin", kNow));
  EXPECT_EQ(again.round.number, 3);
  EXPECT_EQ(again.csrs.size(), 3u);
  EXPECT_TRUE(again.round.again);
  auto rounds = must(list_rounds(*store));
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_EQ(rounds[1].count, 1u);
}

TEST(Export, LeavesOtherIssuersAndStatesAlone) {
  TempStore store;
  auto a = add_phone(*store, "SEP00000000C010");
  a.csr.issuer = IssuerKind::online_ca;
  auto b = add_phone(*store, "SEP00000000C011");
  b.csr.state = CsrState::stale;
  store::Transition t;
  t.put_docs.push_back({store::Family::csrs, a.csr.id, encode_csr(a.csr)});
  t.put_docs.push_back({store::Family::csrs, b.csr.id, encode_csr(b.csr)});
  ASSERT_TRUE(store->apply(t).ok());
  EXPECT_EQ(must(record_export(*store, store.dir(), true, "admin", kNow)).round.number, 0);
  EXPECT_EQ(must(list_csrs(*store, std::nullopt)).size(), 2u);
  EXPECT_EQ(must(list_csrs(*store, CsrState::stale)).size(), 1u);
  EXPECT_EQ(must(list_csrs(*store, CsrState::pending)).size(), 1u);  // the online one
}

TEST(StaleLscs, ListedAndDeletedWithAnAuditEntryEach) {
  TempStore store;
  store::Transition t;
  for (auto [serial, state] : {std::pair{"0a01", CertificateState::stale}, {"0a02", CertificateState::delivered},
                               {"0a03", CertificateState::stale}}) {
    CertificateRecord c;
    c.serial = serial;
    c.device = "SEP00000000D001";
    c.issuer = "CN=CAPF-test";
    c.issued_at = kNow;
    c.state = state;
    t.put_certificates.push_back(c);
  }
  ASSERT_TRUE(store->apply(t).ok());
  auto stale = must(stale_lscs(*store));
  ASSERT_EQ(stale.size(), 2u);
  auto deleted = must(delete_stale_lscs(*store, "admin", kNow));
  EXPECT_EQ(deleted.size(), 2u);
  EXPECT_TRUE(must(stale_lscs(*store)).empty());
  EXPECT_FALSE(must(store->get_certificate("0a01")));
  EXPECT_TRUE(must(store->get_certificate("0a02")));
  auto of_device = must(store->certificates_of("SEP00000000D001"));
  ASSERT_EQ(of_device.size(), 1u);  // the by-device index lost the deleted ones too
  std::size_t audited = 0;
  for (const auto& a : must(store->list_audit())) audited += a.action == "stale-lsc.delete";
  EXPECT_EQ(audited, 2u);
  EXPECT_TRUE(must(delete_stale_lscs(*store, "admin", kNow)).empty());
}

}  // namespace
}  // namespace capf::offline
