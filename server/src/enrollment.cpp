#include "capf/server/enrollment.hpp"

#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "revocation.hpp"

namespace capf::server {

namespace {
auto log() {
  static auto l = util::logger("capf");
  return l;
}
}  // namespace

std::vector<KeySpec> key_plan(const Device& d) {
  KeySpec rsa{KeyAlgorithm::rsa, d.rsa_key_bits, EcCurve::p256};
  KeySpec ec{KeyAlgorithm::ec, 2048, curve_from_bits(d.ec_key_bits).value_or(EcCurve::p256)};
  switch (d.key_order) {
    case KeyOrder::rsa_only: return {rsa};
    case KeyOrder::ec_only: return {ec};
    case KeyOrder::ec_preferred_rsa_backup: return {ec, rsa};
    case KeyOrder::rsa_preferred_ec_backup: return {rsa, ec};
  }
  return {rsa};
}

EnrollmentService::EnrollmentService(store::Store& store, const crypto::CertificateAuthority& ca,
                                     crypto::TrustStore capf_trust, int validity_days, const util::Clock& clock)
    : store_(store),
      ca_(ca),
      trust_(std::make_shared<const crypto::TrustStore>(std::move(capf_trust))),
      validity_days_(validity_days),
      clock_(clock) {}

void EnrollmentService::notify(store::Transition& t, Device& d, SessionEvent::Kind kind, const std::string& reason,
                               bool retryable, const std::string& serial) {
  if (hook_ == nullptr || d.job_id.empty()) return;
  SessionEvent e;
  e.kind = kind;
  e.reason = reason;
  e.retryable = retryable;
  e.serial = serial;
  if (auto jd = hook_->on_session_event(d, e)) t.put_job_devices.push_back(std::move(*jd));
}

void EnrollmentService::audit(store::Transition& t, const std::string& actor, const std::string& action,
                              const std::string& subject, const std::string& detail) {
  t.audit.push_back(AuditEntry{clock_.now(), actor, action, subject, detail});
}

Result<void> EnrollmentService::persist(store::Transition t) {
  auto r = store_.apply(t, store::Sync::yes);
  if (!r) log()->error("store write failed: {}", r.error().message);
  return r;
}

Decision EnrollmentService::authenticate(const protocol::AuthResponse& auth, std::uint32_t session_id) {
  auto found = store_.get_device(auth.device_name);
  if (!found) return {Decision::Kind::end_refused, auth.device_name, {}, "store error: " + found.error().message};
  if (!found->has_value()) return {Decision::Kind::end_unknown, auth.device_name, {}, "unknown device"};
  Device d = std::move(**found);

  std::lock_guard lock(mutex_);
  if (claimed_.count(d.name)) return {Decision::Kind::end_refused, d.name, {}, "another session for this device is in progress"};
  Decision decision = authenticate_locked(d, auth, session_id);
  if (decision.kind == Decision::Kind::install || decision.kind == Decision::Kind::fetch ||
      decision.kind == Decision::Kind::delete_lsc || decision.kind == Decision::Kind::deliver)
    claimed_.insert(d.name);
  return decision;
}

Decision EnrollmentService::authenticate_locked(Device& d, const protocol::AuthResponse& auth,
                                                std::uint32_t session_id) {
  const auto now = clock_.now();
  const std::string actor = "phone:" + d.name;
  store::Transition t;
  d.last_seen = now;
  d.updated_at = now;

  if (!d.armed()) {
    t.put_devices.push_back(d);
    (void)persist(std::move(t));
    return {Decision::Kind::end_no_action, d.name, {}, "no pending operation"};
  }
  if (d.completes_by && now > *d.completes_by) {
    d.status = OperationStatus::expired;
    d.status_reason = "Operation Completes By " + util::format_iso8601(*d.completes_by) + " passed";
    d.operation = CertificateOperation::none;
    d.auth_string.clear();  // the string is void once the deadline passed
    notify(t, d, SessionEvent::Kind::expired, d.status_reason, false);
    t.put_devices.push_back(d);
    audit(t, actor, "operation.expired", d.name, d.status_reason);
    (void)persist(std::move(t));
    return {Decision::Kind::end_no_action, d.name, {}, "operation expired"};
  }
  if (const int attempts = keygen_attempts_.load();
      d.operation == CertificateOperation::install_upgrade && d.keygen_failures >= attempts) {
    const std::string why = "key generation failed " + std::to_string(d.keygen_failures) +
                            " times (Maximum Allowable Attempts for Key Generation " + std::to_string(attempts) +
                            "); re-arm the operation to try again";
    notify(t, d, SessionEvent::Kind::failed, why, false);
    t.put_devices.push_back(d);
    audit(t, actor, "keygen.refused", d.name, why);
    (void)persist(std::move(t));
    return {Decision::Kind::end_refused, d.name, {}, why};
  }
  if (d.status == OperationStatus::locked) {
    notify(t, d, SessionEvent::Kind::failed, "operation locked after repeated wrong authentication strings", false);
    t.put_devices.push_back(d);
    audit(t, actor, "auth.refused", d.name, "operation locked after repeated wrong authentication strings");
    (void)persist(std::move(t));
    return {Decision::Kind::end_refused, d.name, {}, "operation locked; re-arm with a new authentication string"};
  }

  Result<void> authenticated = ok();
  switch (d.auth_mode) {
    case AuthMode::null_string: break;
    case AuthMode::auth_string:
      if (!auth.password || auth.password->empty())
        authenticated = make_error(Errc::auth_failed, "phone sent no authentication string");
      else if (!crypto::constant_time_equal(*auth.password, d.auth_string))
        authenticated = make_error(Errc::auth_failed, "wrong authentication string");
      break;
    case AuthMode::existing_cert_lsc:
    case AuthMode::existing_cert_mic: authenticated = check_certificate_auth(d, auth); break;
  }
  if (!authenticated) {
    const std::string why = authenticated.error().message;
    if (d.auth_mode == AuthMode::auth_string) {
      ++d.auth_failures;
      if (d.auth_failures >= kMaxAuthFailures) {
        d.status = OperationStatus::locked;
        d.status_reason = std::to_string(d.auth_failures) + " wrong authentication strings; locked until re-armed";
      } else {
        d.status = OperationStatus::failed;
        d.status_reason = why + " (" + std::to_string(d.auth_failures) + " of " + std::to_string(kMaxAuthFailures) + ")";
      }
    } else {
      d.status = OperationStatus::failed;
      d.status_reason = why;
    }
    notify(t, d, SessionEvent::Kind::failed, d.status_reason, d.status != OperationStatus::locked);
    t.put_devices.push_back(d);
    audit(t, actor, "auth.failed", d.name, d.status_reason);
    (void)persist(std::move(t));
    return {Decision::Kind::end_refused, d.name, {}, d.status_reason};
  }

  std::optional<Decision> ca_step;
  if (d.operation == CertificateOperation::install_upgrade) {
    ca_step = ca_mode_decision(d);
    if (ca_step->kind == Decision::Kind::end_no_action) {
      // CA modes: the CSR of this operation is still with the CA; nothing to do until it answers.
      d.auth_failures = 0;
      t.put_devices.push_back(d);
      (void)persist(std::move(t));
      return *ca_step;
    }
  }
  d.auth_failures = 0;
  d.status = OperationStatus::in_progress;
  d.status_reason.clear();
  notify(t, d, SessionEvent::Kind::started, "");
  t.put_devices.push_back(d);
  audit(t, actor, "session.authenticated", d.name,
        std::string(to_string(d.auth_mode)) + " session=" + std::to_string(session_id));
  if (auto r = persist(std::move(t)); !r) return {Decision::Kind::end_refused, d.name, {}, r.error().message};

  switch (d.operation) {
    case CertificateOperation::install_upgrade: return *ca_step;
    case CertificateOperation::troubleshoot: return {Decision::Kind::fetch, d.name, {}, ""};
    case CertificateOperation::delete_lsc: return {Decision::Kind::delete_lsc, d.name, {}, ""};
    case CertificateOperation::none: break;
  }
  return {Decision::Kind::end_no_action, d.name, {}, "no pending operation"};
}

Result<void> EnrollmentService::check_certificate_auth(const Device& d, const protocol::AuthResponse& auth) {
  if (!auth.certificate_der) return make_error(Errc::auth_failed, "existing-certificate mode but the phone sent no certificate");
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
  if (auto rec = store_.get_certificate(cert->serial_hex()); rec && rec->has_value() &&
      (*rec)->issuer == ca_.certificate().subject()) {
    const auto state = (*rec)->state;
    if (state == CertificateState::revoked || state == CertificateState::deleted)
      return make_error(Errc::auth_failed, "presented LSC " + cert->serial_hex() + " is " + std::string(to_string(state)));
  }
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
  return ok();
}

}  // namespace capf::server
