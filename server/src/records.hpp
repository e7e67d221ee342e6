// Private to server/src: how the session steps (enrollment*.cpp) and the Online CA
// coordinator (online_ca_coordinator.cpp) record what happened: the job engine's record in the same write,
// audit entries, and the write itself.
#pragma once

#include <string>

#include "capf/core/session_hook.hpp"
#include "capf/store/store.hpp"
#include "capf/util/log.hpp"
#include "capf/util/time.hpp"

namespace capf::server::detail {

inline auto log() {
  static auto l = util::logger("capf");
  return l;
}

inline std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

/// Writes `t` (synced or not) and logs a failure; the caller holds the claims it changed.
inline Result<void> persist(store::Store& store, const store::Transition& t, store::Sync sync = store::Sync::yes) {
  auto r = store.apply(t, sync);
  if (!r) log()->error("store write failed: {}", r.error().message);
  return r;
}

inline void audit(store::Transition& t, util::UnixTime now, const std::string& actor, const std::string& action,
                  const std::string& subject, const std::string& detail) {
  t.audit.push_back(AuditEntry{now, actor, action, subject, detail});
}

/// Tells `hook` (when the device belongs to a job) and adds its record to `t`; call before the
/// device itself is added, since the hook may change it.
inline void notify(SessionHook* hook, store::Transition& t, Device& d, SessionEvent::Kind kind,
                   const std::string& reason, bool retryable = true, const std::string& serial = "") {
  if (hook == nullptr || d.job_id.empty()) return;
  SessionEvent e;
  e.kind = kind;
  e.reason = reason;
  e.retryable = retryable;
  e.serial = serial;
  if (auto jd = hook->on_session_event(d, e)) t.put_job_devices.push_back(std::move(*jd));
}

}  // namespace capf::server::detail
