#include "capf/engine/device_fsm.hpp"

#include <algorithm>

#include "capf/engine/rate.hpp"

namespace capf::engine {

namespace {

using S = JobDeviceState;
using K = Event::Kind;

Step unchanged(const JobDevice& d) {
  return Step{d, {}, false};
}

Step finish(JobDevice d, S state, std::string reason, std::int64_t now_ms, bool disarm) {
  d.state = state;
  d.reason = std::move(reason);
  d.finished_at = now_ms / 1000;
  d.next_attempt_ms = 0;
  Effects e;
  e.disarm_device = disarm;
  return Step{std::move(d), e, true};
}

// The reason a device failed with, and how many of its attempts it spent.
std::string attempts_spent(const std::string& reason, int attempts, const RetryPolicy& p) {
  return reason + " (" + std::to_string(attempts) + " of " + std::to_string(p.max_attempts) + " attempts)";
}

// Back to the queue, to be dispatched at once.
Step queue_now(JobDevice d, std::string reason, std::int64_t now_ms, Effects e = {}) {
  d.state = S::queued;
  d.next_attempt_ms = now_ms;
  d.reason = std::move(reason);
  return Step{std::move(d), e, true};
}

// Another attempt after a backoff, or failed when the attempts are spent.
Step retry_or_fail(JobDevice d, const Event& ev, std::int64_t now_ms, const RetryPolicy& p, double jitter) {
  if (!ev.retryable) return finish(std::move(d), S::failed, ev.reason, now_ms, true);
  if (d.attempts >= p.max_attempts) {
    std::string why = attempts_spent(ev.reason, d.attempts, p);
    return finish(std::move(d), S::failed, std::move(why), now_ms, true);
  }
  const util::UnixTime now = now_ms / 1000;
  std::int64_t delay_s =
      backoff_delay(std::max(1, d.attempts), p.backoff_base_s, p.backoff_ceiling_s, jitter, now, d.deadline);
  // A throttled endpoint's own delay wins over a shorter backoff.
  if (ev.retry_after_s) delay_s = std::max(delay_s, *ev.retry_after_s);
  d.state = S::queued;
  d.reason = ev.reason;
  d.next_attempt_ms = now_ms + delay_s * 1000;
  return Step{std::move(d), {}, true};
}

// Back to the queue without spending the attempt the dispatch took: the endpoint, not the
// device, failed. The backoff still spaces the next try.
Step requeue_uncharged(JobDevice d, const Event& ev, std::int64_t now_ms, const RetryPolicy& p, double jitter) {
  if (d.attempts > 0) --d.attempts;
  std::int64_t delay_s = backoff_delay(1, p.backoff_base_s, p.backoff_ceiling_s, jitter, now_ms / 1000, d.deadline);
  if (ev.retry_after_s) delay_s = std::max(delay_s, *ev.retry_after_s);
  d.state = S::queued;
  d.reason = ev.reason;
  d.next_attempt_ms = now_ms + delay_s * 1000;
  return Step{std::move(d), {}, true};
}

}  // namespace

Step step(const JobDevice& cur, const Event& ev, std::int64_t now_ms, const RetryPolicy& p, double jitter) {
  const bool final = is_final(cur.state);
  JobDevice d = cur;
  switch (ev.kind) {
    case K::dispatch:
      if (cur.state != S::queued || now_ms < cur.next_attempt_ms) return unchanged(cur);
      d.state = S::triggered;
      ++d.attempts;
      d.triggered_at = now_ms / 1000;
      d.next_attempt_ms = now_ms + p.session_wait_s * 1000;
      return Step{std::move(d), Effects{true, false, false}, true};

    case K::trigger_ok:
      return unchanged(cur);  // nothing to record: the wait for the session already runs

    case K::trigger_failed:
      if (cur.state != S::triggered) return unchanged(cur);  // the phone may already be in session
      if (ev.shared_outage) return requeue_uncharged(std::move(d), ev, now_ms, p, jitter);
      return retry_or_fail(std::move(d), ev, now_ms, p, jitter);

    case K::charge:
      // Only a device still waiting in the queue is charged: one tried again since has its
      // own outcome coming.
      if (cur.state != S::queued) return unchanged(cur);
      ++d.attempts;
      if (d.attempts >= p.max_attempts) {
        std::string why = attempts_spent(d.reason, d.attempts, p);
        return finish(std::move(d), S::failed, std::move(why), now_ms, true);
      }
      return Step{std::move(d), {}, true};

    case K::session_started:
      // A phone that comes by itself while its CSR is with the CA is told to wait (no change).
      if (final || cur.state == S::pending_ca) return unchanged(cur);
      d.state = S::in_session;
      d.next_attempt_ms = now_ms + p.session_wait_s * 1000;
      return Step{std::move(d), {}, true};

    case K::session_succeeded:
      if (final) return unchanged(cur);
      d.serial = ev.serial;
      // A success may still say something (Troubleshoot: "no certificate on the phone").
      return finish(std::move(d), S::succeeded, ev.reason, now_ms, false);

    case K::session_failed:
      if (final) return unchanged(cur);
      return retry_or_fail(std::move(d), ev, now_ms, p, jitter);

    case K::ca_pending:
      // The session ends normally with the CSR stored: no wait runs while the CA works, and
      // the deadline still applies.
      if (cur.state != S::in_session && cur.state != S::triggered) return unchanged(cur);
      d.state = S::pending_ca;
      d.next_attempt_ms = 0;
      d.reason = ev.reason;
      return Step{std::move(d), {}, true};

    case K::ca_ready:
      // Collecting the certificate is a new round of triggers, with its own attempts.
      if (cur.state != S::pending_ca) return unchanged(cur);
      d.attempts = 0;
      return queue_now(std::move(d), ev.reason, now_ms);

    case K::wait_expired:
      if ((cur.state != S::triggered && cur.state != S::in_session) || now_ms < cur.next_attempt_ms)
        return unchanged(cur);
      {
        Event e = ev;
        if (e.reason.empty())
          e.reason = cur.state == S::triggered
                         ? "phone did not open a CAPF session within " + std::to_string(p.session_wait_s) +
                               " s of Apply Config"
                         : "CAPF session did not finish within " + std::to_string(p.session_wait_s) + " s";
        return retry_or_fail(std::move(d), e, now_ms, p, jitter);
      }

    case K::deadline_passed:
      if (final) return unchanged(cur);
      return finish(std::move(d), S::expired, ev.reason.empty() ? "Operation Completes By passed" : ev.reason, now_ms,
                    true);

    case K::cancel:
      if (final) return unchanged(cur);
      return finish(std::move(d), S::cancelled, ev.reason.empty() ? "job cancelled" : ev.reason, now_ms, true);

    case K::retry:
      if (cur.state != S::failed) return unchanged(cur);
      d.attempts = 0;
      d.finished_at = 0;
      return queue_now(std::move(d), "", now_ms, Effects{false, false, true});

    case K::recover:
      // A session cannot survive a restart; the phone is tried again at once. A triggered phone
      // may still come, so its wait goes on.
      if (cur.state != S::in_session) return unchanged(cur);
      return queue_now(std::move(d), "daemon restarted during the CAPF session", now_ms);
  }
  return unchanged(cur);
}

}  // namespace capf::engine
