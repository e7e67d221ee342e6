// The evaluator: plans each unpaused policy while one of its nights is open and turns the
// devices planned for that night into one job.
#include "capf/policy/evaluator.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "capf/policy/template.hpp"
#include "capf/util/log.hpp"

namespace capf::policy {

namespace {
const util::ModuleLogger log{"policy"};
constexpr std::size_t kRecentJobs = 20;

/// Writes a policy's state, synced.
Result<void> save_state(store::Store& store, const std::string& policy, const PolicyState& state) {
  store::Transition w;
  w.put_docs.push_back({store::Family::policies, state_key(policy), encode_state(state)});
  if (auto r = store.apply(w, store::Sync::yes); !r) return r.error();
  return ok();
}

/// Forgets the devices whose LSC changed since (renewed) or that left the selection; true when
/// it forgot any. `serial_of`: each selected device's LSC serial.
bool forget_changed(PolicyState& state, const std::map<std::string, std::string>& serial_of) {
  bool pruned = false;
  for (auto it = state.acted.begin(); it != state.acted.end();) {
    auto found = serial_of.find(it->first);
    if (found == serial_of.end() || found->second != it->second.serial) {
      it = state.acted.erase(it);
      pruned = true;
    } else {
      ++it;
    }
  }
  return pruned;
}

/// The job of one night of policy `p`: Install/Upgrade of `devices` with template `t`'s keys.
engine::SubmitRequest night_job(const Policy& p, const DeviceTemplate& t, const Night& night,
                                const std::vector<std::string>& devices) {
  engine::SubmitRequest req;
  Job& job = req.job;
  job.description = "policy " + p.name + ", night of " + util::format_iso8601(night.start);
  job.selection = "policy:" + p.name;
  job.operation = CertificateOperation::install_upgrade;
  job.auth_mode = t.auth_mode;
  job.string_policy = StringPolicy::keep;
  job.rsa_key_bits = t.rsa_key_bits;
  job.key_order = t.key_order;
  job.ec_key_bits = t.ec_key_bits;
  job.windows = p.windows;
  job.blackouts = p.blackouts;
  job.rate_per_minute = p.rate_per_minute;
  job.max_in_flight = p.max_in_flight;
  req.devices = devices;
  req.skip_invalid = true;
  req.force = true;  // the policy planned this night; the windows check is the forecast's
  req.actor = "policy:" + p.name;
  return req;
}

/// Records in `state` what submitting the night's job did; returns the jobs created (0 or 1).
std::size_t record_submission(PolicyState& state, const Result<engine::SubmitResult>& submitted, const Night& night,
                              const std::vector<std::string>& devices) {
  if (!submitted) {
    state.note = "night of " + util::format_iso8601(night.start) + ": submitting " + std::to_string(devices.size()) +
                 " devices failed: " + submitted.error().message;
    return 0;
  }
  const auto& res = *submitted;
  if (res.submitted) {
    ++state.jobs_created;
    state.devices_submitted += res.accepted;
    state.recent_jobs.push_back(res.job_id);
    if (state.recent_jobs.size() > kRecentJobs) state.recent_jobs.erase(state.recent_jobs.begin());
    for (const auto& name : devices) state.acted[name].job = res.job_id;
    for (const auto& [name, why] : res.refused) state.acted[name].job.clear();
  }
  state.note =
      "night of " + util::format_iso8601(night.start) + ": " +
      (res.submitted ? "job " + res.job_id + " with " + std::to_string(res.accepted) + " devices" : "no job") +
      (res.refused.empty() ? ""
                           : "; " + std::to_string(res.refused.size()) + " refused (first: " + res.refused[0].first +
                                 ": " + res.refused[0].second + ")");
  return res.submitted ? 1 : 0;
}

}  // namespace

Evaluator::Evaluator(store::Store& store, engine::Engine& engine, std::string ca_subject, EvaluatorOptions options)
    : store_(store), engine_(engine), ca_subject_(std::move(ca_subject)), options_(options) {}

void Evaluator::tick(util::UnixTime now) {
  {
    std::lock_guard lock(mutex_);
    if (now < next_run_) return;
    next_run_ = now + std::max<std::int64_t>(1, options_.interval_s);
  }
  if (auto r = run(now); !r) log()->error("policy evaluation failed: {}", r.error().message);
}

NightCalendar* Evaluator::calendar_for(const Policy& p) {
  // The calendar depends on the windows, blackouts and anchor only; rebuild when they change.
  const std::string key = std::to_string(p.created_at) + "\n" + nlohmann::json(p.windows).dump() + "\n" +
                          nlohmann::json(p.blackouts).dump();
  auto& slot = calendars_[p.name];
  if (!slot.second || slot.first != key) {
    auto cal = NightCalendar::make(p);
    if (!cal) return nullptr;
    slot = {key, std::make_unique<NightCalendar>(std::move(*cal))};
  }
  return slot.second.get();
}

Result<std::size_t> Evaluator::run(util::UnixTime now) {
  std::lock_guard lock(mutex_);
  auto policies = load_policies(store_);
  if (!policies) return policies.error();
  std::optional<CaFacts> ca;
  std::size_t created = 0;
  for (const auto& p : *policies) {
    if (p.paused) continue;
    NightCalendar* cal = calendar_for(p);
    if (!cal) continue;
    // Cheap check first: nothing to do unless one of its nights is open now.
    const auto night = cal->at_or_after(now);
    if (!night || night->start > now) continue;
    if (!ca) {
      auto facts = load_ca_facts(store_, ca_subject_);
      if (!facts) return facts.error();
      ca = std::move(*facts);
    }
    auto n = run_policy(p, now, *ca);
    if (!n) {
      log()->error("policy {}: {}", p.name, n.error().message);
      continue;
    }
    created += *n;
  }
  return created;
}

Result<std::size_t> Evaluator::run_policy(const Policy& p, util::UnixTime now, const CaFacts& ca) {
  NightCalendar& cal = *calendar_for(p);
  const Night night = *cal.at_or_after(now);
  auto query = inventory::Query::parse(p.where);
  if (!query) return query.error();
  auto state = load_state(store_, p.name);
  if (!state) return state.error();
  auto tmpl = load_template(store_, p.template_name);
  if (!tmpl) return tmpl.error();
  auto write_note = [&](const std::string& note) -> Result<std::size_t> {
    if (state->note == note) return std::size_t{0};
    state->note = note;
    state->last_run = now;
    if (auto w = save_state(store_, p.name, *state); !w) return w.error();
    return std::size_t{0};
  };
  if (!tmpl->has_value()) return write_note("template " + p.template_name + " does not exist; nothing done");
  const DeviceTemplate& t = **tmpl;
  if (t.issuer && *t.issuer != ca.issuer)
    return write_note("template " + t.name + " expects Certificate Issuer to Endpoint \"" +
                      std::string(to_string(*t.issuer)) + "\" but the service uses \"" +
                      std::string(to_string(ca.issuer)) + "\"; nothing done");

  auto snapshot = load_snapshot(store_, *query, now, ca);
  if (!snapshot) return snapshot.error();
  std::map<std::string, std::string> serial_of;
  for (const auto& d : snapshot->devices) serial_of[d.device.name] = d.device.lsc_serial;
  const bool pruned = forget_changed(*state, serial_of);
  const Plan planned = plan(p, *state, cal, *snapshot, now, night.end);
  std::vector<std::string> devices;
  for (const auto& d : planned.devices)
    if (d.night == night.index) devices.push_back(d.device);
  if (devices.empty()) {
    if (!pruned) return std::size_t{0};
    if (auto r = save_state(store_, p.name, *state); !r) return r.error();
    return std::size_t{0};
  }

  // What it acts on is durable before the job exists: a crash in between delays these devices
  // to their next night; it never submits them twice.
  for (const auto& name : devices) state->acted[name] = Acted{night.start, serial_of[name], ""};
  state->last_run = now;
  state->last_night = night.start;
  if (auto r = save_state(store_, p.name, *state); !r) return r.error();

  const std::size_t created =
      record_submission(*state, engine_.submit(night_job(p, t, night, devices)), night, devices);
  store::Transition w;
  w.put_docs.push_back({store::Family::policies, state_key(p.name), encode_state(*state)});
  w.audit.push_back(AuditEntry{now, "policy:" + p.name, "policy.run", p.name, state->note});
  if (auto r = store_.apply(w, store::Sync::yes); !r) return r.error();
  log()->info("policy {}: {}", p.name, state->note);
  return created;
}

}  // namespace capf::policy
