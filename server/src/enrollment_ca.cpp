// The CA-mode steps of a session (capf-protocol.md §11): storing the phone's CSR in the CSR
// ledger, and letting the phone wait while the CA works on it.

#include "capf/crypto/codec.hpp"
#include "capf/server/enrollment.hpp"
#include "capf/util/text.hpp"
#include "records.hpp"

namespace capf::server {

using detail::short_id;

Result<CsrRecord> EnrollmentService::accept_csr(const std::string& device, std::span<const std::uint8_t> csr_der,
                                                std::span<const std::uint8_t> public_key, const KeySpec& requested,
                                                IssuerKind issuer) {
  const std::vector<std::uint8_t> der(csr_der.begin(), csr_der.end());
  auto info = crypto::verify_csr(der);
  if (!info) return make_error(Errc::protocol, "the phone's CSR is not valid: " + info.error().message);
  const std::vector<std::uint8_t> pk(public_key.begin(), public_key.end());
  if (!pk.empty() && pk != der && info->public_key_der != pk)
    return make_error(Errc::protocol, "the phone's CSR carries another key than the PUBLIC_KEY it sent");
  auto spec = crypto::inspect_public_key(info->public_key_der);
  if (!spec) return spec.error();
  if (!same_key_kind(*spec, requested))
    return make_error(Errc::protocol, "the phone's CSR has a " + to_string(*spec) + " key, asked for " + to_string(requested));
  if (!util::iequals(info->common_name, device))
    return make_error(Errc::protocol, "the phone's CSR names CN=" + info->common_name + ", expected " + device);

  auto claim = store_.claims().claim(device);
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return make_error(Errc::not_found, "device " + device + " vanished during its session");
  const auto now = clock_.now();
  CsrRecord r;
  r.id = crypto::sha256_hex(der);
  r.device = device;
  r.job = (*found)->job_id;
  r.issuer = issuer;
  r.key = to_string(*spec);
  r.csr_der_hex = util::to_hex(der);
  r.spki_sha256 = crypto::sha256_hex(info->public_key_der);
  r.created_at = r.updated_at = now;
  r.state = CsrState::pending;
  if (issuer == IssuerKind::online_ca) r.ca = online_.ca_name();

  store::Transition t;
  // The seed's stale rule: a new key generation while an older CSR is unanswered (or answered
  // but not delivered) leaves the older one stale, and its certificate with it.
  if (auto older = ledger_.latest(device); older && older->has_value() && (*older)->id != r.id && !is_final((*older)->state)) {
    CsrRecord& o = **older;
    if (o.state == CsrState::issued && !o.serial.empty()) {
      if (auto rec = store_.get_certificate(o.serial); rec && rec->has_value() && (*rec)->state == CertificateState::issued) {
        CertificateRecord c = **rec;
        c.state = CertificateState::stale;
        t.put_certificates.push_back(c);
      }
    }
    o.error = "superseded by CSR " + short_id(r.id);
    if (store::CsrLedger::move(o, CsrEvent::superseded, now, t))
      detail::audit(t, now, "capf", "csr.stale", device, "csr=" + short_id(o.id));
  }
  store::CsrLedger::add_new(r, t);
  detail::audit(t, now, "phone:" + device, "csr.received", device,
                "csr=" + short_id(r.id) + " key=" + r.key + " issuer=" + std::string(to_string(issuer)));
  if (auto w = detail::persist(store_, t); !w) return w.error();
  if (issuer == IssuerKind::online_ca) online_.track(r.id);
  return r;
}

void EnrollmentService::deferred(const std::string& device, const CsrRecord& csr) {
  update(device, [&](Device& d, store::Transition& t) {
    d.status = OperationStatus::pending;
    d.status_reason = "CSR " + short_id(csr.id) + " waits for the " + std::string(to_string(csr.issuer)) +
                      (csr.error.empty() ? "" : " (" + csr.error + ")");
    d.updated_at = clock_.now();
    detail::notify(hook_, t, d, SessionEvent::Kind::deferred, d.status_reason);
    t.put_devices.push_back(d);
    return true;
  });
  // The CA may have answered while this session was ending (the CA worker sent the CSR while
  // the session found it busy): its "certificate ready" then reached the job before the device
  // waited for it and was dropped. Looking again after the device waits loses no wake-up.
  if (auto now = ledger_.get(csr.id); now && now->has_value() && (*now)->state == CsrState::issued && hook_)
    hook_->on_certificates_ready({device});
}

}  // namespace capf::server
