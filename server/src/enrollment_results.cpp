// The second half of a session's record keeping: issuing, delivery, fetch, delete, failure.
#include "capf/server/enrollment.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"

namespace capf::server {

namespace {
auto log() {
  static auto l = util::logger("capf");
  return l;
}
}  // namespace

Result<crypto::Certificate> EnrollmentService::issue(const std::string& device, std::span<const std::uint8_t> public_key,
                                                     const KeySpec& requested) {
  std::vector<std::uint8_t> spki(public_key.begin(), public_key.end());
  auto spec = crypto::inspect_public_key(spki);
  if (!spec) {
    // §11.1: a phone may answer with a PKCS#10 request instead of a bare key.
    auto csr = crypto::verify_csr(spki);
    if (!csr) return make_error(Errc::protocol, "PUBLIC_KEY is neither a SubjectPublicKeyInfo nor a CSR: " + spec.error().message);
    spki = csr->public_key_der;
    spec = crypto::inspect_public_key(spki);
    if (!spec) return spec.error();
  }
  if (!same_key_kind(*spec, requested))
    return make_error(Errc::protocol, "phone returned a " + to_string(*spec) + " key, asked for " + to_string(requested));

  const auto now = clock_.now();
  auto lsc = ca_.issue_lsc(device, spki, validity_days_.load(), now);
  if (!lsc) return lsc.error();

  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return make_error(Errc::not_found, "device " + device + " vanished during its session");
  store::Transition t;
  // An LSC issued earlier but never delivered is superseded by this one: the seed's stale LSC.
  if (auto older = store_.certificates_of(device); older) {
    for (auto rec : *older) {
      if (rec.state != CertificateState::issued) continue;
      rec.state = CertificateState::stale;
      t.put_certificates.push_back(rec);
    }
  }
  CertificateRecord rec;
  rec.serial = lsc->serial_hex();
  rec.device = device;
  rec.issuer = lsc->issuer();
  rec.key = to_string(*spec);
  rec.issued_at = now;
  rec.not_after = lsc->not_after();
  rec.state = CertificateState::issued;
  rec.der_hex = util::to_hex(lsc->to_der());
  t.put_certificates.push_back(rec);
  audit(t, "capf", "lsc.issued", device, "serial=" + rec.serial + " key=" + rec.key);
  if (auto r = persist(std::move(t)); !r) return r.error();
  return lsc;
}

void EnrollmentService::delivered(const std::string& device, const crypto::Certificate& lsc, std::uint8_t reason) {
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return;
  Device d = **found;
  store::Transition t;
  const auto now = clock_.now();
  const std::string serial = lsc.serial_hex();
  auto rec = store_.get_certificate(serial);
  if (reason != 1) {
    d.status = OperationStatus::failed;
    d.status_reason = "phone did not store the LSC (STORE_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
    audit(t, "phone:" + device, "lsc.refused", device, "serial=" + serial + " reason=" + std::to_string(reason));
  } else {
    if (auto older = store_.certificates_of(device); older) {
      for (auto o : *older) {
        if (o.serial == serial || o.state != CertificateState::delivered) continue;
        o.state = CertificateState::replaced;
        t.put_certificates.push_back(o);
      }
    }
    if (rec && rec->has_value()) {
      CertificateRecord r = **rec;
      r.state = CertificateState::delivered;
      r.delivered_at = now;
      t.put_certificates.push_back(r);
    }
    // CA modes: the CSR this certificate answered is done.
    if (auto csr = latest_csr(device); csr && csr->serial == serial && csr->state == CsrState::issued) {
      csr->state = CsrState::delivered;
      csr->updated_at = now;
      t.put_docs.push_back(store::Doc{store::Family::csrs, csr->id, encode_csr(*csr)});
    }
    d.lsc_serial = serial;
    d.lsc_issuer = lsc.issuer();
    d.lsc_not_after = lsc.not_after();
    d.operation = CertificateOperation::none;
    d.status = OperationStatus::success;
    d.status_reason.clear();
    audit(t, "phone:" + device, "lsc.delivered", device, "serial=" + serial);
  }
  d.updated_at = now;
  if (reason == 1) notify(t, d, SessionEvent::Kind::succeeded, "", true, serial);
  else notify(t, d, SessionEvent::Kind::failed, d.status_reason);
  t.put_devices.push_back(d);
  (void)persist(std::move(t));
}

void EnrollmentService::fetched(const std::string& device, const std::optional<std::vector<std::uint8_t>>& der,
                                std::uint8_t reason) {
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return;
  Device d = **found;
  store::Transition t;
  d.operation = CertificateOperation::none;
  if (reason == 1 && der) {
    auto cert = crypto::Certificate::from_der(*der);
    if (cert) {
      d.fetched_cert_pem = cert->to_pem();
      d.status = OperationStatus::success;
      d.status_reason.clear();
      audit(t, "phone:" + device, "certificate.fetched", device, "serial=" + cert->serial_hex() + " subject=" + cert->subject());
    } else {
      d.status = OperationStatus::failed;
      d.status_reason = "fetched certificate does not parse: " + cert.error().message;
    }
  } else {
    d.status = OperationStatus::failed;
    d.status_reason = "phone returned no certificate (FETCH_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
  }
  d.updated_at = clock_.now();
  if (d.status == OperationStatus::success) notify(t, d, SessionEvent::Kind::succeeded, "");
  else notify(t, d, SessionEvent::Kind::failed, d.status_reason, false);
  t.put_devices.push_back(d);
  (void)persist(std::move(t));
}

void EnrollmentService::deleted(const std::string& device, std::uint8_t reason) {
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return;
  Device d = **found;
  store::Transition t;
  d.operation = CertificateOperation::none;
  if (reason == 1) {
    if (auto rec = store_.get_certificate(d.lsc_serial); !d.lsc_serial.empty() && rec && rec->has_value()) {
      CertificateRecord r = **rec;
      r.state = CertificateState::deleted;
      t.put_certificates.push_back(r);
    }
    audit(t, "phone:" + device, "lsc.deleted", device, d.lsc_serial.empty() ? "" : "serial=" + d.lsc_serial);
    d.lsc_serial.clear();
    d.lsc_issuer.clear();
    d.lsc_not_after = 0;
    d.status = OperationStatus::success;
    d.status_reason.clear();
  } else {
    d.status = OperationStatus::failed;
    d.status_reason = "phone did not delete an LSC (DELETE_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
  }
  d.updated_at = clock_.now();
  if (d.status == OperationStatus::success) notify(t, d, SessionEvent::Kind::succeeded, "");
  else notify(t, d, SessionEvent::Kind::failed, d.status_reason, false);
  t.put_devices.push_back(d);
  (void)persist(std::move(t));
}

void EnrollmentService::record_failed(const std::string& device, const std::function<FailureMark(Device&)>& mark) {
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return;
  Device d = **found;
  if (d.status != OperationStatus::in_progress) return;  // already recorded
  const FailureMark m = mark(d);
  d.status = OperationStatus::failed;
  d.updated_at = clock_.now();
  store::Transition t;
  notify(t, d, SessionEvent::Kind::failed, d.status_reason, m.retryable);
  t.put_devices.push_back(d);
  audit(t, "capf", m.action, device, d.status_reason);
  (void)persist(std::move(t));
  log()->info("device={} operation failed: {}", device, d.status_reason);
}

void EnrollmentService::failed(const std::string& device, const std::string& reason) {
  record_failed(device, [&](Device& d) {
    d.status_reason = reason;
    return FailureMark{};
  });
}

void EnrollmentService::keygen_failed(const std::string& device, const std::string& tried) {
  const int attempts = keygen_attempts_.load();
  record_failed(device, [&](Device& d) {
    ++d.keygen_failures;
    const bool given_up = d.keygen_failures >= attempts;
    d.status_reason = "phone could not generate a key (asked for " + tried + "); attempt " +
                      std::to_string(d.keygen_failures) + " of " + std::to_string(attempts) +
                      (given_up ? " (Maximum Allowable Attempts for Key Generation): operation given up until re-armed"
                                : "");
    return given_up ? FailureMark{false, "keygen.given_up"} : FailureMark{};
  });
}

void EnrollmentService::release(const std::string& device) {
  std::lock_guard lock(mutex_);
  claimed_.erase(device);
}

}  // namespace capf::server
