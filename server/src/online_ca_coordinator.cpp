// The Online CA coordinator: one exchange per CSR at a time, its answers in the CSR ledger.
#include "capf/server/online_ca_coordinator.hpp"

#include <chrono>
#include <random>

#include "capf/crypto/bundle.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/lsc_rule.hpp"
#include "capf/util/backoff.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/text.hpp"
#include "records.hpp"

namespace capf::server {

using detail::log;
using detail::short_id;

namespace {

/// Transient failures in a row after which an online CSR is given up (with no deadline).
constexpr int kMaxOnlineAttempts = 12;

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string ca_actor(const CsrRecord& c) {
  return "ca:" + (c.ca.empty() ? std::string(to_string(c.issuer)) : c.ca);
}

void count_answer(const std::string& ca, const CaOutcome& answer, double seconds) {
  const std::string outcome = answer.kind == CaOutcome::Kind::issued    ? "issued"
                              : answer.kind == CaOutcome::Kind::pending ? "pending"
                                                                        : "rejected";
  util::metrics::ca_request(ca, outcome, seconds);
  if (answer.kind == CaOutcome::Kind::rejected) util::metrics::ca_error(ca, std::string(to_string(answer.error_class)));
}

/// One call to the Online CA. An adapter that throws (on an answer it could not read) ends this
/// call with a classified rejection: a poll may simply be asked again, but a submission may have
/// reached the CA, so it is not sent again.
CaOutcome ask_ca(OnlineCa& ca, bool polling, const CsrRecord& csr, const std::vector<std::uint8_t>& der) {
  try {
    util::fault_point_for_test(polling ? "ca-poll" : "ca-submit", csr.device);
    return polling ? ca.poll(csr.handle) : ca.submit(der, csr.device);
  } catch (...) {
    const std::string why = util::describe(std::current_exception());
    util::report_contained("ca-worker", "the Online CA call for device " + csr.device, std::current_exception());
    if (polling)
      return CaOutcome::rejected(CaErrorClass::retryable,
                                 "capf could not read the Online CA's answer to a poll (" + why + ")");
    return CaOutcome::rejected(CaErrorClass::needs_admin,
                               "capf could not read the Online CA's answer to the submission (" + why +
                                   "); the CA may hold the request, so capf does not send it again: check the CA "
                                   "for a request from " +
                                   csr.device + ", then retry the device");
  }
}

}  // namespace

OnlineCaCoordinator::OnlineCaCoordinator(store::Store& store, const util::Clock& clock,
                                         std::function<std::shared_ptr<const crypto::TrustStore>()> trust)
    : store_(store), ledger_(store), clock_(clock), trust_(std::move(trust)) {}

void OnlineCaCoordinator::configure(std::shared_ptr<OnlineCa> online, OnlineCaParams params) {
  std::lock_guard lock(mutex_);
  online_ = std::move(online);
  params_ = std::move(params);
  if (breakers_ && online_) breakers_->configure(Dependency::online_ca, breaker_settings_, online_->name());
}

void OnlineCaCoordinator::set_breakers(std::shared_ptr<Breakers> breakers, BreakerSettings settings) {
  std::lock_guard lock(mutex_);
  breakers_ = std::move(breakers);
  breaker_settings_ = settings;
  if (breakers_ && online_) breakers_->configure(Dependency::online_ca, breaker_settings_, online_->name());
}

std::string OnlineCaCoordinator::ca_name() const {
  std::lock_guard lock(mutex_);
  return online_ ? online_->name() : "";
}

void OnlineCaCoordinator::track(const std::string& csr_id) {
  std::lock_guard lock(mutex_);
  tracked_.insert(csr_id);
}

OnlineStep OnlineCaCoordinator::work(const std::string& csr_id) {
  OnlineStep out;
  // The CA worker and the phone's own session may both pick up a fresh CSR; without this claim
  // both read it `pending` before either writes `submitting`, and the CA gets it twice.
  {
    std::lock_guard lock(mutex_);
    if (!working_.insert(csr_id).second) {
      out.waiting = true;
      out.reason = "the CSR is already being sent to the Online CA";
      return out;
    }
  }
  struct Release {
    OnlineCaCoordinator& self;
    const std::string& id;
    ~Release() {
      std::lock_guard lock(self.mutex_);
      self.working_.erase(id);
    }
  } release{*this, csr_id};
  std::shared_ptr<OnlineCa> ca;
  OnlineCaParams params;
  std::shared_ptr<Breakers> breakers;
  {
    std::lock_guard lock(mutex_);
    ca = online_;
    params = params_;
    breakers = breakers_;
  }
  auto found = ledger_.get(csr_id);
  if (!found || !found->has_value()) return out;
  const std::string device = (*found)->device;

  // Before the request leaves: the current CSR, marked `submitting` durably, under its device's claim.
  CsrRecord csr;
  bool polling = false;
  {
    auto claim = store_.claims().claim(device);
    auto current = ledger_.get(csr_id);
    if (!current || !current->has_value()) return out;
    csr = std::move(**current);
    if (csr.state != CsrState::pending && csr.state != CsrState::submitted) return out;
    if (!ca) {
      out.waiting = true;
      out.reason = "no Online CA is configured";
      return out;
    }
    // While the Online CA is down only its probe goes: this CSR waits, and no try is counted.
    if (breakers && breakers->gate(Dependency::online_ca, device, clock_.now()) == CircuitBreaker::Gate::wait) {
      out.waiting = true;
      out.reason = breakers->status(Dependency::online_ca).describe();
      return out;
    }
    polling = csr.state == CsrState::submitted && !csr.handle.empty();
    if (!polling) {
      // A crash from here on leaves a mark that forbids sending it again.
      ++csr.submissions;
      store::Transition t;
      if (auto m = store::CsrLedger::move(csr, CsrEvent::sending, clock_.now(), t); !m) return out;
      if (auto w = detail::persist(store_, t); !w) {
        out.waiting = true;
        out.reason = w.error().message;
        return out;
      }
    }
  }
  const auto der = util::from_hex(csr.csr_der_hex).value_or(std::vector<std::uint8_t>{});
  const auto asked = std::chrono::steady_clock::now();
  const CaOutcome answer = ask_ca(*ca, polling, csr, der);
  count_answer(ca->name(), answer, std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count());
  const bool given_back = note_answer(breakers.get(), device, answer);

  {
    auto claim = store_.claims().claim(device);
    // What this exchange marked is still the CSR's state unless a newer CSR made it stale meanwhile.
    auto current = ledger_.get(csr_id);
    if (!current || !current->has_value() || (*current)->state != csr.state) {
      out.reason = "the CSR changed while the Online CA answered (" +
                   std::string(current && current->has_value() ? to_string((*current)->state) : "gone") + ")";
      return out;
    }
    out = record_answer(csr, answer, params, given_back);
  }
  if (out.certificate && hook_) hook_->on_certificates_ready({csr.device});
  return out;
}

bool OnlineCaCoordinator::note_answer(Breakers* breakers, const std::string& device, const CaOutcome& answer) {
  if (!breakers) return false;
  using C = CircuitBreaker::Change;
  const auto now = clock_.now();
  if (answer.kind != CaOutcome::Kind::rejected || answer.error_class != CaErrorClass::retryable) {
    // Any other answer proves the CA reachable and working.
    if (breakers->success(Dependency::online_ca, now) == C::closed)
      log()->info("the Online CA answers again: CSRs go to it again");
    return false;
  }
  const bool was_down = !breakers->status(Dependency::online_ca).closed();
  const auto change =
      breakers->failure(Dependency::online_ca, device, answer.message, now, jitter(), answer.retry_after_s.value_or(0));
  if (change == C::opened)
    log()->warn("{}: CSRs wait for it", breakers->status(Dependency::online_ca).describe());
  else if (change == C::probe_failed)
    log()->info("probe failed: {}", breakers->status(Dependency::online_ca).describe());
  return was_down || change == C::opened;
}

OnlineStep OnlineCaCoordinator::record_answer(CsrRecord& csr, const CaOutcome& answer, const OnlineCaParams& params,
                                              bool given_back) {
  OnlineStep out;
  const auto now = clock_.now();
  if (!answer.handle.empty()) csr.handle = answer.handle;
  switch (answer.kind) {
    case CaOutcome::Kind::issued: {
      auto accepted = accept(csr, answer.certificate_pem, answer.chain_pem);
      if (!accepted) {
        fail_claimed(csr, CaErrorClass::permanent, accepted.error().message);
        out.reason = accepted.error().message;
        return out;
      }
      out.certificate = std::move(accepted->first);
      out.record = std::move(accepted->second);
      out.reason = "issued";
      return out;
    }
    case CaOutcome::Kind::pending: {
      csr.attempts = 0;
      csr.error = "pending at the CA as request " + csr.handle;
      csr.error_class = CaErrorClass::none;
      csr.next_try_at = now + std::max(1, params.poll_interval_s);
      store::Transition t;
      if (auto m = store::CsrLedger::move(csr, CsrEvent::held, now, t); m) {
        detail::audit(t, now, "ca:" + csr.ca, "csr.pending", csr.device,
                      "csr=" + short_id(csr.id) + " request=" + csr.handle);
        (void)detail::persist(store_, t);
      }
      out.waiting = true;
      out.reason = csr.error;
      return out;
    }
    case CaOutcome::Kind::rejected:
      break;
  }
  if (answer.error_class != CaErrorClass::retryable) {
    fail_claimed(csr, answer.error_class, answer.message);
    out.reason = answer.message;
    return out;
  }
  // Transient: back off and try again, never past half the time left to the device's deadline.
  // A failure during an outage of the CA is the CA's: the CSR's tries are not spent on it.
  std::optional<util::UnixTime> deadline;
  if (auto found = store_.get_device(csr.device); found && found->has_value()) deadline = (*found)->completes_by;
  if (!given_back) ++csr.attempts;
  if (csr.attempts >= kMaxOnlineAttempts || (deadline && *deadline <= now)) {
    fail_claimed(csr, CaErrorClass::retryable,
                 answer.message + " (gave up after " + std::to_string(csr.attempts) + " tries)");
    out.reason = answer.message;
    return out;
  }
  auto delay = util::backoff_delay(csr.attempts, params.retry_base_s, params.retry_ceiling_s, jitter(), now, deadline);
  if (answer.retry_after_s) delay = std::max<std::int64_t>(delay, *answer.retry_after_s);
  csr.error = answer.message;
  csr.error_class = CaErrorClass::retryable;
  csr.next_try_at = now + std::max<std::int64_t>(delay, 1);
  store::Transition t;
  if (auto m = store::CsrLedger::move(csr, CsrEvent::retry, now, t); m) (void)detail::persist(store_, t);
  out.waiting = true;
  out.reason = answer.message;
  return out;
}

Result<std::pair<crypto::Certificate, CertificateRecord>> OnlineCaCoordinator::accept(
    CsrRecord& csr, const std::string& pem, const std::vector<std::string>& chain_pem) {
  auto cert = crypto::Certificate::from_pem(pem);
  if (!cert) return make_error(Errc::crypto, "the CA's answer is not a certificate: " + cert.error().message);
  std::string spki_sha256 = csr.spki_sha256;
  if (spki_sha256.empty()) {
    auto info = crypto::verify_csr(util::from_hex(csr.csr_der_hex).value_or(std::vector<std::uint8_t>{}));
    if (!info) return make_error(Errc::internal, "stored CSR " + short_id(csr.id) + " no longer parses");
    spki_sha256 = crypto::sha256_hex(info->public_key_der);
  }
  std::vector<crypto::Certificate> intermediates;
  for (const auto& p : chain_pem) {
    auto more = crypto::certificates_from_bytes(std::span(reinterpret_cast<const std::uint8_t*>(p.data()), p.size()));
    if (more) intermediates.insert(intermediates.end(), more->begin(), more->end());
  }
  const auto now = clock_.now();
  const auto trust = trust_();
  if (auto rule = crypto::accept_ca_lsc(*cert, spki_sha256, csr.device, *trust, intermediates, now); !rule)
    return make_error(Errc::crypto, "the CA's certificate " + cert->serial_hex() + " for " + csr.device +
                                        " is refused: " + rule.error().message);

  store::Transition t;
  csr.serial = cert->serial_hex();
  csr.error.clear();
  csr.error_class = CaErrorClass::none;
  if (auto m = store::CsrLedger::move(csr, CsrEvent::issued, now, t); !m) return m.error();
  CertificateRecord rec;
  rec.serial = csr.serial;
  rec.device = csr.device;
  rec.issuer = cert->issuer();
  rec.key = csr.key;
  rec.issued_at = now;
  rec.not_after = cert->not_after();
  rec.state = CertificateState::issued;
  rec.der_hex = util::to_hex(cert->to_der());
  t.put_certificates.push_back(rec);
  detail::audit(t, now, ca_actor(csr), "lsc.issued", csr.device,
                "serial=" + rec.serial + " csr=" + short_id(csr.id) + " issuer=" + rec.issuer);
  if (auto w = detail::persist(store_, t); !w) return w.error();
  return std::pair{std::move(*cert), std::move(rec)};
}

void OnlineCaCoordinator::fail(const CsrRecord& csr, CaErrorClass cls, const std::string& reason) {
  auto claim = store_.claims().claim(csr.device);
  auto current = ledger_.get(csr.id);
  if (!current || !current->has_value()) return;
  fail_claimed(std::move(**current), cls, reason);
}

void OnlineCaCoordinator::fail_claimed(CsrRecord c, CaErrorClass cls, const std::string& reason) {
  const auto now = clock_.now();
  c.error_class = cls;
  c.error = reason;
  store::Transition t;
  if (auto m = store::CsrLedger::move(c, CsrEvent::rejected, now, t); !m) {
    log()->warn("device={} {}", c.device, m.error().message);
    return;
  }
  detail::audit(t, now, ca_actor(c), "csr.rejected", c.device,
                "csr=" + short_id(c.id) + " class=" + std::string(to_string(cls)) + " " + reason);
  if (auto found = store_.get_device(c.device); found && found->has_value()) {
    Device d = **found;
    if (d.job_id == c.job) {
      d.status = OperationStatus::failed;
      d.status_reason = std::string(to_string(cls)) + ": " + reason;
      d.updated_at = now;
      // A denial cannot be retried with the same CSR; the job's retry re-arms the device for a new one.
      detail::notify(hook_, t, d, SessionEvent::Kind::failed, d.status_reason, false);
      t.put_devices.push_back(d);
    }
  }
  (void)detail::persist(store_, t);
  log()->warn("device={} CSR {} rejected ({}): {}", c.device, short_id(c.id), to_string(cls), reason);
}

std::vector<CsrRecord> OnlineCaCoordinator::due(bool at_start) {
  std::vector<CsrRecord> work, unknown;
  if (at_start) {
    // One full scan: the Online CA's CSRs still waiting, and those a crash caught mid-send.
    std::set<std::string> ids;
    (void)ledger_.for_each([&](const CsrRecord& c) {
      if (c.issuer != IssuerKind::online_ca) return true;
      if (c.state == CsrState::pending || c.state == CsrState::submitted) {
        work.push_back(c);
        ids.insert(c.id);
      }
      if (c.state == CsrState::submitting) unknown.push_back(c);
      return true;
    });
    {
      std::lock_guard lock(mutex_);
      tracked_.insert(ids.begin(), ids.end());
    }
    for (const auto& c : unknown)
      fail(c, CaErrorClass::needs_admin,
           "capf stopped while sending this CSR to the Online CA, so the CA may hold it; it is not sent again. "
           "Check the CA for a request from " +
               c.device + ", then retry the device");
    return work;
  }
  // Afterwards only the CSRs known to be with the Online CA are read, not every CSR each round.
  std::set<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    ids = tracked_;
  }
  std::vector<std::string> done;
  for (const auto& id : ids) {
    auto c = ledger_.get(id);
    if (!c) continue;  // a read error: try again next round
    if (!c->has_value()) {
      done.push_back(id);
      continue;
    }
    const auto state = (*c)->state;
    if (state == CsrState::pending || state == CsrState::submitted)
      work.push_back(**c);
    else if (state != CsrState::submitting)
      done.push_back(id);
  }
  std::lock_guard lock(mutex_);
  for (const auto& id : done) tracked_.erase(id);
  return work;
}

}  // namespace capf::server
