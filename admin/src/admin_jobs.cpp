// Job routes of the admin API: submit (from a CSV or a query), list, show, devices, control.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <type_traits>

#include "capf/admin/admin_service.hpp"
#include "capf/admin/paging.hpp"
#include "capf/inventory/completes_by.hpp"
#include "capf/inventory/query.hpp"
#include "capf/util/text.hpp"

namespace capf::admin {

namespace {

Error bad(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

/// Narrows with saturation: a value beyond int's range stays outside every range
/// JobSpec::validate allows, so it is refused in the range's words (4294967301 must not become 5).
int saturate(double v) {
  if (v >= static_cast<double>(std::numeric_limits<int>::max())) return std::numeric_limits<int>::max();
  if (v <= static_cast<double>(std::numeric_limits<int>::min())) return std::numeric_limits<int>::min();
  return static_cast<int>(v);
}

bool given(const nlohmann::json& j, const char* key) {
  return j.contains(key) && !j[key].is_null();
}

/// A JSON number into `out` (a fraction is cut off an int field); `out` keeps its value when the
/// field is absent or null.
template <typename T>
Result<void> read_number(const nlohmann::json& j, const char* key, const char* flag, T& out) {
  if (!given(j, key)) return ok();
  if (!j[key].is_number()) return bad(std::string(flag) + " must be a number");
  if constexpr (std::is_same_v<T, int>)
    out = saturate(j[key].get<double>());
  else
    out = j[key].get<double>();
  return ok();
}

/// A whole number given as a JSON number or as its text (the CLI sends key sizes as text).
Result<std::optional<int>> read_whole(const nlohmann::json& j, const char* key, const char* flag) {
  if (!given(j, key)) return std::optional<int>();
  std::optional<double> n;
  if (j[key].is_number())
    n = j[key].get<double>();
  else if (auto i = j[key].is_string() ? util::parse_int(j[key].get<std::string>()) : std::nullopt)
    n = static_cast<double>(*i);
  if (!n || *n != std::floor(*n)) return bad(std::string(flag) + " must be a whole number");
  return std::optional<int>(saturate(*n));
}

/// A list of texts (windows, blackouts); empty when absent or null.
Result<std::vector<std::string>> read_texts(const nlohmann::json& j, const char* key, const char* flag) {
  std::vector<std::string> out;
  if (!given(j, key)) return out;
  if (!j[key].is_array()) return bad(std::string(flag) + " must be a list of texts");
  for (const auto& v : j[key]) {
    if (!v.is_string()) return bad(std::string(flag) + " must be a list of texts");
    out.push_back(v.get<std::string>());
  }
  return out;
}

/// The settings (Authentication Mode, string policy, keys) read from their texts.
Result<void> read_settings(const nlohmann::json& j, engine::JobSpec& spec) {
  Job& job = spec.job;
  job.operation = CertificateOperation::none;  // required: JobSpec::validate names it when missing
  if (auto v = json_text(j, "operation")) {
    auto op = parse_operation(*v);
    if (!op) return bad("--operation must be install, delete or troubleshoot");
    job.operation = *op;
  }
  if (auto v = json_text(j, "auth_mode")) {
    auto m = parse_auth_mode(*v);
    if (!m) return bad("unknown Authentication Mode \"" + *v + "\" (string, null, lsc, mic)");
    job.auth_mode = *m;
  }
  if (auto v = json_text(j, "string_policy")) {
    auto p = parse_string_policy(*v);
    if (!p) return bad("unknown --string-policy \"" + *v + "\" (keep, unique, shared, csv)");
    job.string_policy = *p;
  }
  if (auto v = json_text(j, "auth_string")) {
    // Left out, a shared string is generated; given, it cannot be nothing.
    if (v->empty()) return bad("--auth-string is empty (leave it out to generate a shared string)");
    spec.shared_string = *v;
    if (!j.contains("string_policy")) job.string_policy = StringPolicy::shared;
  }
  auto length = read_whole(j, "string_length", "--string-length");
  if (!length) return length.error();
  spec.string_length = length->value_or(spec.string_length);
  auto rsa = read_whole(j, "key_size", "--key-size");
  if (!rsa) return rsa.error();
  job.rsa_key_bits = *rsa;
  auto ec = read_whole(j, "ec_key_size", "--ec-key-size");
  if (!ec) return ec.error();
  job.ec_key_bits = *ec;
  if (auto v = json_text(j, "key_order")) {
    auto k = parse_key_order(*v);
    if (!k) return bad("unknown --key-order \"" + *v + "\" (rsa, ec, ec-rsa, rsa-ec)");
    job.key_order = *k;
  }
  return ok();
}

/// When and how fast: dates, windows, blackouts, limits and the safety settings.
Result<void> read_schedule(const nlohmann::json& j, const std::string& time_zone, engine::JobSpec& spec) {
  Job& job = spec.job;
  if (auto v = json_text(j, "completes_by")) {
    auto t = inventory::parse_completes_by(*v, time_zone);
    if (!t) return bad("--completes-by: " + t.error().message);
    job.completes_by = *t;
  }
  if (auto v = json_text(j, "start_at")) {
    auto t = util::parse_iso8601(*v);
    if (!t) return bad("--start-at \"" + *v + "\" is not a date/time (YYYY-MM-DD[THH:MM[:SS]][Z])");
    job.start_at = *t;
  }
  auto windows = read_texts(j, "windows", "--window");
  if (!windows) return windows.error();
  job.windows = std::move(*windows);
  auto blackouts = read_texts(j, "blackouts", "--blackout");
  if (!blackouts) return blackouts.error();
  job.blackouts = std::move(*blackouts);
  for (auto r : {read_number(j, "rate", "--rate", job.rate_per_minute), read_number(j, "burst", "--burst", job.burst),
                 read_number(j, "max_in_flight", "--max-in-flight", job.max_in_flight),
                 read_number(j, "canary", "--canary", job.canary),
                 read_number(j, "max_fail_pct", "--max-fail-pct", job.max_fail_pct),
                 read_number(j, "max_attempts", "--max-attempts", job.max_attempts)})
    if (!r) return r;
  // What the submitter left out gets the safe defaults (a canary wave, an automatic hold).
  spec.default_canary = !given(j, "canary");
  spec.default_max_fail_pct = !given(j, "max_fail_pct");
  return ok();
}

/// A field that is true or false; false when absent or null.
Result<bool> read_flag(const nlohmann::json& j, const char* key) {
  if (!given(j, key)) return false;
  if (!j[key].is_boolean()) return bad(std::string(key) + " must be true or false");
  return j[key].get<bool>();
}

/// Columns a job's device listing sorts by; the first is the default, in the store's order.
const std::vector<std::string_view> kJobDeviceColumns{"device", "state",       "attempts",
                                                      "reason", "finished_at", "dispatched"};

std::string job_device_sort_key(const JobDevice& d, const std::string& column) {
  if (column == "state") return sort_key(to_string(d.state), d.device);
  if (column == "attempts") return sort_key(d.attempts, d.device);
  if (column == "reason") return sort_key(d.reason, d.device);
  if (column == "finished_at") return sort_key(d.finished_at, d.device);
  if (column == "dispatched") return sort_key(d.dispatch_order == 0 ? INT64_MAX : d.dispatch_order, d.device);
  return d.device;
}

/// Failed and expired devices: the job's failures.
bool failure(JobDeviceState s) {
  return s == JobDeviceState::failed || s == JobDeviceState::expired;
}

/// Dispatches, successes and failures per minute, from the devices' last dispatch and their
/// final outcome; only minutes with something in them, as [minute, dispatched, succeeded, failed].
nlohmann::json job_chart_json(const std::vector<JobDevice>& devices) {
  std::map<util::UnixTime, std::array<std::size_t, 3>> minutes;
  for (const auto& d : devices) {
    if (d.triggered_at > 0) ++minutes[d.triggered_at / 60 * 60][0];
    if (d.finished_at > 0 && d.state == JobDeviceState::succeeded) ++minutes[d.finished_at / 60 * 60][1];
    if (d.finished_at > 0 && failure(d.state)) ++minutes[d.finished_at / 60 * 60][2];
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [m, c] : minutes) rows.push_back({util::format_iso8601(m), c[0], c[1], c[2]});
  return {{"per", "minute"}, {"columns", {"minute", "dispatched", "succeeded", "failed"}}, {"rows", rows}};
}

/// The reasons of the job's failures, most frequent first.
nlohmann::json failure_reasons_json(const std::vector<JobDevice>& devices) {
  std::map<std::string, std::size_t> count;
  for (const auto& d : devices)
    if (failure(d.state)) ++count[d.reason.empty() ? std::string(to_string(d.state)) : d.reason];
  std::vector<std::pair<std::string, std::size_t>> sorted(count.begin(), count.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [reason, n] : sorted) out.push_back({{"reason", reason}, {"count", n}});
  return out;
}

}  // namespace

Result<engine::JobSpec> read_job_spec(const nlohmann::json& j, const std::string& time_zone) {
  if (!j.is_object()) return bad("a job submission must be a JSON object");
  engine::JobSpec spec;
  if (auto r = read_settings(j, spec); !r) return r.error();
  if (auto r = read_schedule(j, time_zone, spec); !r) return r.error();
  spec.job.description = json_text(j, "description").value_or("");
  auto hold = read_flag(j, "hold");
  if (!hold) return hold.error();
  if (*hold) spec.job.state = JobState::held;
  if (auto valid = spec.validate(); !valid) return valid.error();
  return spec;
}

nlohmann::json generated_strings_json(const std::vector<std::pair<std::string, std::string>>& strings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [device, s] : strings) out.push_back({{"device", device}, {"auth_string", s}});
  return out;
}

nlohmann::json job_device_json(const JobDevice& d) {
  return {{"device", d.device},
          {"state", to_string(d.state)},
          {"attempts", d.attempts},
          {"next_attempt", d.next_attempt_ms > 0 && !is_final(d.state)
                               ? nlohmann::json(util::format_iso8601(d.next_attempt_ms / 1000))
                               : nlohmann::json()},
          {"reason", d.reason},
          {"serial", d.serial},
          {"wave", d.wave == 1 ? "canary" : ""},
          {"deadline", d.deadline ? nlohmann::json(util::format_iso8601(*d.deadline)) : nlohmann::json()},
          {"queued_at", util::format_iso8601(d.queued_at)},
          {"triggered_at", d.triggered_at ? nlohmann::json(util::format_iso8601(d.triggered_at)) : nlohmann::json()},
          {"finished_at", d.finished_at ? nlohmann::json(util::format_iso8601(d.finished_at)) : nlohmann::json()}};
}

namespace {

/// The breaker a job waits for, with its sentence ("waiting: Apply Config endpoint … unreachable
/// since …, next probe at …"); null when it waits for none.
nlohmann::json waiting_json(const std::optional<BreakerStatus>& w) {
  if (!w) return nullptr;
  return {{"dependency", key_of(w->dependency)},
          {"name", to_string(w->dependency)},
          {"endpoint", w->endpoint},
          {"state", to_string(w->state)},
          {"since", util::format_iso8601(w->since)},
          {"next_probe", w->state == BreakerStatus::State::open ? nlohmann::json(util::format_iso8601(w->next_probe))
                                                                : nlohmann::json()},
          {"last_error", w->last_error},
          {"text", "waiting: " + w->describe()}};
}

/// The answer to a submission the engine judged: every figure, and why it was not submitted.
Response submit_answer(nlohmann::json out, const engine::SubmitRequest& request, const engine::SubmitResult& result,
                       const std::vector<std::pair<std::string, std::string>>& template_strings) {
  out["job_id"] = result.job_id;
  out["submitted"] = result.submitted;
  out["accepted"] = result.accepted;
  out["capacity"] = result.capacity;
  out["capacity_fits"] = result.capacity_fits;
  out["canary"] = result.canary;
  out["max_fail_pct"] = result.max_fail_pct;
  out["safety"] = result.safety;
  out["rate_per_minute"] = request.job.rate_per_minute;
  out["burst"] = result.burst;
  out["burst_note"] = result.burst_note;
  out["refused"] = nlohmann::json::array();
  for (const auto& [device, why] : result.refused) out["refused"].push_back({{"device", device}, {"reason", why}});
  // A device the job gave a string of its own takes that one; the others keep their template's.
  std::map<std::string, std::string> strings(template_strings.begin(), template_strings.end());
  for (const auto& [device, s] : result.generated_strings) strings[device] = s;
  out["generated_strings"] = generated_strings_json({strings.begin(), strings.end()});
  if (!result.submitted && !request.dry_run) {
    std::string why = !result.refused.empty()
                          ? std::to_string(result.refused.size()) +
                                " devices cannot work (see refused; --skip-invalid submits the rest)"
                      : !result.capacity_fits
                          ? "the windows cannot meet the deadline: " + result.capacity + " (--force submits anyway)"
                          : "nothing to submit";
    out["error"] = "job not submitted: " + why;
    return {422, out};
  }
  return {200, out};
}

}  // namespace

nlohmann::json job_json(const engine::JobView& v) {
  const Job& j = v.job;
  nlohmann::json counts = nlohmann::json::object();
  std::size_t total = 0;
  for (auto s :
       {JobDeviceState::queued, JobDeviceState::triggered, JobDeviceState::in_session, JobDeviceState::pending_ca,
        JobDeviceState::succeeded, JobDeviceState::failed, JobDeviceState::expired, JobDeviceState::cancelled}) {
    auto it = v.counts.find(s);
    const std::size_t n = it == v.counts.end() ? 0 : it->second;
    counts[std::string(to_string(s))] = n;
    total += n;
  }
  return {{"id", j.id},
          {"description", j.description},
          {"state", to_string(j.state)},
          {"state_reason", j.state_reason},
          {"operation", to_string(j.operation)},
          {"selection", j.selection},
          {"created_at", util::format_iso8601(j.created_at)},
          {"created_by", j.created_by},
          {"devices", total},
          {"counts", counts},
          {"in_flight", v.in_flight},
          {"rate_per_minute_measured", v.rate_per_minute ? nlohmann::json(*v.rate_per_minute) : nlohmann::json()},
          {"dispatched_last_minute", v.dispatched_last_minute},
          {"rate_window_seconds", v.rate_window_s},
          {"rate_per_minute", j.rate_per_minute},
          {"burst", v.burst},
          {"burst_note", v.burst_note},
          {"max_in_flight", j.max_in_flight},
          {"canary", j.canary},
          {"max_fail_pct", j.max_fail_pct},
          {"canary_passed", j.canary_passed},
          {"windows", j.windows},
          {"blackouts", j.blackouts},
          {"start_at", j.start_at ? nlohmann::json(util::format_iso8601(j.start_at)) : nlohmann::json()},
          {"completes_by", j.completes_by ? nlohmann::json(util::format_iso8601(*j.completes_by)) : nlohmann::json()},
          {"schedule", v.schedule_note},
          {"waiting", waiting_json(v.waiting)},
          {"eta", v.eta ? nlohmann::json(util::format_iso8601(*v.eta)) : nlohmann::json()},
          {"finished_at", j.finished_at ? nlohmann::json(util::format_iso8601(j.finished_at)) : nlohmann::json()}};
}

Response AdminService::submit_job(const Request& r) {
  const nlohmann::json body = nlohmann::json::parse(r.body);
  auto spec = read_job_spec(body, time_zone());
  if (!spec) return error_response(400, spec.error().message);
  engine::SubmitRequest request;
  static_cast<engine::JobSpec&>(request) = std::move(*spec);
  request.actor = r.actor;
  for (auto [key, out] : {std::pair{"dry_run", &request.dry_run}, std::pair{"skip_invalid", &request.skip_invalid},
                          std::pair{"force", &request.force}}) {
    auto flag = read_flag(body, key);
    if (!flag) return error_response(400, flag.error().message);
    *out = *flag;
  }
  nlohmann::json out = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> template_strings;  // Generate String of templates
  const auto where = json_text(body, "where");
  const auto csv = json_text(body, "csv");
  if (where.has_value() == csv.has_value())
    return error_response(400, "a job needs exactly one of --csv FILE or --where QUERY");
  if (csv) {
    const std::string file = json_text(body, "csv_name").value_or("job.csv");
    const auto strict = read_flag(body, "strict");
    if (!strict) return error_response(400, strict.error().message);
    auto take_string = [&](const inventory::PhoneRow& row) {
      if (row.auth_string) request.csv_strings[row.name] = *row.auth_string;
    };
    std::vector<std::string> issues;
    if (request.dry_run) {
      inventory::CsvOptions options{*strict};
      options.time_zone = time_zone();
      auto parsed = inventory::parse_phones_csv(*csv, file, options);
      if (!parsed) return error_response(400, parsed.error().message);
      for (const auto& row : parsed->rows) take_string(row);
      for (const auto& i : parsed->issues) issues.push_back(i.to_string());
      for (const auto& row : parsed->rows) request.devices.push_back(row.name);
    } else {
      auto imported = import_csv(*csv, file, *strict, r.actor, request.devices, take_string);
      if (!imported)
        return error_response(imported.error().code == Errc::invalid_argument ? 400 : 500, imported.error().message);
      issues = std::move(imported->issues);
      template_strings = std::move(imported->generated_strings);
    }
    out["csv_issues"] = issues;
    request.job.selection = "csv:" + file;
  } else {
    auto q = inventory::Query::parse(*where);
    if (!q) return error_response(400, q.error().message);
    std::unordered_set<std::string> revoked;
    auto context = query_context(store_, *q, clock_.now(), revoked);
    if (!context) return error_response(500, context.error().message);
    auto scan = store_.for_each_device([&](const Device& d) {
      if (q->matches(d, *context)) request.devices.push_back(d.name);
      return true;
    });
    if (!scan) return error_response(500, scan.error().message);
    request.job.selection = "where:" + *where;
  }
  out["matched"] = request.devices.size();
  nlohmann::json preview = nlohmann::json::array();
  for (std::size_t i = 0; i < request.devices.size() && i < 10; ++i) {
    auto d = store_.get_device(request.devices[i]);
    if (d && d->has_value())
      preview.push_back(device_json(**d));
    else
      preview.push_back({{"name", request.devices[i]}, {"note", "added from the CSV on submit"}});
  }
  out["preview"] = preview;
  auto result = engine_->submit(request);
  if (!result) {
    // The CSV's devices are written even so: their templates' strings must still reach the caller.
    out["generated_strings"] = generated_strings_json(template_strings);
    out["error"] = result.error().message;
    return {result.error().code == Errc::invalid_argument ? 400 : 500, out};
  }
  return submit_answer(std::move(out), request, *result, template_strings);
}

Response AdminService::list_jobs() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : engine_->list()) list.push_back(job_json(v));
  return {200, {{"jobs", list}}};
}

Response AdminService::show_job(const std::string& id, const std::string& query) {
  auto v = engine_->view(id);
  if (!v) return error_response(v.error().code == Errc::not_found ? 404 : 500, v.error().message);
  auto j = job_json(*v);
  auto devices = engine_->devices(id);
  if (devices) {
    nlohmann::json stuck = nlohmann::json::array();
    for (const auto& d : *devices)
      if (!is_final(d.state) && (d.attempts > 0 || !d.reason.empty()) && stuck.size() < 50)
        stuck.push_back(job_device_json(d));
    j["attention"] = stuck;
    if (query_param(query, "chart") == "1") {
      j["chart"] = job_chart_json(*devices);
      j["failure_reasons"] = failure_reasons_json(*devices);
    }
  }
  return {200, j};
}

Response AdminService::job_devices(const std::string& id, const std::string& query) {
  auto paged = page_request(query, kJobDeviceColumns);
  if (!paged) return error_response(400, paged.error().message);
  if (*paged) return page_of_job_devices(id, query, **paged);
  auto devices = engine_->devices(id);
  if (!devices) return error_response(devices.error().code == Errc::not_found ? 404 : 500, devices.error().message);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : *devices) list.push_back(job_device_json(d));
  return {200, {{"job", id}, {"devices", list}}};
}

Response AdminService::page_of_job_devices(const std::string& id, const std::string& query,
                                           const PageRequest& request) {
  auto job = store_.get_job(id);
  if (!job) return error_response(500, job.error().message);
  if (!job->has_value()) return error_response(404, "no job " + id);
  const std::string state = query_param(query, "state");
  const std::string reason = query_param(query, "reason");
  const std::string name = util::to_lower(query_param(query, "name"));
  std::optional<JobDeviceState> wanted;
  if (!state.empty() && !(wanted = parse_job_device_state(state)))
    return error_response(400,
                          "unknown device state \"" + state.substr(0, 40) +
                              "\" (queued, triggered, in-session, pending-ca, succeeded, failed, expired, cancelled)");
  PageCollector<JobDevice> page(request);
  const bool seek = request.sort == "device" && !request.descending && !request.count;
  auto take = [&](const JobDevice& d) {
    if (wanted && d.state != *wanted) return true;
    if (!reason.empty() && d.reason != reason) return true;
    if (!name.empty() && util::to_lower(d.device).find(name) == std::string::npos) return true;
    std::string key = job_device_sort_key(d, request.sort);
    if (page.offer(key)) page.add(std::move(key), d);
    return !(seek && page.full());
  };
  auto r = seek ? store_.for_each_job_device_after(id, request.after, take) : store_.for_each_job_device(id, take);
  if (!r) return error_response(500, r.error().message);
  std::string next;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : page.take(next)) list.push_back(job_device_json(d));
  return {200,
          {{"job", id},
           {"devices", std::move(list)},
           {"matched", request.count ? nlohmann::json(page.matched()) : nlohmann::json()},
           {"next", next.empty() ? nlohmann::json() : nlohmann::json(next)},
           {"sort", request.sort},
           {"order", request.descending ? "desc" : "asc"}}};
}

Response AdminService::control_job(const Request& r, const std::string& id, const std::string& action) {
  auto v = engine_->control(id, action, r.actor);
  if (!v) return error_response(v.error().code == Errc::not_found ? 404 : 400, v.error().message);
  return {200, job_json(*v)};
}

}  // namespace capf::admin
