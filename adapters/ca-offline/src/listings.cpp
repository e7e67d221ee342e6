// Listings that go with external CAs: CSRs by state, stale LSCs and their clean-up.
#include <algorithm>
#include <tuple>

#include "capf/ca_offline/offline.hpp"
#include "capf/store/csr_ledger.hpp"

namespace capf::offline {

Result<std::vector<CsrRecord>> list_csrs(const store::Store& store, std::optional<CsrState> state) {
  std::vector<CsrRecord> out;
  auto r = store::CsrLedger(store).for_each([&](const CsrRecord& csr) {
    if (!state || csr.state == *state) out.push_back(csr);
    return true;
  });
  if (!r) return r.error();
  std::sort(out.begin(), out.end(), [](const CsrRecord& a, const CsrRecord& b) {
    return std::tie(a.created_at, a.device, a.id) < std::tie(b.created_at, b.device, b.id);
  });
  return out;
}

Result<std::vector<CertificateRecord>> stale_lscs(const store::Store& store) {
  std::vector<CertificateRecord> out;
  auto r = store.for_each_certificate([&](const CertificateRecord& c) {
    if (c.state == CertificateState::stale) out.push_back(c);
    return true;
  });
  if (!r) return r.error();
  std::sort(out.begin(), out.end(), [](const CertificateRecord& a, const CertificateRecord& b) {
    return std::tie(a.issued_at, a.device, a.serial) < std::tie(b.issued_at, b.device, b.serial);
  });
  return out;
}

Result<std::vector<CertificateRecord>> delete_stale_lscs(store::Store& store, const std::string& actor,
                                                         util::UnixTime now) {
  auto stale = stale_lscs(store);
  if (!stale) return stale.error();
  if (stale->empty()) return stale;
  store::Transition t;
  for (const auto& c : *stale) {
    t.delete_certificates.push_back(c.serial);
    t.audit.push_back({now, actor, "stale-lsc.delete", c.serial, "stale LSC of " + c.device + " issued by " + c.issuer});
  }
  if (auto r = store.apply(t); !r) return r.error();
  return stale;
}

}  // namespace capf::offline
