// The CA modes of the CAPF service (capf-protocol.md §11): storing the phone's CSR, the online
// CA's answers, and delivery of a certificate an external CA issued on the phone's next session.

#include "capf/crypto/codec.hpp"
#include "capf/server/enrollment.hpp"
#include "enrollment_ca.hpp"
#include "capf/util/text.hpp"

namespace capf::server {

using ca_detail::csr_doc;
using ca_detail::log;
using ca_detail::short_id;

void EnrollmentService::set_trust(std::shared_ptr<const crypto::TrustStore> trust) {
  std::lock_guard lock(config_mutex_);
  trust_ = std::move(trust);
}

std::shared_ptr<const crypto::TrustStore> EnrollmentService::trust() const {
  std::lock_guard lock(config_mutex_);
  return trust_;
}

void EnrollmentService::set_issuer(IssuerKind kind, std::shared_ptr<OnlineCa> online, OnlineCaParams params) {
  std::lock_guard lock(config_mutex_);
  issuer_ = kind;
  online_ = std::move(online);
  online_params_ = std::move(params);
}

IssuerKind EnrollmentService::issuer() const {
  std::lock_guard lock(config_mutex_);
  return issuer_;
}

std::optional<CsrRecord> EnrollmentService::csr_by_id(const std::string& id) const {
  auto json = store_.get_doc(store::Family::csrs, id);
  if (!json || !json->has_value()) return std::nullopt;
  auto r = decode_csr(**json);
  if (!r) return std::nullopt;
  return *r;
}

std::optional<CsrRecord> EnrollmentService::latest_csr(const std::string& device) const {
  auto id = store_.get_doc(store::Family::csr_by_device, device);
  if (!id || !id->has_value()) return std::nullopt;
  return csr_by_id(**id);
}

Decision EnrollmentService::ca_mode_decision(const Device& d) {
  Decision install{Decision::Kind::install, d.name, key_plan(d), "", {}, issuer()};
  auto csr = latest_csr(d.name);
  if (!csr || is_final(csr->state)) return install;
  // A CSR of this same job is still on its way: the phone keeps its key and waits for it.
  const bool same_job = csr->job == d.job_id;
  if (csr->state == CsrState::issued) {
    auto rec = store_.get_certificate(csr->serial);
    if (rec && rec->has_value()) {
      Decision deliver{Decision::Kind::deliver, d.name, {}, "", {}, csr->issuer};
      if (auto der = util::from_hex((*rec)->der_hex)) deliver.certificate_der = std::move(*der);
      if (!deliver.certificate_der.empty()) return deliver;
    }
    log()->warn("device={} CSR {} is issued but its certificate {} is missing; asking for a new key", d.name,
                short_id(csr->id), csr->serial);
    return install;
  }
  if (same_job) {
    Decision wait{Decision::Kind::end_no_action, d.name, {}, "CSR " + short_id(csr->id) + " still waits for the CA"};
    return wait;
  }
  return install;  // a new operation: the new CSR makes this one stale
}

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
  {
    std::lock_guard lock(config_mutex_);
    if (issuer == IssuerKind::online_ca && online_) r.ca = online_->name();
  }

  store::Transition t;
  // The seed's stale rule: a new key generation while an older CSR is unanswered (or answered
  // but not delivered) leaves the older one stale, and its certificate with it.
  if (auto older = latest_csr(device); older && older->id != r.id && !is_final(older->state)) {
    if (older->state == CsrState::issued && !older->serial.empty()) {
      if (auto rec = store_.get_certificate(older->serial); rec && rec->has_value() && (*rec)->state == CertificateState::issued) {
        CertificateRecord c = **rec;
        c.state = CertificateState::stale;
        t.put_certificates.push_back(c);
      }
    }
    older->state = CsrState::stale;
    older->updated_at = now;
    older->error = "superseded by CSR " + short_id(r.id);
    t.put_docs.push_back(csr_doc(*older));
    audit(t, "capf", "csr.stale", device, "csr=" + short_id(older->id));
  }
  t.put_docs.push_back(csr_doc(r));
  t.put_docs.push_back(store::Doc{store::Family::csr_by_device, device, r.id});
  audit(t, "phone:" + device, "csr.received", device,
        "csr=" + short_id(r.id) + " key=" + r.key + " issuer=" + std::string(to_string(issuer)));
  if (auto w = persist(std::move(t)); !w) return w.error();
  if (issuer == IssuerKind::online_ca) {
    std::lock_guard lock(config_mutex_);
    online_ids_.insert(r.id);
  }
  return r;
}

void EnrollmentService::deferred(const std::string& device, const CsrRecord& csr) {
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return;
  Device d = **found;
  store::Transition t;
  d.status = OperationStatus::pending;
  d.status_reason = "CSR " + short_id(csr.id) + " waits for the " + std::string(to_string(csr.issuer)) +
                    (csr.error.empty() ? "" : " (" + csr.error + ")");
  d.updated_at = clock_.now();
  notify(t, d, SessionEvent::Kind::deferred, d.status_reason);
  t.put_devices.push_back(d);
  (void)persist(std::move(t));
  // The CA may have answered while this session was ending (the CA worker sent the CSR while
  // the session found it busy): its "certificate ready" then reached the job before the device
  // waited for it and was dropped. Looking again after the device waits loses no wake-up.
  if (auto now = csr_by_id(csr.id); now && now->state == CsrState::issued && hook_) hook_->on_certificates_ready({device});
}

Result<crypto::Certificate> EnrollmentService::accept_ca_certificate(const CsrRecord& csr, const std::string& pem) {
  auto cert = crypto::Certificate::from_pem(pem);
  if (!cert) return make_error(Errc::crypto, "the CA's answer is not a certificate: " + cert.error().message);
  auto info = crypto::verify_csr(util::from_hex(csr.csr_der_hex).value_or(std::vector<std::uint8_t>{}));
  if (!info) return make_error(Errc::internal, "stored CSR " + short_id(csr.id) + " no longer parses");
  if (cert->public_key_der() != info->public_key_der)
    return make_error(Errc::crypto, "the CA's certificate " + cert->serial_hex() + " carries another key than CSR " + short_id(csr.id));
  if (!cert->has_key_usage("digitalSignature,keyEncipherment"))
    return make_error(Errc::crypto, "the CA's certificate " + cert->serial_hex() +
                                        " lacks digitalSignature + keyEncipherment key usage; phones need both");
  const auto now = clock_.now();
  if (cert->not_after() <= now) return make_error(Errc::crypto, "the CA's certificate " + cert->serial_hex() + " has expired");

  CsrRecord c = csr;
  c.state = CsrState::issued;
  c.serial = cert->serial_hex();
  c.updated_at = now;
  c.error.clear();
  c.error_class = CaErrorClass::none;
  CertificateRecord rec;
  rec.serial = c.serial;
  rec.device = c.device;
  rec.issuer = cert->issuer();
  rec.key = c.key;
  rec.issued_at = now;
  rec.not_after = cert->not_after();
  rec.state = CertificateState::issued;
  rec.der_hex = util::to_hex(cert->to_der());
  store::Transition t;
  t.put_certificates.push_back(rec);
  t.put_docs.push_back(csr_doc(c));
  audit(t, "ca:" + (c.ca.empty() ? std::string(to_string(c.issuer)) : c.ca), "lsc.issued", c.device,
        "serial=" + rec.serial + " csr=" + short_id(c.id) + " issuer=" + rec.issuer);
  if (auto w = persist(std::move(t)); !w) return w.error();
  return cert;
}

void EnrollmentService::csr_failed(const CsrRecord& csr, CaErrorClass cls, const std::string& reason) {
  CsrRecord c = csr;
  c.state = CsrState::rejected;
  c.error_class = cls;
  c.error = reason;
  c.updated_at = clock_.now();
  store::Transition t;
  t.put_docs.push_back(csr_doc(c));
  audit(t, "ca:" + (c.ca.empty() ? std::string(to_string(c.issuer)) : c.ca), "csr.rejected", c.device,
        "csr=" + short_id(c.id) + " class=" + std::string(to_string(cls)) + " " + reason);
  if (auto found = store_.get_device(c.device); found && found->has_value()) {
    Device d = **found;
    if (d.job_id == c.job) {
      d.status = OperationStatus::failed;
      d.status_reason = std::string(to_string(cls)) + ": " + reason;
      d.updated_at = c.updated_at;
      // A denial cannot be retried with the same CSR; the job's retry re-arms the device for a new one.
      notify(t, d, SessionEvent::Kind::failed, d.status_reason, false);
      t.put_devices.push_back(d);
    }
  }
  (void)persist(std::move(t));
  log()->warn("device={} CSR {} rejected ({}): {}", c.device, short_id(c.id), to_string(cls), reason);
}

}  // namespace capf::server
