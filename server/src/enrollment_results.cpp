// The second half of a session's record keeping: issuing, delivery, fetch, delete, failure.
#include "capf/server/enrollment.hpp"
#include "capf/util/text.hpp"
#include "records.hpp"

namespace capf::server {

using detail::log;

Result<IssuedLsc> EnrollmentService::issue(const std::string& device, std::span<const std::uint8_t> public_key,
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

  // Signed before the claim: the CA key's work never holds up another writer of this device.
  const auto now = clock_.now();
  auto lsc = ca_.issue_lsc(device, spki, validity_days_.load(), now);
  if (!lsc) return lsc.error();

  IssuedLsc out{std::move(*lsc), {}, false};
  CertificateRecord& rec = out.record;
  rec.serial = out.certificate.serial_hex();
  rec.device = device;
  rec.issuer = out.certificate.issuer();
  rec.key = to_string(*spec);
  rec.issued_at = now;
  rec.not_after = out.certificate.not_after();
  rec.state = CertificateState::issued;
  rec.der_hex = util::to_hex(out.certificate.to_der());

  auto claim = store_.claims().claim(device);
  store::Transition t;
  // An LSC issued earlier but never delivered is superseded by this one: the seed's stale LSC.
  if (auto older = store_.certificates_of(device); older) {
    for (auto o : *older) {
      if (o.state != CertificateState::issued) continue;
      o.state = CertificateState::stale;
      t.put_certificates.push_back(std::move(o));
    }
  }
  t.put_certificates.push_back(rec);
  detail::audit(t, now, "capf", "lsc.issued", device, "serial=" + rec.serial + " key=" + rec.key);
  // Durable before STORE_CERTIFICATE_REQUEST: a crash after it never leaves an LSC unrecorded.
  if (auto r = detail::persist(store_, t); !r) return r.error();
  return out;
}

void EnrollmentService::delivered(const std::string& device, const IssuedLsc& lsc, std::uint8_t reason) {
  update(device, [&](Device& d, store::Transition& t) {
    const auto now = clock_.now();
    const std::string& serial = lsc.record.serial;
    if (reason != 1) {
      d.status = OperationStatus::failed;
      d.status_reason = "phone did not store the LSC (STORE_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
      detail::audit(t, now, "phone:" + device, "lsc.refused", device, "serial=" + serial + " reason=" + std::to_string(reason));
    } else {
      if (auto older = store_.certificates_of(device); older) {
        for (auto o : *older) {
          if (o.serial == serial || o.state != CertificateState::delivered) continue;
          o.state = CertificateState::replaced;
          t.put_certificates.push_back(std::move(o));
        }
      }
      CertificateRecord r = lsc.record;
      r.state = CertificateState::delivered;
      r.delivered_at = now;
      t.put_certificates.push_back(std::move(r));
      // CA modes: the CSR this certificate answered is done.
      if (lsc.from_csr) {
        if (auto csr = ledger_.latest(device); csr && csr->has_value() && (*csr)->serial == serial)
          (void)store::CsrLedger::move(**csr, CsrEvent::delivered, now, t);
      }
      d.lsc_serial = serial;
      d.lsc_issuer = lsc.certificate.issuer();
      d.lsc_not_after = lsc.certificate.not_after();
      d.operation = CertificateOperation::none;
      d.status = OperationStatus::success;
      d.status_reason.clear();
      detail::audit(t, now, "phone:" + device, "lsc.delivered", device, "serial=" + serial);
    }
    d.updated_at = now;
    if (reason == 1) detail::notify(hook_, t, d, SessionEvent::Kind::succeeded, "", true, serial);
    else detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason);
    t.put_devices.push_back(d);
    return true;
  });
}

void EnrollmentService::fetched(const std::string& device, const std::optional<std::vector<std::uint8_t>>& der,
                                std::uint8_t reason) {
  update(device, [&](Device& d, store::Transition& t) {
    d.operation = CertificateOperation::none;
    if (reason == 1 && der) {
      auto cert = crypto::Certificate::from_der(*der);
      if (cert) {
        d.fetched_cert_pem = cert->to_pem();
        d.status = OperationStatus::success;
        d.status_reason.clear();
        detail::audit(t, clock_.now(), "phone:" + device, "certificate.fetched", device,
                      "serial=" + cert->serial_hex() + " subject=" + cert->subject());
      } else {
        d.status = OperationStatus::failed;
        d.status_reason = "fetched certificate does not parse: " + cert.error().message;
      }
    } else {
      d.status = OperationStatus::failed;
      d.status_reason = "phone returned no certificate (FETCH_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
    }
    d.updated_at = clock_.now();
    if (d.status == OperationStatus::success) detail::notify(hook_, t, d, SessionEvent::Kind::succeeded, "");
    else detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason, false);
    t.put_devices.push_back(d);
    return true;
  });
}

void EnrollmentService::deleted(const std::string& device, std::uint8_t reason) {
  update(device, [&](Device& d, store::Transition& t) {
    d.operation = CertificateOperation::none;
    if (reason == 1) {
      if (auto rec = store_.get_certificate(d.lsc_serial); !d.lsc_serial.empty() && rec && rec->has_value()) {
        CertificateRecord r = **rec;
        r.state = CertificateState::deleted;
        t.put_certificates.push_back(r);
      }
      detail::audit(t, clock_.now(), "phone:" + device, "lsc.deleted", device,
                    d.lsc_serial.empty() ? "" : "serial=" + d.lsc_serial);
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
    if (d.status == OperationStatus::success) detail::notify(hook_, t, d, SessionEvent::Kind::succeeded, "");
    else detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason, false);
    t.put_devices.push_back(d);
    return true;
  });
}

void EnrollmentService::record_failed(const std::string& device, const std::function<FailureMark(Device&)>& mark) {
  std::string why;
  update(device, [&](Device& d, store::Transition& t) {
    if (d.status != OperationStatus::in_progress) return false;  // already recorded
    const FailureMark m = mark(d);
    d.status = OperationStatus::failed;
    d.updated_at = clock_.now();
    detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason, m.retryable);
    t.put_devices.push_back(d);
    detail::audit(t, d.updated_at, "capf", m.action, device, d.status_reason);
    why = d.status_reason;
    return true;
  });
  if (!why.empty()) log()->info("device={} operation failed: {}", device, why);
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

}  // namespace capf::server
