// Value encoding of jobs and their devices.
#include "capf/store/store.hpp"
#include "codec_fields.hpp"

namespace capf::store {

using codec::Fields;
using codec::seal;
using codec::unseal;
using nlohmann::json;

namespace {
json optional_json(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(); }
}  // namespace

std::string encode_job(const Job& j) {
  return seal(json{
      {"id", j.id},
      {"description", j.description},
      {"created_by", j.created_by},
      {"created_at", j.created_at},
      {"selection", j.selection},
      {"operation", to_string(j.operation)},
      {"auth_mode", j.auth_mode ? json(to_string(*j.auth_mode)) : json()},
      {"string_policy", to_string(j.string_policy)},
      {"rsa_key_bits", j.rsa_key_bits ? json(*j.rsa_key_bits) : json()},
      {"key_order", j.key_order ? json(to_string(*j.key_order)) : json()},
      {"ec_key_bits", j.ec_key_bits ? json(*j.ec_key_bits) : json()},
      {"completes_by", optional_json(j.completes_by)},
      {"start_at", j.start_at},
      {"windows", j.windows},
      {"blackouts", j.blackouts},
      {"rate_per_minute", j.rate_per_minute},
      {"burst", j.burst},
      {"max_in_flight", j.max_in_flight},
      {"canary", j.canary},
      {"max_fail_pct", j.max_fail_pct},
      {"max_attempts", j.max_attempts},
      {"state", to_string(j.state)},
      {"state_reason", j.state_reason},
      {"canary_passed", j.canary_passed},
      {"hold_accepted_finished", j.hold_accepted_finished},
      {"hold_accepted_failed", j.hold_accepted_failed},
      {"devices", j.devices},
      {"finished_at", j.finished_at},
  });
}

Result<Job> decode_job(std::string_view bytes) {
  auto v = unseal(bytes, "job");
  if (!v) return v.error();
  const json& j = *v;
  Fields f(j, "job");
  Job job;
  job.id = f.text("id");
  job.description = f.text("description");
  job.created_by = f.text("created_by");
  job.created_at = f.integer("created_at");
  job.selection = f.text("selection");
  job.operation = f.enumeration("operation", &parse_operation);
  job.string_policy = f.enumeration("string_policy", &parse_string_policy);
  job.completes_by = f.optional_integer("completes_by");
  job.start_at = f.integer("start_at");
  job.max_in_flight = f.small_integer("max_in_flight");
  job.canary = f.small_integer("canary");
  job.max_attempts = f.small_integer("max_attempts");
  job.state = f.enumeration("state", &parse_job_state);
  job.state_reason = f.text("state_reason");
  job.finished_at = f.integer("finished_at");
  job.devices = static_cast<std::size_t>(f.integer("devices"));
  try {
    // Optional and structured fields: read directly, any type error is reported below.
    if (!j.at("auth_mode").is_null()) job.auth_mode = parse_auth_mode(j.at("auth_mode").get<std::string>());
    if (!j.at("key_order").is_null()) job.key_order = parse_key_order(j.at("key_order").get<std::string>());
    if (!j.at("rsa_key_bits").is_null()) job.rsa_key_bits = j.at("rsa_key_bits").get<int>();
    if (!j.at("ec_key_bits").is_null()) job.ec_key_bits = j.at("ec_key_bits").get<int>();
    job.windows = j.at("windows").get<std::vector<std::string>>();
    job.blackouts = j.at("blackouts").get<std::vector<std::string>>();
    job.rate_per_minute = j.at("rate_per_minute").get<double>();
    job.burst = j.at("burst").get<double>();
    job.max_fail_pct = j.at("max_fail_pct").get<double>();
    job.canary_passed = j.at("canary_passed").get<bool>();
    // Added with the failure hold: jobs written before have neither.
    job.hold_accepted_finished = j.value("hold_accepted_finished", std::size_t{0});
    job.hold_accepted_failed = j.value("hold_accepted_failed", std::size_t{0});
  } catch (const json::exception& e) {
    return make_error(Errc::io, std::string("job value: ") + e.what());
  }
  return f.finish(std::move(job));
}

std::string encode_job_device(const JobDevice& d) {
  return seal(json{
      {"job", d.job},
      {"device", d.device},
      {"state", to_string(d.state)},
      {"attempts", d.attempts},
      {"next_attempt_ms", d.next_attempt_ms},
      {"deadline", optional_json(d.deadline)},
      {"reason", d.reason},
      {"serial", d.serial},
      {"wave", d.wave},
      {"dispatch_order", d.dispatch_order},
      {"queued_at", d.queued_at},
      {"triggered_at", d.triggered_at},
      {"finished_at", d.finished_at},
  });
}

Result<JobDevice> decode_job_device(std::string_view bytes) {
  auto v = unseal(bytes, "job device");
  if (!v) return v.error();
  Fields f(*v, "job device");
  JobDevice d;
  d.job = f.text("job");
  d.device = f.text("device");
  d.state = f.enumeration("state", &parse_job_device_state);
  d.attempts = f.small_integer("attempts");
  d.next_attempt_ms = f.integer("next_attempt_ms");
  d.deadline = f.optional_integer("deadline");
  d.reason = f.text("reason");
  d.serial = f.text("serial");
  d.wave = f.small_integer("wave");
  d.dispatch_order = f.integer("dispatch_order");
  d.queued_at = f.integer("queued_at");
  d.triggered_at = f.integer("triggered_at");
  d.finished_at = f.integer("finished_at");
  return f.finish(std::move(d));
}

}  // namespace capf::store
