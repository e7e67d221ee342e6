// The CA modes of the CAPF service (capf-protocol.md §11): storing the phone's CSR, the online
// CA's answers, and delivery of a certificate an external CA issued on the phone's next session.
#include <chrono>
#include <random>
#include <set>

#include "capf/crypto/codec.hpp"
#include "capf/server/enrollment.hpp"
#include "capf/util/backoff.hpp"
#include "capf/util/log.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/text.hpp"

namespace capf::server {

namespace {
auto log() {
  static auto l = util::logger("capf");
  return l;
}

store::Doc csr_doc(const CsrRecord& r) { return store::Doc{store::Family::csrs, r.id, encode_csr(r)}; }

std::string short_id(const std::string& id) { return id.substr(0, 12); }

/// Transient failures in a row after which an online CSR is given up (with no deadline).
constexpr int kMaxOnlineAttempts = 12;

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}
}  // namespace

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

std::optional<CsrRecord> EnrollmentService::latest_csr(const std::string& device) const {
  auto id = store_.get_doc(store::Family::csr_by_device, device);
  if (!id || !id->has_value()) return std::nullopt;
  auto json = store_.get_doc(store::Family::csrs, **id);
  if (!json || !json->has_value()) return std::nullopt;
  auto r = decode_csr(**json);
  if (!r) return std::nullopt;
  return *r;
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
  if (auto json = store_.get_doc(store::Family::csrs, csr.id); json && json->has_value()) {
    if (auto now = decode_csr(**json); now && now->state == CsrState::issued && hook_)
      hook_->on_certificates_ready({device});
  }
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

OnlineStep EnrollmentService::work_online(const std::string& csr_id) {
  OnlineStep out;
  // The CA worker and the phone's own session may both pick up a fresh CSR; without this claim
  // both read it `pending` before either writes `submitting`, and the CA gets it twice.
  {
    std::lock_guard lock(config_mutex_);
    if (!online_working_.insert(csr_id).second) {
      out.waiting = true;
      out.reason = "the CSR is already being sent to the Online CA";
      return out;
    }
  }
  struct Release {
    EnrollmentService& self;
    const std::string& id;
    ~Release() {
      std::lock_guard lock(self.config_mutex_);
      self.online_working_.erase(id);
    }
  } release{*this, csr_id};
  auto json = store_.get_doc(store::Family::csrs, csr_id);
  if (!json || !json->has_value()) return out;
  auto parsed = decode_csr(**json);
  if (!parsed) return out;
  CsrRecord csr = *parsed;
  if (csr.state != CsrState::pending && csr.state != CsrState::submitted) return out;
  std::shared_ptr<OnlineCa> ca;
  OnlineCaParams params;
  {
    std::lock_guard lock(config_mutex_);
    ca = online_;
    params = online_params_;
  }
  if (!ca) {
    out.waiting = true;
    out.reason = "no Online CA is configured";
    return out;
  }
  const bool polling = csr.state == CsrState::submitted && !csr.handle.empty();
  if (!polling) {
    // Written before the request leaves: a crash from here on leaves a mark that forbids sending it again.
    csr.state = CsrState::submitting;
    ++csr.submissions;
    csr.updated_at = clock_.now();
    store::Transition t;
    t.put_docs.push_back(csr_doc(csr));
    if (auto w = persist(std::move(t)); !w) {
      out.waiting = true;
      out.reason = w.error().message;
      return out;
    }
  }
  const auto der = util::from_hex(csr.csr_der_hex).value_or(std::vector<std::uint8_t>{});
  const auto asked = std::chrono::steady_clock::now();
  const CaOutcome answer = polling ? ca->poll(csr.handle) : ca->submit(der, csr.device);
  {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    const std::string outcome = answer.kind == CaOutcome::Kind::issued    ? "issued"
                                : answer.kind == CaOutcome::Kind::pending ? "pending"
                                                                          : "rejected";
    util::metrics::ca_request(ca->name(), outcome, seconds);
    if (answer.kind == CaOutcome::Kind::rejected) util::metrics::ca_error(ca->name(), std::string(to_string(answer.error_class)));
  }
  const auto now = clock_.now();
  csr.updated_at = now;
  if (!answer.handle.empty()) csr.handle = answer.handle;

  switch (answer.kind) {
    case CaOutcome::Kind::issued: {
      auto cert = accept_ca_certificate(csr, answer.certificate_pem);
      if (!cert) {
        csr_failed(csr, CaErrorClass::permanent, cert.error().message);
        out.reason = cert.error().message;
        return out;
      }
      out.certificate = std::move(*cert);
      out.reason = "issued";
      if (hook_) hook_->on_certificates_ready({csr.device});
      return out;
    }
    case CaOutcome::Kind::pending: {
      csr.state = CsrState::submitted;
      csr.attempts = 0;
      csr.error = "pending at the CA as request " + csr.handle;
      csr.error_class = CaErrorClass::none;
      csr.next_try_at = now + std::max(1, params.poll_interval_s);
      store::Transition t;
      t.put_docs.push_back(csr_doc(csr));
      audit(t, "ca:" + csr.ca, "csr.pending", csr.device, "csr=" + short_id(csr.id) + " request=" + csr.handle);
      (void)persist(std::move(t));
      out.waiting = true;
      out.reason = csr.error;
      return out;
    }
    case CaOutcome::Kind::rejected: break;
  }
  if (answer.error_class != CaErrorClass::retryable) {
    csr_failed(csr, answer.error_class, answer.message);
    out.reason = answer.message;
    return out;
  }
  // Transient: back off and try again, never past half the time left to the device's deadline.
  std::optional<util::UnixTime> deadline;
  if (auto found = store_.get_device(csr.device); found && found->has_value()) deadline = (*found)->completes_by;
  ++csr.attempts;
  if (csr.attempts >= kMaxOnlineAttempts || (deadline && *deadline <= now)) {
    csr_failed(csr, CaErrorClass::retryable,
               answer.message + " (gave up after " + std::to_string(csr.attempts) + " tries)");
    out.reason = answer.message;
    return out;
  }
  auto delay = util::backoff_delay(csr.attempts, params.retry_base_s, params.retry_ceiling_s, jitter(), now, deadline);
  if (answer.retry_after_s) delay = std::max<std::int64_t>(delay, *answer.retry_after_s);
  csr.state = polling ? CsrState::submitted : CsrState::pending;
  csr.error = answer.message;
  csr.error_class = CaErrorClass::retryable;
  csr.next_try_at = now + std::max<std::int64_t>(delay, 1);
  store::Transition t;
  t.put_docs.push_back(csr_doc(csr));
  (void)persist(std::move(t));
  out.waiting = true;
  out.reason = answer.message;
  return out;
}

std::vector<CsrRecord> EnrollmentService::online_work(bool at_start) {
  std::vector<CsrRecord> work, unknown;
  if (at_start) {
    // One full scan: the Online CA's CSRs still waiting, and those a crash caught mid-send.
    std::set<std::string> ids;
    (void)store_.for_each_doc(store::Family::csrs, "", [&](const std::string&, const std::string& json) {
      auto c = decode_csr(json);
      if (!c || c->issuer != IssuerKind::online_ca) return true;
      if (c->state == CsrState::pending || c->state == CsrState::submitted) {
        work.push_back(*c);
        ids.insert(c->id);
      }
      if (c->state == CsrState::submitting) unknown.push_back(*c);
      return true;
    });
    {
      std::lock_guard lock(config_mutex_);
      online_ids_.insert(ids.begin(), ids.end());
    }
    for (const auto& c : unknown)
      csr_failed(c, CaErrorClass::needs_admin,
                 "capf stopped while sending this CSR to the Online CA, so the CA may hold it; it is not sent again. "
                 "Check the CA for a request from " + c.device + ", then retry the device");
    return work;
  }
  // Afterwards only the CSRs known to be with the Online CA are read, not every CSR each round.
  std::set<std::string> ids;
  {
    std::lock_guard lock(config_mutex_);
    ids = online_ids_;
  }
  std::vector<std::string> done;
  for (const auto& id : ids) {
    auto json = store_.get_doc(store::Family::csrs, id);
    if (!json) continue;  // a read error: try again next round
    if (!json->has_value()) {
      done.push_back(id);
      continue;
    }
    auto c = decode_csr(**json);
    if (c && (c->state == CsrState::pending || c->state == CsrState::submitted)) work.push_back(*c);
    else if (!c || c->state != CsrState::submitting) done.push_back(id);
  }
  std::lock_guard lock(config_mutex_);
  for (const auto& id : done) online_ids_.erase(id);
  return work;
}

}  // namespace capf::server
