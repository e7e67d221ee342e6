// The policy evaluator: called from the daemon's engine loop, it plans every unpaused policy
// (plan.hpp) while one of its nights is open and submits the devices planned for that night as
// one job through the engine (the policy's windows, blackouts, rate and in-flight cap). It
// writes what it acted on before it submits, so a restart never submits a device twice.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "capf/engine/engine.hpp"
#include "capf/policy/plan.hpp"
#include "capf/policy/policy.hpp"
#include "capf/store/store.hpp"

namespace capf::policy {

struct EvaluatorOptions {
  std::int64_t interval_s = 60;  ///< plan at most this often
};

class Evaluator {
 public:
  /// `ca_subject`: the current CAPF CA's subject (for the retired-CA rule).
  Evaluator(store::Store& store, engine::Engine& engine, std::string ca_subject, EvaluatorOptions options = {});
  /// Runs one evaluation when `interval_s` passed since the last one.
  void tick(util::UnixTime now);
  /// One evaluation now; returns the jobs created.
  Result<std::size_t> run(util::UnixTime now);

 private:
  Result<std::size_t> run_policy(const Policy& p, util::UnixTime now, const CaFacts& ca);
  NightCalendar* calendar_for(const Policy& p);

  store::Store& store_;
  engine::Engine& engine_;
  std::string ca_subject_;
  EvaluatorOptions options_;
  util::UnixTime next_run_ = 0;
  std::mutex mutex_;
  /// Calendars by policy name, with the encoded policy they were made from.
  std::map<std::string, std::pair<std::string, std::unique_ptr<NightCalendar>>> calendars_;
};

}  // namespace capf::policy
