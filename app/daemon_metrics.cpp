#include "daemon_metrics.hpp"

#include <map>

namespace capf::cli {

namespace {

using util::metrics::Collection;
using util::metrics::Sample;

void add_session_metrics(util::metrics::Registry& r, const server::ServerStats& stats, std::vector<Collection>& out) {
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
}

void add_job_metrics(util::metrics::Registry& r, const engine::Engine& engine, std::vector<Collection>& out) {
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
}

}  // namespace

std::vector<Collection> daemon_metrics(const server::ServerStats& stats, const engine::Engine& engine) {
  auto& r = util::metrics::Registry::global();
  util::metrics::describe_capf_metrics();
  std::vector<Collection> out;
  add_session_metrics(r, stats, out);
  add_job_metrics(r, engine, out);
  return out;
}

}  // namespace capf::cli
