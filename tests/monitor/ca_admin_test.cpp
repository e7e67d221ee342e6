// CA regeneration recorded in the store, phones on a retired CA, revocation and CRLs.
#include "capf/monitor/ca_admin.hpp"

#include <nlohmann/json.hpp>

#include "monitor_support.hpp"

namespace capf::monitor::test {
namespace {

TEST(Lifecycle, RegenerateRecordsTheRetiredSubjectAndFindsThePhonesOnIt) {
  Fixture f;
  Device on_old, fresh, none;
  on_old.name = "SEP0000000000C1";
  on_old.lsc_serial = "c1";
  on_old.lsc_issuer = f.ca_subject;
  fresh.name = "SEP0000000000C2";
  none.name = "SEP0000000000C3";
  store::Transition t;
  t.put_devices = {on_old, fresh, none};
  ASSERT_TRUE(f.store->apply(t).ok());
  EXPECT_TRUE(phones_on_old(*f.store)->empty());
  EXPECT_EQ(phones_on_old_query({}), "");

  auto r = regenerate(*f.store, f.ca_dir, *parse_ca_key("ec-p256"), "admin", f.clock);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->old_subject, f.ca_subject);
  EXPECT_EQ(r->new_key, "EC-P256");
  auto subjects = retired_subjects(*f.store);
  ASSERT_EQ(*subjects, std::vector<std::string>{f.ca_subject});
  // The meta key is plain JSON for other layers.
  auto raw = f.store->get_meta(kRetiredSubjectsKey);
  EXPECT_EQ(nlohmann::json::parse(**raw), nlohmann::json::array({f.ca_subject}));

  fresh.lsc_serial = "c2";
  fresh.lsc_issuer = r->new_subject;
  store::Transition t2;
  t2.put_devices = {fresh};
  ASSERT_TRUE(f.store->apply(t2).ok());
  auto phones = phones_on_old(*f.store);
  ASSERT_EQ(phones->size(), 1u);
  EXPECT_EQ((*phones)[0].name, "SEP0000000000C1");
  EXPECT_EQ(phones_on_old_query(*subjects), "lsc_issuer in (\"" + f.ca_subject + "\")");

  // Twice: both old subjects kept, in order.
  auto r2 = regenerate(*f.store, f.ca_dir, *parse_ca_key("rsa-2048"), "admin", f.clock);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*retired_subjects(*f.store), (std::vector<std::string>{f.ca_subject, r->new_subject}));
  EXPECT_EQ(parse_ca_key("rsa-1024").error().code, Errc::invalid_argument);
  bool audited = false;
  auto audit = f.store->list_audit();
  ASSERT_TRUE(audit.ok());
  for (const auto& a : *audit) audited |= a.action == "ca.regenerated";
  EXPECT_TRUE(audited);
}

TEST(Lifecycle, RevokeMarksTheRecordAndEachRevocationBumpsTheCrl) {
  Fixture f;
  store::Transition t;
  t.put_certificates = {f.lsc("d1", "SEP0000000000D1", f.clock.now() + 86400 * 30),
                        f.lsc("d2", "SEP0000000000D2", f.clock.now() + 86400 * 30)};
  ASSERT_TRUE(f.store->apply(t).ok());
  auto empty = crl_of(*f.store, f.ca_dir, "", false, f.clock);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->number, 1u);
  EXPECT_EQ(empty->revoked, 0u);

  auto r = revoke(*f.store, f.ca_dir, "D1", crypto::RevocationReason::key_compromise, "admin", f.clock);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->crl.number, 2u);
  EXPECT_EQ(r->crl.revoked, 1u);
  EXPECT_EQ((*f.store->get_certificate("d1"))->state, CertificateState::revoked);
  auto meta = f.store->get_meta("revocation/d1");
  ASSERT_TRUE(meta.ok() && meta->has_value());
  EXPECT_EQ(nlohmann::json::parse(**meta)["reason"], "keyCompromise");
  EXPECT_EQ(revoke(*f.store, f.ca_dir, "d1", crypto::RevocationReason::unspecified, "admin", f.clock).error().code,
            Errc::already_exists);
  EXPECT_EQ(revoke(*f.store, f.ca_dir, "ff", crypto::RevocationReason::unspecified, "admin", f.clock).error().code,
            Errc::not_found);
  r = revoke(*f.store, f.ca_dir, "d2", crypto::RevocationReason::superseded, "admin", f.clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->crl.number, 3u);
  EXPECT_EQ(r->crl.revoked, 2u);

  // The stored CRL is what export gives; a refresh at half-life re-signs it.
  EXPECT_EQ(crl_of(*f.store, f.ca_dir, "", true, f.clock)->number, 3u);
  f.clock.advance(kCrlValiditySeconds / 2 + 60);
  auto refreshed = crl_of(*f.store, f.ca_dir, "", true, f.clock);
  EXPECT_EQ(refreshed->number, 4u);
  EXPECT_EQ(refreshed->revoked, 2u);
  EXPECT_EQ(refreshed->next_update, f.clock.now() + kCrlValiditySeconds);
}

TEST(Lifecycle, AnLscOfARetiredCaIsListedInThatCasCrl) {
  Fixture f;
  store::Transition t;
  t.put_certificates = {f.lsc("e1", "SEP0000000000E1", f.clock.now() + 86400 * 30)};
  ASSERT_TRUE(f.store->apply(t).ok());
  auto regen = regenerate(*f.store, f.ca_dir, *parse_ca_key("rsa-2048"), "admin", f.clock);
  ASSERT_TRUE(regen.ok());
  auto r = revoke(*f.store, f.ca_dir, "e1", crypto::RevocationReason::cessation_of_operation, "admin", f.clock);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->crl.issuer, f.ca_subject);
  EXPECT_EQ(r->crl.ca_serial, regen->old_serial);
  EXPECT_EQ(crl_of(*f.store, f.ca_dir, regen->old_serial, false, f.clock)->revoked, 1u);
  EXPECT_EQ(crl_of(*f.store, f.ca_dir, "", false, f.clock)->revoked, 0u);
  EXPECT_EQ(crl_of(*f.store, f.ca_dir, "abcdef", false, f.clock).error().code, Errc::not_found);
}

}  // namespace
}  // namespace capf::monitor::test
