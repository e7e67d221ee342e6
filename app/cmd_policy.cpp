// `capf policy …`: renewal policies that turn due devices into jobs inside their windows, and
// their forecast.
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

double parse_rate(const std::string& text) {
  std::string rate = text;
  if (auto slash = rate.find('/'); slash != std::string::npos) {
    const std::string unit = rate.substr(slash + 1);
    if (unit != "min" && unit != "m") throw UsageError("--rate takes N or N/min, got \"" + text + "\"");
    rate = rate.substr(0, slash);
  }
  try {
    std::size_t used = 0;
    const double v = std::stod(rate, &used);
    if (used != rate.size()) throw std::invalid_argument(rate);
    return v;
  } catch (const std::exception&) {
    throw UsageError("--rate takes N or N/min, got \"" + text + "\"");
  }
}

nlohmann::json create_body(const std::string& name, const po::variables_map& vm) {
  if (!vm.count("where")) throw UsageError("policy create needs --where QUERY (\"all\" for every device)");
  if (!vm.count("template")) throw UsageError("policy create needs --template NAME");
  nlohmann::json body{{"name", name}, {"where", vm["where"].as<std::string>()}, {"template", vm["template"].as<std::string>()}};
  if (vm.count("window")) body["windows"] = vm["window"].as<std::vector<std::string>>();
  if (vm.count("blackout")) body["blackouts"] = vm["blackout"].as<std::vector<std::string>>();
  if (vm.count("rate")) body["rate"] = parse_rate(vm["rate"].as<std::string>());
  if (vm.count("max-in-flight")) body["max_in_flight"] = vm["max-in-flight"].as<int>();
  if (vm.count("renew-at-fraction")) body["renew_at_fraction"] = vm["renew-at-fraction"].as<double>();
  if (vm.count("renew-days-before")) body["renew_days_before"] = vm["renew-days-before"].as<int>();
  if (vm.count("jitter-nights")) body["jitter_nights"] = vm["jitter-nights"].as<int>();
  for (const char* flag : {"install-missing", "reenroll-retired-ca", "reenroll-revoked"}) {
    std::string key = flag;
    for (auto& c : key) c = c == '-' ? '_' : c;
    if (vm.count(flag)) body[key] = true;
  }
  return body;
}

void print_policy(const nlohmann::json& p) {
  for (const char* k : {"name", "state", "where", "template", "rate_per_minute", "max_in_flight", "renew_at_fraction",
                        "renew_days_before", "install_missing", "reenroll_retired_ca", "reenroll_revoked", "jitter_nights",
                        "created_at", "created_by", "last_run", "last_night", "jobs_created", "devices_submitted", "note"}) {
    const auto v = text(p, k);
    if (!v.empty() && v != "0" && v != "false") std::cout << k << ": " << v << "\n";
  }
  if (p.contains("windows") && !p["windows"].empty()) std::cout << "windows: " << p["windows"].dump() << "\n";
  if (p.contains("blackouts") && !p["blackouts"].empty()) std::cout << "blackouts: " << p["blackouts"].dump() << "\n";
  if (p.contains("recent_jobs") && !p["recent_jobs"].empty()) std::cout << "recent jobs: " << p["recent_jobs"].dump() << "\n";
}

void print_forecast(const nlohmann::json& f) {
  std::size_t busy = 0;
  for (const auto& n : f["nights"]) busy += n.value("devices", std::size_t{0}) > 0 ? 1 : 0;
  std::cout << "policy " << text(f, "policy") << " (" << text(f, "state") << "): " << text(f, "total") << " devices on " << busy
            << " of " << f["nights"].size() << " nights, " << text(f, "from") << " to " << text(f, "until") << "\n";
  std::cout << "matched " << text(f, "matched") << " devices; " << text(f, "in_job") << " already in a job\n";
  if (!text(f, "note").empty()) std::cout << "note: " << text(f, "note") << "\n";
  std::vector<std::vector<std::string>> rows;
  std::size_t quiet = 0;
  std::string quiet_from, quiet_to;
  auto flush_quiet = [&] {
    if (quiet == 0) return;
    rows.push_back({quiet_from.substr(0, 10) + (quiet > 1 ? " … " + quiet_to.substr(0, 10) : ""), "", "0",
                    "", quiet > 1 ? "(" + std::to_string(quiet) + " nights with nothing to do)" : ""});
    quiet = 0;
  };
  for (const auto& n : f["nights"]) {
    if (n.value("devices", std::size_t{0}) == 0) {
      if (quiet++ == 0) quiet_from = text(n, "start");
      quiet_to = text(n, "start");
      continue;
    }
    flush_quiet();
    std::string why;
    for (const auto& [reason, count] : n["by_reason"].items())
      why += (why.empty() ? "" : ", ") + reason + " " + count.dump();
    rows.push_back({text(n, "start"), text(n, "end"), text(n, "devices"), text(n, "capacity").empty() ? "-" : text(n, "capacity"),
                    why + (n.value("over", false) ? "  OVER CAPACITY" : "")});
  }
  flush_quiet();
  print_table({"NIGHT", "UNTIL", "DEVICES", "CAPACITY", "WHY"}, rows);
  for (const auto& w : f["warnings"]) std::cout << "warning: " << w.get<std::string>() << "\n";
}

}  // namespace

int cmd_policy(const Args& args) {
  auto desc = common_options();
  desc.add_options()
    ("action", po::value<std::string>(), "create | list | show | pause | resume | delete | forecast")
    ("name", po::value<std::string>(), "policy name")
    ("where", po::value<std::string>(), "the devices it keeps renewed (query)")
    ("template", po::value<std::string>(), "device template whose settings its jobs use")
    ("window", po::value<std::vector<std::string>>()->composing(), "maintenance window \"MIN HOUR DOM MON DOW DURATION TZ\", repeatable")
    ("blackout", po::value<std::vector<std::string>>()->composing(), "blackout window or START/END, repeatable")
    ("rate", po::value<std::string>(), "dispatches per minute of its jobs, N or N/min")
    ("max-in-flight", po::value<int>(), "devices of its jobs triggered and not finished at once")
    ("renew-at-fraction", po::value<double>(), "renew once this share of the LSC lifetime has passed (default 0.667)")
    ("renew-days-before", po::value<int>(), "renew N days before the LSC expires (instead of a fraction)")
    ("install-missing", "install an LSC where a device has none")
    ("reenroll-retired-ca", "re-enroll LSCs issued by a retired CAPF CA")
    ("reenroll-revoked", "re-enroll LSCs whose certificate record is revoked")
    ("jitter-nights", po::value<int>(), "spread each device over this many nights before its due date (default 7)")
    ("days", po::value<int>(), "forecast: how many days ahead (default 90)");
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  const std::string usage =
      "capf policy create NAME --where QUERY --template T [--window W]... [--blackout B]... [--rate N/min] "
      "[--max-in-flight N] [--renew-at-fraction F | --renew-days-before N] [--install-missing] [--reenroll-retired-ca] "
      "[--reenroll-revoked] [--jitter-nights N] | policy list | policy show|pause|resume|delete NAME | "
      "policy forecast NAME [--days 90]";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  const bool json = vm.count("json") > 0;
  if (action == "list") {
    auto r = admin_call(dir, "GET", "/v1/policies");
    if (json) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r["policies"])
      rows.push_back({text(p, "name"), text(p, "state"), text(p, "template"), text(p, "where"), text(p, "jobs_created"),
                      text(p, "devices_submitted"), text(p, "last_run")});
    print_table({"POLICY", "STATE", "TEMPLATE", "WHERE", "JOBS", "DEVICES", "LAST RUN"}, rows);
    return 0;
  }
  if (!vm.count("name")) throw UsageError("usage: " + usage);
  const std::string name = vm["name"].as<std::string>();
  const std::string base = "/v1/policies/" + admin::url_encode(name);
  if (action == "create") {
    if (vm.count("renew-at-fraction") && vm.count("renew-days-before"))
      throw UsageError("give --renew-at-fraction or --renew-days-before, not both");
    auto r = admin_call(dir, "POST", "/v1/policies", create_body(name, vm).dump());
    if (json) std::cout << r.dump(2) << "\n";
    else std::cout << "created policy " << name << " (see `capf policy forecast " << name << "`)\n";
    return 0;
  }
  if (action == "show") {
    auto r = admin_call(dir, "GET", base);
    if (json) std::cout << r.dump(2) << "\n";
    else print_policy(r);
    return 0;
  }
  if (action == "pause" || action == "resume" || action == "delete") {
    auto r = admin_call(dir, "POST", base + "/" + action);
    if (json) std::cout << r.dump(2) << "\n";
    else std::cout << name << ": " << (action == "delete" ? "deleted" : text(r, "state")) << "\n";
    return 0;
  }
  if (action == "forecast") {
    const int days = vm.count("days") ? vm["days"].as<int>() : 90;
    if (days < 1 || days > 400) throw UsageError("--days must be 1–400");
    auto r = admin_call(dir, "GET", base + "/forecast?days=" + std::to_string(days));
    if (json) std::cout << r.dump(2) << "\n";
    else print_forecast(r);
    return 0;
  }
  throw UsageError("unknown policy action \"" + action + "\" (usage: " + usage + ")");
}

}  // namespace capf::cli
