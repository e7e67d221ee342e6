#include "capf/server/enrollment.hpp"

#include "capf/util/text.hpp"
#include "records.hpp"
#include "revocation.hpp"

namespace capf::server {

using detail::log;
using detail::short_id;

std::vector<KeySpec> key_plan(const Device& d) {
  KeySpec rsa{KeyAlgorithm::rsa, d.rsa_key_bits, EcCurve::p256};
  KeySpec ec{KeyAlgorithm::ec, 2048, curve_from_bits(d.ec_key_bits).value_or(EcCurve::p256)};
  switch (d.key_order) {
    case KeyOrder::rsa_only:
      return {rsa};
    case KeyOrder::ec_only:
      return {ec};
    case KeyOrder::ec_preferred_rsa_backup:
      return {ec, rsa};
    case KeyOrder::rsa_preferred_ec_backup:
      return {rsa, ec};
  }
  return {rsa};
}

EnrollmentService::EnrollmentService(store::Store& store, const crypto::CertificateAuthority& ca,
                                     crypto::TrustStore capf_trust, int validity_days, const util::Clock& clock)
    : store_(store),
      ledger_(store),
      ca_(ca),
      trust_(std::make_shared<const crypto::TrustStore>(std::move(capf_trust))),
      validity_days_(validity_days),
      clock_(clock),
      online_(store, clock, [this] { return trust(); }) {}

void EnrollmentService::set_hook(SessionHook* hook) {
  hook_ = hook;
  online_.set_hook(hook);
}

void EnrollmentService::set_trust(std::shared_ptr<const crypto::TrustStore> trust) {
  std::lock_guard lock(config_mutex_);
  trust_ = std::move(trust);
}

std::shared_ptr<const crypto::TrustStore> EnrollmentService::trust() const {
  std::lock_guard lock(config_mutex_);
  return trust_;
}

void EnrollmentService::set_issuer(IssuerKind kind, std::shared_ptr<OnlineCa> online, OnlineCaParams params) {
  {
    std::lock_guard lock(config_mutex_);
    issuer_ = kind;
  }
  online_.configure(std::move(online), std::move(params));
}

IssuerKind EnrollmentService::issuer() const {
  std::lock_guard lock(config_mutex_);
  return issuer_;
}

bool EnrollmentService::busy(const std::string& device) {
  std::lock_guard lock(sessions_mutex_);
  return in_session_.count(device) > 0;
}

void EnrollmentService::update(const std::string& device, const std::function<bool(Device&, store::Transition&)>& fn,
                               store::Sync sync) {
  auto claim = store_.claims().claim(device);
  auto found = store_.get_device(device);
  if (!found || !found->has_value()) return;
  Device d = std::move(**found);
  store::Transition t;
  if (fn(d, t)) (void)detail::persist(store_, t, sync);
}

Decision EnrollmentService::authenticate(const protocol::AuthResponse& auth, std::uint32_t session_id) {
  // The claim makes this a read-modify-write of the current record: concurrent sessions for
  // one device decide one after another, each on what the one before it wrote.
  auto claim = store_.claims().claim(auth.device_name);
  auto found = store_.get_device(auth.device_name);
  if (!found) return {Decision::Kind::end_refused, auth.device_name, {}, "store error: " + found.error().message};
  if (!found->has_value()) return {Decision::Kind::end_unknown, auth.device_name, {}, "unknown device"};
  Device d = std::move(**found);
  Decision decision{Decision::Kind::end_refused, d.name, {}, ""};
  std::optional<PhoneCertificate> presented_mic;
  const AuthRow row = decide(d, auth, decision, presented_mic);
  return apply(d, row, std::move(decision), session_id, std::move(presented_mic));
}

AuthRow EnrollmentService::decide(const Device& d, const protocol::AuthResponse& auth, Decision& out,
                                  std::optional<PhoneCertificate>& presented_mic) {
  AuthFacts f;
  f.busy = busy(d.name);
  f.armed = d.armed();
  f.deadline_passed = d.completes_by && clock_.now() > *d.completes_by;
  f.keygen_given_up = d.keygen_failures >= keygen_attempts_.load();
  f.locked = d.status == OperationStatus::locked;
  f.auth_failures = d.auth_failures;
  f.operation = d.operation;
  for (;;) {
    const AuthRow row = decide_auth(f);
    if (row.verdict == Verdict::check_credentials) {
      f.credentials = Credentials::valid;
      switch (d.auth_mode) {
        case AuthMode::null_string:
          break;
        case AuthMode::auth_string:
          if (!auth.password || auth.password->empty()) {
            f.credentials = Credentials::wrong_string;
            out.reason = "phone sent no authentication string";
          } else if (!crypto::constant_time_equal(*auth.password, d.auth_string)) {
            f.credentials = Credentials::wrong_string;
            out.reason = "wrong authentication string";
          }
          break;
        case AuthMode::existing_cert_lsc:
        case AuthMode::existing_cert_mic:
          if (auto r = check_certificate_auth(d, auth); !r) {
            f.credentials = Credentials::refused;
            out.reason = r.error().message;
          } else if (*r) {
            presented_mic = PhoneCertificate{PhoneCertificateKind::mic, true, clock_.now(), *auth.certificate_der};
          }
          break;
      }
      continue;
    }
    if (row.verdict == Verdict::look_up_csr) {
      f.ca = ca_step(d, out);
      continue;
    }
    return row;
  }
}

CaStep EnrollmentService::ca_step(const Device& d, Decision& out) {
  out.issuer = issuer();
  if (out.issuer == IssuerKind::capf) return CaStep::none;
  auto csr = ledger_.latest(d.name);
  if (!csr || !csr->has_value() || is_final((*csr)->state)) return CaStep::none;
  const CsrRecord& c = **csr;
  if (c.state == CsrState::issued) {
    auto rec = store_.get_certificate(c.serial);
    if (rec && rec->has_value()) {
      if (auto der = util::from_hex((*rec)->der_hex); der && !der->empty()) {
        out.issuer = c.issuer;
        out.certificate_der = std::move(*der);
        out.lsc_record = **rec;
        return CaStep::deliver;
      }
    }
    log()->warn("device={} CSR {} is issued but its certificate {} is missing; asking for a new key", d.name,
                short_id(c.id), c.serial);
    return CaStep::none;
  }
  // A CSR of this same job is still on its way: the phone keeps its key and waits for it.
  if (c.job == d.job_id) {
    out.reason = "CSR " + short_id(c.id) + " still waits for the CA";
    return CaStep::wait;
  }
  return CaStep::none;  // a new operation: the new CSR makes this one stale
}

Decision EnrollmentService::apply(Device& d, const AuthRow& row, Decision decision, std::uint32_t session_id,
                                  std::optional<PhoneCertificate> presented_mic) {
  const auto now = clock_.now();
  if (presented_mic && row.write) {
    // The MIC this phone authenticated with, in place of the one it presented before.
    std::erase_if(d.phone_certificates, [](const PhoneCertificate& c) { return c.at_authentication; });
    d.phone_certificates.push_back(std::move(*presented_mic));
  }
  const std::string actor = "phone:" + d.name;
  decision.kind = row.kind;
  std::string what;
  switch (row.verdict) {
    case Verdict::busy:
      decision.reason = "another session for this device is in progress";
      break;
    case Verdict::idle:
      decision.reason = "no pending operation";
      break;
    case Verdict::expired:
      d.status = OperationStatus::expired;
      d.status_reason = "Operation Completes By " + util::format_iso8601(*d.completes_by) + " passed";
      d.operation = CertificateOperation::none;
      d.auth_string.clear();  // the string is void once the deadline passed
      what = d.status_reason;
      decision.reason = "operation expired";
      break;
    case Verdict::keygen_given_up:
      what = "key generation failed " + std::to_string(d.keygen_failures) +
             " times (Maximum Allowable Attempts for Key Generation " + std::to_string(keygen_attempts_.load()) +
             "); re-arm the operation to try again";
      decision.reason = what;
      break;
    case Verdict::locked:
      what = "operation locked after repeated wrong authentication strings";
      decision.reason = "operation locked; re-arm with a new authentication string";
      break;
    case Verdict::wrong_string:
      ++d.auth_failures;
      if (row.locks) {
        d.status = OperationStatus::locked;
        d.status_reason = std::to_string(d.auth_failures) + " wrong authentication strings; locked until re-armed";
      } else {
        d.status = OperationStatus::failed;
        d.status_reason =
            decision.reason + " (" + std::to_string(d.auth_failures) + " of " + std::to_string(kMaxAuthFailures) + ")";
      }
      what = decision.reason = d.status_reason;
      break;
    case Verdict::credentials_refused:
      d.status = OperationStatus::failed;
      d.status_reason = decision.reason;
      what = d.status_reason;
      break;
    case Verdict::wait_for_ca:
      d.auth_failures = 0;
      break;
    case Verdict::proceed:
      d.auth_failures = 0;
      d.status = OperationStatus::in_progress;
      d.status_reason.clear();
      what = std::string(to_string(d.auth_mode)) + " session=" + std::to_string(session_id);
      if (decision.kind == Decision::Kind::install) decision.key_plan = key_plan(d);
      break;
    case Verdict::unknown_device:
    case Verdict::check_credentials:
    case Verdict::look_up_csr:
      break;
  }
  if (!row.write) return decision;
  d.last_seen = now;
  d.updated_at = now;
  store::Transition t;
  if (row.has_event)
    detail::notify(hook_, t, d, row.event, row.event == SessionEvent::Kind::started ? "" : what, row.retryable);
  t.put_devices.push_back(d);
  if (*row.audit) detail::audit(t, now, actor, row.audit, d.name, what);
  if (auto r = detail::persist(store_, t, row.synced ? store::Sync::later : store::Sync::no); !r) {
    if (row.verdict == Verdict::proceed) return {Decision::Kind::end_refused, d.name, {}, r.error().message};
  } else {
    decision.await_durable = row.synced;
  }
  if (row.verdict == Verdict::proceed) {
    std::lock_guard lock(sessions_mutex_);
    in_session_.insert(d.name);
  }
  return decision;
}

Result<bool> EnrollmentService::check_certificate_auth(const Device& d, const protocol::AuthResponse& auth) {
  if (!auth.certificate_der)
    return make_error(Errc::auth_failed, "existing-certificate mode but the phone sent no certificate");
  auto cert = crypto::Certificate::from_der(*auth.certificate_der);
  if (!cert) return make_error(Errc::auth_failed, "presented certificate does not parse: " + cert.error().message);
  const std::string cn = cert->subject_cn();
  const bool name_matches =
      util::iequals(cn, d.name) || (cn.size() > d.name.size() && cn[cn.size() - d.name.size() - 1] == '-' &&
                                    util::iequals(cn.substr(cn.size() - d.name.size()), d.name));
  if (!name_matches) return make_error(Errc::auth_failed, "presented certificate CN=" + cn + " is not this device's");
  if (auto r = check_not_revoked_or_expired(store_, *cert, clock_.now()); !r) return r.error();
  if (auto v = trust()->verify(*cert, clock_.now()); !v) return make_error(Errc::auth_failed, v.error().message);
  // One of our own LSCs: refuse it once revoked or deleted.
  const auto rec = store_.get_certificate(cert->serial_hex());
  const bool known = rec && rec->has_value();
  if (known && (*rec)->issuer == ca_.certificate().subject()) {
    const auto state = (*rec)->state;
    if (state == CertificateState::revoked || state == CertificateState::deleted)
      return make_error(Errc::auth_failed,
                        "presented LSC " + cert->serial_hex() + " is " + std::string(to_string(state)));
  }
  // An LSC is one CAPF recorded for this device (issued by the CAPF CA or an external one);
  // anything else that chains to CAPF-trust is the phone's MIC.
  const bool is_mic = !(known && (*rec)->device == d.name && (*rec)->der_hex == util::to_hex(*auth.certificate_der));
  // Signed data: the device name as the phone sent it, a NUL, then the certificate DER.
  std::vector<std::uint8_t> data(auth.device_name.begin(), auth.device_name.end());
  data.push_back(0);
  data.insert(data.end(), auth.certificate_der->begin(), auth.certificate_der->end());
  if (!auth.signed_data && !auth.sha2_signed)
    return make_error(Errc::auth_failed, "existing-certificate mode but the phone sent no signature");
  if (auth.signed_data) {
    if (auto v = crypto::verify_capf(*cert, data, *auth.signed_data, crypto::CapfHash::sha1); !v)
      return make_error(Errc::auth_failed, "SIGNED_DATA: " + v.error().message);
  }
  if (auth.sha2_signed) {
    const auto hash = static_cast<crypto::CapfHash>(auth.sha2_signed->hash);
    if (hash != crypto::CapfHash::sha256 && hash != crypto::CapfHash::sha512)
      return make_error(Errc::auth_failed, "SHA2_SIGNED_DATA uses unknown hash id " +
                                               std::to_string(static_cast<int>(auth.sha2_signed->hash)));
    if (auto v = crypto::verify_capf(*cert, data, auth.sha2_signed->signature, hash); !v)
      return make_error(Errc::auth_failed, "SHA2_SIGNED_DATA: " + v.error().message);
  }
  return is_mic;
}

void EnrollmentService::release(const std::string& device) {
  std::lock_guard lock(sessions_mutex_);
  in_session_.erase(device);
}

}  // namespace capf::server
