#include "serve_support.hpp"

#include "capf/config/params.hpp"
#include "capf/util/log.hpp"
#include "capf/util/open_files.hpp"

namespace capf::cli {

po::options_description param_options() {
  po::options_description d("service parameters (stored; `capf config` shows and changes them)");
  for (const auto& p : config::parameters()) {
    const std::string help = std::string(p.display) + (p.unit.empty() ? "" : ", " + std::string(p.unit)) +
                             (config::shown_range(p).empty() ? "" : " " + config::shown_range(p)) +
                             " (default " + config::shown_default(p) + ")";
    d.add_options()(std::string(p.name).c_str(), po::value<std::string>(), help.c_str());
  }
  return d;
}

std::vector<std::pair<std::string, std::string>> given_params(const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::string>> out;
  ServiceParams scratch;
  for (const auto& p : config::parameters()) {
    const std::string name(p.name);
    if (!vm.count(name)) continue;
    const auto value = vm[name].as<std::string>();
    if (auto r = config::set_parameter(scratch, name, value); !r) throw UsageError(r.error().message);
    out.emplace_back(name, value);
  }
  return out;
}

ServiceParams startup_params(store::Store& store, const util::Clock& clock,
                             const std::vector<std::pair<std::string, std::string>>& given) {
  auto loaded = config::load(store);
  if (!loaded) throw Failure(loaded.error().message);
  ServiceParams p = *loaded;
  std::vector<AuditEntry> audit;
  for (const auto& [name, value] : given) {
    const ServiceParams before = p;
    if (auto r = config::set_parameter(p, name, value); !r) throw UsageError(r.error().message);
    const auto* info = config::find_parameter(name);
    if (config::raw_value(before, *info) != config::raw_value(p, *info))
      audit.push_back(AuditEntry{clock.now(), "capf serve", "config.set", name, config::change_detail(*info, before, p)});
  }
  if (!audit.empty()) {
    if (auto r = config::save(store, p, audit); !r) throw Failure("storing the service parameters: " + r.error().message);
    for (const auto& a : audit) util::logger("capf")->info("service parameter from the command line/config file: {}", a.detail);
  }
  return p;
}

std::vector<util::metrics::Collection> daemon_metrics(const server::ServerStats& stats, const engine::Engine& engine) {
  using util::metrics::Sample;
  auto& r = util::metrics::Registry::global();
  util::metrics::describe_capf_metrics();
  std::vector<util::metrics::Collection> out;
  auto one = [](double v) { return std::vector<Sample>{Sample{{}, v}}; };
  out.push_back(r.collect("capf_sessions_open", "CAPF sessions open now", "gauge",
                          [&stats, one] { return one(static_cast<double>(stats.sessions_open.load())); }));
  out.push_back(r.collect("capf_sessions_total", "CAPF sessions started", "counter",
                          [&stats, one] { return one(static_cast<double>(stats.sessions_started.load())); }));
  out.push_back(r.collect("capf_enrollments_total", "LSCs a phone confirmed storing", "counter",
                          [&stats, one] { return one(static_cast<double>(stats.enrollments.load())); }));
  out.push_back(r.collect("capf_lscs_issued_total", "LSCs signed for a phone in a CAPF session", "counter",
                          [&stats, one] { return one(static_cast<double>(stats.lscs_issued.load())); }));
  out.push_back(r.collect(
      "capf_session_failures_total",
      "CAPF sessions that ended without success, by reason (malformed, timeout, keep_alive, phone_abort, connection, "
      "refused, unknown_device, keygen, issue, internal, capacity, address_cap)",
      "counter", [&stats] {
        auto v = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load()); };
        return std::vector<Sample>{
            {{{"reason", "malformed"}}, v(stats.protocol_errors)},
            {{{"reason", "timeout"}}, v(stats.fail_timeout)},
            {{{"reason", "keep_alive"}}, v(stats.fail_keep_alive)},
            {{{"reason", "phone_abort"}}, v(stats.fail_phone_abort)},
            {{{"reason", "connection"}}, v(stats.fail_connection)},
            {{{"reason", "refused"}}, v(stats.fail_refused)},
            {{{"reason", "unknown_device"}}, v(stats.fail_unknown_device)},
            {{{"reason", "keygen"}}, v(stats.fail_keygen)},
            {{{"reason", "issue"}}, v(stats.fail_issue)},
            {{{"reason", "internal"}}, v(stats.fail_internal)},
            {{{"reason", "capacity"}}, v(stats.sessions_rejected)},
            {{{"reason", "address_cap"}}, v(stats.sessions_rejected_per_address)},
        };
      }));
  // Jobs: only unfinished ones, so the label set stays bounded by what is running.
  auto unfinished = [](const engine::JobView& v) {
    return v.job.state != JobState::completed && v.job.state != JobState::cancelled;
  };
  out.push_back(r.collect("capf_job_queue_depth", "devices of an unfinished job waiting to be triggered", "gauge",
                          [&engine, unfinished] {
                            std::vector<Sample> s;
                            for (const auto& v : engine.list()) {
                              if (!unfinished(v)) continue;
                              auto it = v.counts.find(JobDeviceState::queued);
                              s.push_back({{{"job", v.job.id}}, it == v.counts.end() ? 0.0 : static_cast<double>(it->second)});
                            }
                            return s;
                          }));
  out.push_back(r.collect("capf_job_devices", "devices of an unfinished job by state", "gauge", [&engine, unfinished] {
    std::vector<Sample> s;
    for (const auto& v : engine.list()) {
      if (!unfinished(v)) continue;
      for (const auto& [state, n] : v.counts)
        s.push_back({{{"job", v.job.id}, {"state", std::string(to_string(state))}}, static_cast<double>(n)});
    }
    return s;
  }));
  out.push_back(r.collect("capf_jobs", "jobs by state", "gauge", [&engine] {
    std::map<std::string, double> by;
    for (const auto& v : engine.list()) by[std::string(to_string(v.job.state))] += 1;
    std::vector<Sample> s;
    for (const auto& [state, n] : by) s.push_back({{{"state", state}}, n});
    return s;
  }));
  return out;
}

std::string raise_open_file_limit(std::size_t max_sessions) {
  const std::uint64_t limit = util::raise_open_file_limit();
  const std::uint64_t needed = max_sessions + 512;  // the store, logs, admin and web sockets
  if (limit >= needed || limit <= 512) return "";
  return "open-file limit " + std::to_string(limit) + ": room for about " + std::to_string(limit - 512) +
         " CAPF sessions at once, fewer than --max-sessions " + std::to_string(max_sessions) +
         " (raise LimitNOFILE or ulimit -n for more)";
}

}  // namespace capf::cli
