// `capf job …`: submit, list, show, watch, control and report batch jobs through the daemon.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "capf/admin/admin_service.hpp"
#include "capf/util/files.hpp"
#include "capf/util/time.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

std::size_t count(const nlohmann::json& job, const char* state) {
  return job["counts"].value(state, std::size_t{0});
}

/// The state to show: "waiting" while an active job waits for a shared dependency.
std::string shown_state(const nlohmann::json& job) {
  return job.contains("waiting") && job["waiting"].is_object() ? "waiting" : text(job, "state");
}

/// "waiting: Apply Config endpoint … unreachable since …, next probe at …", or "".
std::string waiting_text(const nlohmann::json& job) {
  return job.contains("waiting") && job["waiting"].is_object() ? text(job["waiting"], "text") : "";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// The measured rate: "301/min" over the last minute, or "measuring rate (14 in 12 s)" while the
/// job has dispatched for less than a minute (a minute's count would still be climbing).
std::string rate_text(const nlohmann::json& job) {
  const auto& measured = job["rate_per_minute_measured"];
  const std::string state = job.value("state", "");
  if (state == "completed" || state == "cancelled") return "-";  // nothing dispatches any more
  if (measured.is_number()) return fmt::format("{:.0f}/min", measured.get<double>());
  const int window = job.value("rate_window_seconds", 0);
  return fmt::format("measuring rate ({} in {} s)", job.value("dispatched_last_minute", std::size_t{0}), window);
}

/// "[#########-----------]  312/500  62%  301/min  ETA 12:04:10Z  in flight 12  failed 3".
std::string progress_line(const nlohmann::json& job) {
  const std::size_t total = job.value("devices", std::size_t{0});
  const std::size_t done =
      count(job, "succeeded") + count(job, "failed") + count(job, "expired") + count(job, "cancelled");
  const int width = 30;
  const int filled = total ? static_cast<int>(width * done / total) : width;
  std::string line =
      fmt::format("[{}{}] {}/{} {:3}%  {}  in flight {}  ok {}  failed {}  expired {}  {}", std::string(filled, '#'),
                  std::string(width - filled, '-'), done, total, total ? 100 * done / total : 100, rate_text(job),
                  job.value("in_flight", std::size_t{0}), count(job, "succeeded"), count(job, "failed"),
                  count(job, "expired"), shown_state(job));
  if (!text(job, "eta").empty() && shown_state(job) == "active") line += "  ETA " + text(job, "eta");
  if (const auto w = waiting_text(job); !w.empty()) line += "  (" + w + ")";
  return line;
}

void print_job(const nlohmann::json& j) {
  for (const char* k :
       {"id", "description", "state", "state_reason", "operation", "selection", "created_at", "schedule", "start_at",
        "completes_by", "rate_per_minute", "burst", "max_in_flight", "canary", "max_fail_pct", "eta", "finished_at"}) {
    const auto v = text(j, k);
    if (!v.empty() && v != "0") std::cout << k << ": " << v << "\n";
  }
  if (!text(j, "burst_note").empty() && j.value("rate_per_minute", 0.0) > 0)
    std::cout << "burst_note: " << text(j, "burst_note") << "\n";
  if (const auto w = waiting_text(j); !w.empty()) std::cout << w << "\n";
  if (!j["windows"].empty()) std::cout << "windows: " << j["windows"].dump() << "\n";
  if (!j["blackouts"].empty()) std::cout << "blackouts: " << j["blackouts"].dump() << "\n";
  std::cout << progress_line(j) << "\n";
  if (j.contains("attention") && !j["attention"].empty()) {
    std::cout << "\ndevices needing attention (why, and when they are tried next):\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : j["attention"])
      rows.push_back(
          {text(d, "device"), text(d, "state"), text(d, "attempts"), text(d, "next_attempt"), text(d, "reason")});
    print_table({"DEVICE", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "REASON"}, rows);
  }
}

nlohmann::json submit_body(const po::variables_map& vm) {
  nlohmann::json body = nlohmann::json::object();
  const std::pair<const char*, const char*> texts[] = {
      {"operation", "operation"},         {"auth-mode", "auth_mode"},
      {"string-policy", "string_policy"}, {"auth-string", "auth_string"},
      {"key-size", "key_size"},           {"key-order", "key_order"},
      {"ec-key-size", "ec_key_size"},     {"completes-by", "completes_by"},
      {"start-at", "start_at"},           {"where", "where"},
      {"description", "description"}};
  for (const auto& [opt, key] : texts)
    if (vm.count(opt)) body[key] = vm[opt].as<std::string>();
  if (vm.count("string-length")) body["string_length"] = vm["string-length"].as<int>();
  if (vm.count("rate")) {
    std::string rate = vm["rate"].as<std::string>();
    if (auto slash = rate.find('/'); slash != std::string::npos) {
      const std::string unit = rate.substr(slash + 1);
      if (unit != "min" && unit != "m") throw UsageError("--rate takes N or N/min, got \"" + rate + "\"");
      rate = rate.substr(0, slash);
    }
    try {
      body["rate"] = std::stod(rate);
    } catch (const std::exception&) {
      throw UsageError("--rate takes N or N/min, got \"" + vm["rate"].as<std::string>() + "\"");
    }
  }
  if (vm.count("burst")) body["burst"] = vm["burst"].as<double>();
  if (vm.count("max-in-flight")) body["max_in_flight"] = vm["max-in-flight"].as<int>();
  if (vm.count("canary")) body["canary"] = vm["canary"].as<int>();
  if (vm.count("max-fail-pct")) body["max_fail_pct"] = vm["max-fail-pct"].as<double>();
  if (vm.count("max-attempts")) body["max_attempts"] = vm["max-attempts"].as<int>();
  if (vm.count("window")) body["windows"] = vm["window"].as<std::vector<std::string>>();
  if (vm.count("blackout")) body["blackouts"] = vm["blackout"].as<std::vector<std::string>>();
  for (const char* flag : {"hold", "dry-run", "skip-invalid", "force", "strict"}) {
    std::string key = flag;
    for (auto& c : key) c = c == '-' ? '_' : c;
    if (vm.count(flag)) body[key] = true;
  }
  if (vm.count("csv")) {
    const auto path = vm["csv"].as<std::string>();
    auto content = util::read_file(path);
    if (!content) throw Failure(content.error().message);
    body["csv"] = *content;
    auto slash = path.rfind('/');
    body["csv_name"] = slash == std::string::npos ? path : path.substr(slash + 1);
  }
  return body;
}

int submit(const std::string& dir, const po::variables_map& vm) {
  if (vm.count("csv") == vm.count("where"))
    throw UsageError("job submit needs exactly one of --csv FILE or --where QUERY");
  // 400 and 500 too: a CSV's devices may be written, with strings from their templates, before
  // the job is refused.
  auto r = admin_call(dir, "POST", "/v1/jobs", submit_body(vm).dump(), {422, 400, 500});
  const bool dry = vm.count("dry-run") > 0;
  // Generated strings go to a 0600 file, once; they are never printed.
  const std::string job_id = text(r, "job_id");
  const std::string strings_file = save_generated_strings(
      r, vm.count("strings-out") ? vm["strings-out"].as<std::string>() : "",
      (job_id.empty() ? "unsubmitted-" + std::to_string(util::now()) : job_id) + "-auth-strings.csv");
  if (!r.contains("matched")) {
    if (!strings_file.empty())
      std::cerr << "authentication strings of the CSV's new devices (shown nowhere else): " << strings_file
                << " (mode 0600)\n";
    throw Failure(text(r, "error"));
  }
  if (vm.count("json")) {
    std::cout << r.dump(2) << "\n";
  } else {
    for (const auto& issue : r.value("csv_issues", nlohmann::json::array()))
      std::cerr << issue.get<std::string>() << "\n";
    std::cout << "matched " << r["matched"] << " devices; " << r["accepted"] << " can run it\n";
    if (!r["refused"].empty()) {
      std::cout << r["refused"].size() << " devices cannot:\n";
      std::size_t shown = 0;
      for (const auto& x : r["refused"]) {
        if (++shown > 20) break;
        std::cout << "  " << text(x, "device") << ": " << text(x, "reason") << "\n";
      }
      if (r["refused"].size() > 20) std::cout << "  … and " << r["refused"].size() - 20 << " more\n";
    }
    std::cout << "schedule check: " << text(r, "capacity") << "\n";
    std::cout << "safety: " << text(r, "safety") << "\n";
    if (r.value("rate_per_minute", 0.0) > 0) {
      std::cout << fmt::format("rate: {:g}/min, burst {:g}", r.value("rate_per_minute", 0.0), r.value("burst", 1.0));
      if (!text(r, "burst_note").empty()) std::cout << " (" << text(r, "burst_note") << ")";
      std::cout << "\n";
    }
    if (dry) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : r["preview"])
        rows.push_back(
            {text(p, "name"), text(p, "device_pool"), text(p, "device_type"), text(p, "auth_mode"), text(p, "status")});
      std::cout << "first devices:\n";
      print_table({"DEVICE", "DEVICE POOL", "DEVICE TYPE", "AUTHENTICATION MODE", "STATUS"}, rows);
      std::cout << "dry run: nothing submitted\n";
    } else if (r.value("submitted", false)) {
      std::cout << "submitted job " << text(r, "job_id") << "\n";
    }
    if (!strings_file.empty())
      std::cout << "authentication strings (shown nowhere else): " << strings_file << " (mode 0600)\n";
  }
  if (!dry && !r.value("submitted", false)) throw Failure(text(r, "error"));
  if (!dry && !vm.count("json")) std::cout << text(r, "job_id") << "\n";
  return 0;
}

int report(const std::string& dir, const std::string& id, const po::variables_map& vm) {
  auto r = admin_call(dir, "GET", "/v1/jobs/" + admin::url_encode(id) + "/devices");
  const std::string format = vm.count("format") ? vm["format"].as<std::string>() : "csv";
  std::string out;
  if (format == "json") {
    out = r.dump(2) + "\n";
  } else if (format == "csv") {
    out =
        "Device Name,State,Reason,Attempts,Next Attempt,LSC Serial,Wave,Queued At,Triggered At,Finished At,Deadline\n";
    for (const auto& d : r["devices"])
      out += csv_field(text(d, "device")) + "," + text(d, "state") + "," + csv_field(text(d, "reason")) + "," +
             text(d, "attempts") + "," + text(d, "next_attempt") + "," + text(d, "serial") + "," + text(d, "wave") +
             "," + text(d, "queued_at") + "," + text(d, "triggered_at") + "," + text(d, "finished_at") + "," +
             text(d, "deadline") + "\n";
  } else {
    throw UsageError("--format must be csv or json");
  }
  if (vm.count("out")) {
    if (auto w = util::write_file_atomic(vm["out"].as<std::string>(), out, 0644); !w) throw Failure(w.error().message);
  } else {
    std::cout << out;
  }
  return 0;
}

int watch(const std::string& dir, const std::string& id, const po::variables_map& vm) {
  const double interval = vm.count("interval") ? vm["interval"].as<double>() : 1.0;
  const bool tty = ::isatty(1);
  for (;;) {
    auto j = admin_call(dir, "GET", "/v1/jobs/" + admin::url_encode(id));
    const std::string line = id + " " + progress_line(j);
    if (tty)
      std::cout << "\r\033[K" << line << std::flush;
    else
      std::cout << line << "\n" << std::flush;
    const auto state = text(j, "state");
    if (state == "completed" || state == "cancelled" || vm.count("once")) {
      std::cout << (tty ? "\n" : "");
      return 0;
    }
    if (state == "held" || state == "canary-hold" || state == "failure-hold") {
      std::cout << (tty ? "\n" : "") << id << " is " << state << ": " << text(j, "state_reason") << "\n";
      return state == "held" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(interval * 1000)));
  }
}

}  // namespace

int cmd_job(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(),
                     "submit | list | show | watch | report | hold | release | pause | resume | cancel | retry")(
      "id", po::value<std::string>(), "job id")("csv", po::value<std::string>(),
                                                "devices (and their settings) from a BAT-style CSV")(
      "where", po::value<std::string>(),
      "devices matching a query, e.g. \"device_pool = DP-HQ AND lsc_expires_before 2027-03-01\"")(
      "operation", po::value<std::string>(), "install | delete | troubleshoot")(
      "auth-mode", po::value<std::string>(), "string | null | lsc | mic (default: each device's own)")(
      "string-policy", po::value<std::string>(), "keep | unique | shared | csv")(
      "auth-string", po::value<std::string>(), "one shared authentication string (4–10 digits)")(
      "string-length", po::value<int>(), "digits of generated strings (4–10, default 8)")(
      "strings-out", po::value<std::string>(), "file (0600) for generated strings (default JOB-auth-strings.csv)")(
      "key-size", po::value<std::string>(), "RSA key size")("key-order", po::value<std::string>(),
                                                            "rsa | ec | ec-rsa | rsa-ec")(
      "ec-key-size", po::value<std::string>(), "256 | 384 | 521")("completes-by", po::value<std::string>(),
                                                                  "Operation Completes By for every device")(
      "start-at", po::value<std::string>(), "run at this time (default now)")(
      "window", po::value<std::vector<std::string>>()->composing(),
      "maintenance window \"MIN HOUR DOM MON DOW DURATION TZ\", repeatable")(
      "blackout", po::value<std::vector<std::string>>()->composing(), "blackout window or START/END, repeatable")(
      "rate", po::value<std::string>(), "dispatches per minute, N or N/min")(
      "burst", po::value<double>(),
      "dispatches allowed at once after a pause (default: two scheduling ticks' share of --rate; "
      "a burst below one tick's share is raised to it)")("max-in-flight", po::value<int>(),
                                                         "devices triggered and not finished at once")(
      "canary", po::value<int>(), "first N devices form a canary wave (default 1 % of the devices, 5–50; 0 = none)")(
      "max-fail-pct", po::value<double>(),
      "hold the job when the failure share of its finished devices (the canary's, then all) passes this (default 20; "
      "100 = never)")("max-attempts", po::value<int>(), "Apply Config attempts per device (default 3)")(
      "description", po::value<std::string>(), "a note shown in listings")(
      "hold", "submit held; `job release` starts it")("dry-run",
                                                      "show the matching count and first devices; submit nothing")(
      "skip-invalid", "submit the devices that can work, leave out the others")(
      "force", "submit although the windows cannot meet the deadline")(
      "strict", "with --csv: reject the whole file when a row is bad")(
      "format", po::value<std::string>(), "report format: csv | json")("out", po::value<std::string>(),
                                                                       "write the report to FILE")(
      "interval", po::value<double>(), "watch refresh, seconds")("once", "watch: print one line and exit");
  po::positional_options_description pos;
  pos.add("action", 1).add("id", 1);
  const std::string usage =
      "capf job submit (--csv FILE | --where QUERY) --operation OP [...] | job list | job "
      "show|watch|report|hold|release|pause|resume|cancel|retry ID";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  if (action == "submit") return submit(dir, vm);
  if (action == "list") {
    auto r = admin_call(dir, "GET", "/v1/jobs");
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : r["jobs"])
      rows.push_back({text(j, "id"), shown_state(j), text(j, "operation"), text(j, "devices"),
                      std::to_string(count(j, "succeeded")), std::to_string(count(j, "failed")),
                      std::to_string(count(j, "expired") + count(j, "cancelled")), text(j, "created_at"),
                      text(j, "selection")});
    print_table({"JOB", "STATE", "OPERATION", "DEVICES", "OK", "FAILED", "EXPIRED/CANCELLED", "CREATED", "SELECTION"},
                rows);
    return 0;
  }
  if (!vm.count("id")) throw UsageError("usage: " + usage);
  const std::string id = vm["id"].as<std::string>();
  if (action == "show") {
    auto j = admin_call(dir, "GET", "/v1/jobs/" + admin::url_encode(id));
    if (vm.count("json"))
      std::cout << j.dump(2) << "\n";
    else
      print_job(j);
    return 0;
  }
  if (action == "watch") return watch(dir, id, vm);
  if (action == "report") return report(dir, id, vm);
  for (const char* a : {"hold", "release", "pause", "resume", "cancel", "retry"}) {
    if (action != a) continue;
    auto j = admin_call(dir, "POST", "/v1/jobs/" + admin::url_encode(id) + "/" + a);
    if (vm.count("json"))
      std::cout << j.dump(2) << "\n";
    else
      std::cout << id << ": " << text(j, "state")
                << (text(j, "state_reason").empty() ? "" : " (" + text(j, "state_reason") + ")") << "\n";
    return 0;
  }
  throw UsageError("unknown job action \"" + action + "\" (usage: " + usage + ")");
}

}  // namespace capf::cli
