// The session decision after AUTH_RESPONSE as a table: one row per situation, with the answer
// the phone gets, whether and how the device is written, and what the job engine is told.
#include <gtest/gtest.h>

#include <functional>

#include "capf/server/session_decision.hpp"

namespace capf::server {
namespace {

using K = Decision::Kind;
using E = SessionEvent::Kind;
using Op = CertificateOperation;

AuthFacts facts(Op op = Op::install_upgrade, Credentials c = Credentials::valid, CaStep ca = CaStep::none) {
  AuthFacts f;
  f.armed = op != Op::none;
  f.operation = op;
  f.credentials = c;
  f.ca = ca;
  return f;
}

struct Row {
  const char* name;
  AuthFacts facts;
  Verdict verdict;
  K kind;
  bool write, synced;
  bool has_event;
  E event;
  bool retryable;
  std::string audit;
};

AuthFacts with(AuthFacts f, const std::function<void(AuthFacts&)>& change) {
  change(f);
  return f;
}

}  // namespace

TEST(SessionDecision, Table) {
  const Row rows[] = {
      {"unknown device: nothing written", with(facts(), [](AuthFacts& f) { f.known = false; }), Verdict::unknown_device,
       K::end_unknown, false, false, false, E::started, true, ""},
      {"another session holds the device", with(facts(), [](AuthFacts& f) { f.busy = true; }), Verdict::busy,
       K::end_refused, false, false, false, E::started, true, ""},
      {"nothing armed: last seen, unsynced", facts(Op::none), Verdict::idle, K::end_no_action, true, false, false,
       E::started, true, ""},
      {"deadline passed: expired, unsynced", with(facts(), [](AuthFacts& f) { f.deadline_passed = true; }),
       Verdict::expired, K::end_no_action, true, false, true, E::expired, false, "operation.expired"},
      {"key generation given up: refused, unsynced", with(facts(), [](AuthFacts& f) { f.keygen_given_up = true; }),
       Verdict::keygen_given_up, K::end_refused, true, false, true, E::failed, false, "keygen.refused"},
      {"keygen count does not stop a fetch",
       with(facts(Op::troubleshoot), [](AuthFacts& f) { f.keygen_given_up = true; }), Verdict::proceed, K::fetch, true,
       false, true, E::started, true, "session.authenticated"},
      {"locked: refused without looking at the string, unsynced",
       with(facts(Op::install_upgrade, Credentials::unchecked), [](AuthFacts& f) { f.locked = true; }),
       Verdict::locked, K::end_refused, true, false, true, E::failed, false, "auth.refused"},
      {"credentials not checked yet", facts(Op::install_upgrade, Credentials::unchecked), Verdict::check_credentials,
       K::end_refused, false, false, false, E::started, true, ""},
      {"wrong string: counted, synced, retryable", facts(Op::install_upgrade, Credentials::wrong_string),
       Verdict::wrong_string, K::end_refused, true, true, true, E::failed, true, "auth.failed"},
      {"the limit's wrong string locks: not retryable",
       with(facts(Op::install_upgrade, Credentials::wrong_string),
            [](AuthFacts& f) { f.auth_failures = kMaxAuthFailures - 1; }),
       Verdict::wrong_string, K::end_refused, true, true, true, E::failed, false, "auth.failed"},
      {"certificate refused: unsynced, retryable", facts(Op::install_upgrade, Credentials::refused),
       Verdict::credentials_refused, K::end_refused, true, false, true, E::failed, true, "auth.failed"},
      {"install: CSR not looked up yet", facts(Op::install_upgrade, Credentials::valid, CaStep::unknown),
       Verdict::look_up_csr, K::end_refused, false, false, false, E::started, true, ""},
      {"install: CAPF signs", facts(), Verdict::proceed, K::install, true, false, true, E::started, true,
       "session.authenticated"},
      {"install: the CA's certificate waits", facts(Op::install_upgrade, Credentials::valid, CaStep::deliver),
       Verdict::proceed, K::deliver, true, false, true, E::started, true, "session.authenticated"},
      {"install: the CSR is still with the CA", facts(Op::install_upgrade, Credentials::valid, CaStep::wait),
       Verdict::wait_for_ca, K::end_no_action, true, false, false, E::started, true, ""},
      {"troubleshoot fetches", facts(Op::troubleshoot), Verdict::proceed, K::fetch, true, false, true, E::started, true,
       "session.authenticated"},
      {"delete deletes", facts(Op::delete_lsc), Verdict::proceed, K::delete_lsc, true, false, true, E::started, true,
       "session.authenticated"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    const AuthRow got = decide_auth(r.facts);
    EXPECT_EQ(to_string(got.verdict), to_string(r.verdict));
    EXPECT_EQ(static_cast<int>(got.kind), static_cast<int>(r.kind));
    EXPECT_EQ(got.write, r.write);
    EXPECT_EQ(got.synced, r.synced);
    EXPECT_EQ(got.has_event, r.has_event);
    if (r.has_event) {
      EXPECT_EQ(static_cast<int>(got.event), static_cast<int>(r.event));
      EXPECT_EQ(got.retryable, r.retryable);
    }
    EXPECT_EQ(std::string(got.audit), r.audit);
  }
}

// Only a counted wrong string is written durably before the phone hears the answer: whatever
// else an unauthenticated phone sends costs no fsync.
TEST(SessionDecision, OnlyACountedWrongStringIsSynced) {
  for (int known = 0; known < 2; ++known)
    for (int armed = 0; armed < 2; ++armed)
      for (int deadline = 0; deadline < 2; ++deadline)
        for (int locked = 0; locked < 2; ++locked)
          for (auto c : {Credentials::valid, Credentials::wrong_string, Credentials::refused})
            for (auto ca : {CaStep::none, CaStep::deliver, CaStep::wait}) {
              AuthFacts f = facts(armed ? Op::install_upgrade : Op::none, c, ca);
              f.known = known;
              f.deadline_passed = deadline;
              f.locked = locked;
              const AuthRow row = decide_auth(f);
              EXPECT_EQ(row.synced, row.verdict == Verdict::wrong_string) << to_string(row.verdict);
            }
}

}  // namespace capf::server
