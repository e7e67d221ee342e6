// Online CA (capf-protocol.md §11): sending a phone's CSR or polling for it, one caller per CSR
// at a time, and the CSRs the CA worker follows up.
#include <chrono>
#include <random>
#include <set>

#include "capf/server/enrollment.hpp"
#include "capf/util/backoff.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/text.hpp"
#include "enrollment_ca.hpp"

namespace capf::server {

using ca_detail::csr_doc;
using ca_detail::log;
using ca_detail::short_id;

namespace {

/// Transient failures in a row after which an online CSR is given up (with no deadline).
constexpr int kMaxOnlineAttempts = 12;

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

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
  auto found = csr_by_id(csr_id);
  if (!found) return out;
  CsrRecord csr = std::move(*found);
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
