// The second half of a session's record keeping: issuing, delivery, fetch, delete, failure.
#include "capf/server/enrollment.hpp"
#include "capf/util/text.hpp"
#include "records.hpp"

namespace capf::server {

using detail::log;

Result<IssuedLsc> EnrollmentService::issue(const std::string& device, std::span<const std::uint8_t> public_key,
                                           const KeySpec& requested) {
  // The key is parsed once, inside issue_lsc, and checked there before anything is signed.
  std::optional<KeySpec> spec;
  const auto admit = [&](const KeySpec& got) -> Result<void> {
    spec = got;
    if (!same_key_kind(got, requested))
      return make_error(Errc::protocol,
                        "phone returned a " + to_string(got) + " key, asked for " + to_string(requested));
    return ok();
  };
  // Signed before the claim: the CA key's work never holds up another writer of this device.
  const auto now = clock_.now();
  auto lsc = ca_.issue_lsc(device, public_key, validity_days_.load(), now, admit);
  if (!lsc && !spec && lsc.error().code == Errc::crypto) {
    // Not a key issue_lsc can read. §11.1: a phone may answer with a PKCS#10 request instead.
    auto csr = crypto::verify_csr(public_key);
    if (!csr)
      return make_error(Errc::protocol,
                        "PUBLIC_KEY is neither a SubjectPublicKeyInfo nor a CSR: " + lsc.error().message);
    lsc = ca_.issue_lsc(device, csr->public_key_der, validity_days_.load(), now, admit);
  }
  if (!lsc) return lsc.error();

  IssuedLsc out{std::move(*lsc), {}, false};
  CertificateRecord& rec = out.record;
  rec.serial = out.certificate.serial_hex();
  rec.device = device;
  rec.issuer = out.certificate.issuer();
  rec.key = to_string(*spec);  // set by admit, which issue_lsc asked before signing
  rec.issued_at = now;
  rec.not_after = out.certificate.not_after();
  rec.state = CertificateState::issued;
  rec.der_hex = util::to_hex(out.certificate.to_der());

  auto claim = store_.claims().claim(device);
  store::Transition t;
  // An LSC issued earlier but never delivered is superseded by this one: the seed's stale LSC.
  if (auto older = store_.certificates_of(device, CertificateState::issued); older) {
    for (auto o : *older) {
      o.state = CertificateState::stale;
      t.put_certificates.push_back(std::move(o));
    }
  }
  t.put_certificates.push_back(rec);
  detail::audit(t, now, "capf", "lsc.issued", device, "serial=" + rec.serial + " key=" + rec.key);
  // Durable before STORE_CERTIFICATE_REQUEST (the session syncs it): a crash after it never
  // leaves an LSC unrecorded.
  if (auto r = detail::persist(store_, t, store::Sync::later); !r) return r.error();
  return out;
}

void EnrollmentService::delivered(const std::string& device, const IssuedLsc& lsc, std::uint8_t reason) {
  update(
      device,
      [&](Device& d, store::Transition& t) {
        const auto now = clock_.now();
        const std::string& serial = lsc.record.serial;
        if (reason != 1) {
          d.status = OperationStatus::failed;
          d.status_reason =
              "phone did not store the LSC (STORE_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
          detail::audit(t, now, "phone:" + device, "lsc.refused", device,
                        "serial=" + serial + " reason=" + std::to_string(reason));
        } else {
          if (auto older = store_.certificates_of(device, CertificateState::delivered); older) {
            for (auto o : *older) {
              if (o.serial == serial) continue;
              o.state = CertificateState::replaced;
              t.put_certificates.push_back(std::move(o));
            }
          }
          CertificateRecord r = lsc.record;
          r.der_hex.clear();  // stored when the LSC was issued; a change of state keeps it
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
        if (reason == 1)
          detail::notify(hook_, t, d, SessionEvent::Kind::succeeded, "", true, serial);
        else
          detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason);
        t.put_devices.push_back(d);
        return true;
      },
      store::Sync::later);
}

namespace {

PhoneCertificateKind kind_of(std::uint8_t wire_type) {
  switch (static_cast<protocol::CertificateType>(wire_type)) {
    case protocol::CertificateType::lsc:
      return PhoneCertificateKind::lsc;
    case protocol::CertificateType::mic:
      return PhoneCertificateKind::mic;
  }
  return PhoneCertificateKind::unknown;
}

// What Troubleshoot keeps of a phone's answer, checked before the device is claimed.
struct Retrieved {
  std::vector<PhoneCertificate> kept;
  std::vector<std::string> audit;    ///< per certificate kept: type, serial, subject, validity
  std::vector<std::string> refused;  ///< per certificate refused, why
};

Retrieved check_retrieved(const protocol::FetchResponse& answer, util::UnixTime now) {
  Retrieved out;
  for (std::size_t i = 0; i < answer.certificates.size(); ++i) {
    const auto& c = answer.certificates[i];
    const std::string which =
        "certificate " + std::to_string(i + 1) + " of " + std::to_string(answer.certificates.size());
    if (out.kept.size() == kMaxTroubleshootCertificates) {
      out.refused.push_back(which + ": over the " + std::to_string(kMaxTroubleshootCertificates) +
                            " a Troubleshoot keeps");
      continue;
    }
    if (c.der.size() > kMaxPhoneCertificateBytes) {
      out.refused.push_back(which + ": " + std::to_string(c.der.size()) + " bytes, over the limit of " +
                            std::to_string(kMaxPhoneCertificateBytes));
      continue;
    }
    auto cert = crypto::Certificate::from_der(c.der);
    if (!cert) {
      out.refused.push_back(which + " does not parse: " + cert.error().message);
      continue;
    }
    const PhoneCertificateKind kind = kind_of(c.type);
    out.kept.push_back(PhoneCertificate{kind, false, now, c.der});
    out.audit.push_back("type=" + std::string(to_string(kind)) + " serial=" + cert->serial_hex() +
                        " subject=" + util::escape_control(cert->subject()) +
                        " not_after=" + util::format_iso8601(cert->not_after()));
  }
  return out;
}

// "no LSC on the phone; it returned: MIC" when Troubleshoot found certificates but no LSC.
std::string without_lsc(const std::vector<PhoneCertificate>& kept) {
  std::string kinds;
  for (const auto& c : kept) {
    if (c.kind == PhoneCertificateKind::lsc) return "";
    kinds += (kinds.empty() ? "" : ", ") + std::string(to_string(c.kind));
  }
  return "no LSC on the phone; it returned: " + kinds;
}

}  // namespace

void EnrollmentService::fetched(const std::string& device, const protocol::FetchResponse& answer) {
  const auto now = clock_.now();
  Retrieved r = check_retrieved(answer, now);
  for (const auto& why : answer.skipped) r.refused.push_back(why);
  for (const auto& why : r.refused)
    log()->warn("device={} Troubleshoot: refused {}", util::escape_control(device), util::escape_control(why));
  update(device, [&](Device& d, store::Transition& t) {
    d.operation = CertificateOperation::none;
    const std::string actor = "phone:" + device;
    if (!r.kept.empty() || answer.certificates.empty()) {
      // The last Troubleshoot's certificates are replaced; the MIC presented at authentication stays.
      std::erase_if(d.phone_certificates, [](const PhoneCertificate& c) { return !c.at_authentication; });
      d.phone_certificates.insert(d.phone_certificates.begin(), r.kept.begin(), r.kept.end());
      d.fetched_cert_pem.clear();
      d.status = OperationStatus::success;
      // The seed's Troubleshoot retrieves what the phone has; a phone with none has answered too.
      d.status_reason = r.kept.empty() ? "no certificate on the phone" : without_lsc(r.kept);
      for (const auto& line : r.audit) detail::audit(t, now, actor, "certificate.fetched", device, line);
      if (r.kept.empty())
        detail::audit(t, now, actor, "certificate.none", device,
                      "FETCH_CERTIFICATE_RESPONSE reason " +
                          (answer.reason ? std::to_string(*answer.reason) : std::string("absent")));
    } else {
      d.status = OperationStatus::failed;
      d.status_reason = "the phone's certificates were refused: " + r.refused.front();
    }
    d.updated_at = now;
    if (d.status == OperationStatus::success)
      detail::notify(hook_, t, d, SessionEvent::Kind::succeeded, d.status_reason);
    else
      detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason, false);
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
      d.status_reason =
          "phone did not delete an LSC (DELETE_CERTIFICATE_RESPONSE reason " + std::to_string(reason) + ")";
    }
    d.updated_at = clock_.now();
    if (d.status == OperationStatus::success)
      detail::notify(hook_, t, d, SessionEvent::Kind::succeeded, "");
    else
      detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason, false);
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
    d.status_reason =
        "phone could not generate a key (asked for " + tried + "); attempt " + std::to_string(d.keygen_failures) +
        " of " + std::to_string(attempts) +
        (given_up ? " (Maximum Allowable Attempts for Key Generation): operation given up until re-armed" : "");
    return given_up ? FailureMark{false, "keygen.given_up"} : FailureMark{};
  });
}

}  // namespace capf::server
