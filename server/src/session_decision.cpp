#include "capf/server/session_decision.hpp"

namespace capf::server {

namespace {

using K = Decision::Kind;
using E = SessionEvent::Kind;

AuthRow row(Verdict v, K kind, bool write, bool synced, const char* audit = "") {
  AuthRow r;
  r.verdict = v;
  r.kind = kind;
  r.write = write;
  r.synced = synced;
  r.audit = audit;
  return r;
}

AuthRow with_event(AuthRow r, E event, bool retryable) {
  r.has_event = true;
  r.event = event;
  r.retryable = retryable;
  return r;
}

K kind_of(CertificateOperation op) {
  switch (op) {
    case CertificateOperation::install_upgrade: return K::install;
    case CertificateOperation::troubleshoot: return K::fetch;
    case CertificateOperation::delete_lsc: return K::delete_lsc;
    case CertificateOperation::none: break;
  }
  return K::end_no_action;
}

}  // namespace

AuthRow decide_auth(const AuthFacts& f) {
  if (!f.known) return row(Verdict::unknown_device, K::end_unknown, false, false);
  if (f.busy) return row(Verdict::busy, K::end_refused, false, false);
  if (!f.armed) return row(Verdict::idle, K::end_no_action, true, false);
  if (f.deadline_passed)
    return with_event(row(Verdict::expired, K::end_no_action, true, false, "operation.expired"), E::expired, false);
  if (f.operation == CertificateOperation::install_upgrade && f.keygen_given_up)
    return with_event(row(Verdict::keygen_given_up, K::end_refused, true, false, "keygen.refused"), E::failed, false);
  if (f.locked) return with_event(row(Verdict::locked, K::end_refused, true, false, "auth.refused"), E::failed, false);
  switch (f.credentials) {
    case Credentials::unchecked: return row(Verdict::check_credentials, K::end_refused, false, false);
    case Credentials::wrong_string: {
      AuthRow r = row(Verdict::wrong_string, K::end_refused, true, true, "auth.failed");
      r.locks = f.auth_failures + 1 >= kMaxAuthFailures;
      return with_event(r, E::failed, !r.locks);
    }
    case Credentials::refused:
      return with_event(row(Verdict::credentials_refused, K::end_refused, true, false, "auth.failed"), E::failed, true);
    case Credentials::valid: break;
  }
  if (f.operation == CertificateOperation::install_upgrade) {
    switch (f.ca) {
      case CaStep::unknown: return row(Verdict::look_up_csr, K::end_refused, false, false);
      case CaStep::wait: return row(Verdict::wait_for_ca, K::end_no_action, true, false);
      case CaStep::deliver:
        return with_event(row(Verdict::proceed, K::deliver, true, false, "session.authenticated"), E::started, true);
      case CaStep::none: break;
    }
  }
  return with_event(row(Verdict::proceed, kind_of(f.operation), true, false, "session.authenticated"), E::started, true);
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::check_credentials: return "check-credentials";
    case Verdict::look_up_csr: return "look-up-csr";
    case Verdict::unknown_device: return "unknown-device";
    case Verdict::busy: return "busy";
    case Verdict::idle: return "idle";
    case Verdict::expired: return "expired";
    case Verdict::keygen_given_up: return "keygen-given-up";
    case Verdict::locked: return "locked";
    case Verdict::wrong_string: return "wrong-string";
    case Verdict::credentials_refused: return "credentials-refused";
    case Verdict::wait_for_ca: return "wait-for-ca";
    case Verdict::proceed: return "proceed";
  }
  return "?";
}

}  // namespace capf::server
