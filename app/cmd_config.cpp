// `capf config list|get|set|reset` (the service parameters) and `capf audit list`, both
// through the admin API, so they work against the running daemon (which applies a change at
// once) and in-process on the store.
#include <iostream>
#include <unistd.h>

#include "capf/admin/admin_service.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

std::string with_unit(const nlohmann::json& p, const std::string& v) {
  const auto unit = text(p, "unit");
  return v.empty() || unit.empty() || p.value("secret", false) ? v : v + " " + unit;
}

void print_warnings(const nlohmann::json& answer) {
  if (!answer.contains("warnings") || !answer["warnings"].is_array()) return;
  for (const auto& w : answer["warnings"])
    if (w.is_string()) std::cout << "warning: " << w.get<std::string>() << "\n";
}

}  // namespace

int cmd_config(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "list | get | set | reset")(
      "name", po::value<std::string>(), "parameter name, e.g. keep-alive")(
      "value", po::value<std::string>(), "new value")(
      "stdin", "set: read the value from the first line of standard input (keeps secrets out of shell history)");
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1).add("value", 1);
  const std::string usage =
      "capf config list [--json] | get NAME [--json] | set NAME VALUE | set NAME --stdin | reset NAME";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  const bool json = vm.count("json") > 0;

  if (action == "list") {
    auto r = admin_call(dir, "GET", "/v1/config");
    if (json) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r["parameters"])
      rows.push_back({text(p, "name"), with_unit(p, text(p, "value")), with_unit(p, text(p, "default")), text(p, "range"),
                      text(p, "display")});
    print_table({"NAME", "VALUE", "DEFAULT", "RANGE", "SEED NAME"}, rows);
    print_warnings(r);
    return 0;
  }
  if (!vm.count("name")) throw UsageError("config " + (action.empty() ? std::string("") : action + " ") +
                                          "needs a parameter name (usage: " + usage + ")");
  const std::string name = vm["name"].as<std::string>();
  const std::string target = "/v1/config/" + admin::url_encode(name);

  if (action == "get") {
    auto p = admin_call(dir, "GET", target, "", {404});
    if (p.contains("error")) throw UsageError(text(p, "error"));
    if (json) {
      std::cout << p.dump(2) << "\n";
    } else {
      std::cout << text(p, "value") << "\n";
    }
    return 0;
  }
  if (action == "set") {
    std::string value;
    if (vm.count("stdin")) {
      if (vm.count("value")) throw UsageError("give VALUE or --stdin, not both");
      if (::isatty(0)) std::cerr << name << ": ";
      if (!std::getline(std::cin, value) && value.empty()) throw UsageError("--stdin: nothing on standard input");
      if (!value.empty() && value.back() == '\r') value.pop_back();
    } else if (vm.count("value")) {
      value = vm["value"].as<std::string>();
    } else {
      throw UsageError("config set " + name + " needs a VALUE or --stdin (usage: " + usage + ")");
    }
    nlohmann::json body{{"value", value}};
    auto p = admin_call(dir, "POST", target, body.dump(), {400, 404});
    if (p.contains("error")) throw UsageError(text(p, "error"));  // out of range, unknown name: exit 2
    if (json) std::cout << p.dump(2) << "\n";
    else std::cout << name << " = " << with_unit(p, text(p, "value")) << "; takes effect " << text(p, "applies") << "\n";
    if (!json) print_warnings(p);
    return 0;
  }
  if (action == "reset") {
    nlohmann::json body{{"reset", true}};
    auto p = admin_call(dir, "POST", target, body.dump(), {404});
    if (p.contains("error")) throw UsageError(text(p, "error"));
    if (json) std::cout << p.dump(2) << "\n";
    else std::cout << name << " = " << with_unit(p, text(p, "value")) << " (default)\n";
    return 0;
  }
  throw UsageError("unknown config action \"" + action + "\" (usage: " + usage + ")");
}

int cmd_audit(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "list")(
      "limit", po::value<int>()->default_value(0), "only the newest N matching entries (0 = all)")(
      "actor", po::value<std::string>(), "only this actor (a user name, or engine)")(
      "action-prefix,a", po::value<std::string>(), "only actions starting with this, e.g. job. or config.set")(
      "since", po::value<std::string>(), "only since this ISO 8601 time, or for this long back: 30m, 12h, 7d");
  po::positional_options_description pos;
  pos.add("action", 1);
  const std::string usage = "capf audit list [--limit N] [--actor A] [--action PREFIX] [--since TIME] [--json]";
  // `--action PREFIX` is the documented spelling; the positional word is also called action.
  Args fixed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--action") fixed.push_back("--action-prefix");
    else if (args[i].rfind("--action=", 0) == 0) fixed.push_back("--action-prefix=" + args[i].substr(9));
    else fixed.push_back(args[i]);
  }
  auto vm = parse(fixed, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "list";
  if (action != "list") throw UsageError("unknown audit action \"" + action + "\" (usage: " + usage + ")");
  if (vm["limit"].as<int>() < 0) throw UsageError("--limit must be 0 or more");
  std::string target = "/v1/audit?limit=" + std::to_string(vm["limit"].as<int>());
  if (vm.count("actor")) target += "&actor=" + admin::url_encode(vm["actor"].as<std::string>());
  if (vm.count("action-prefix")) target += "&action=" + admin::url_encode(vm["action-prefix"].as<std::string>());
  if (vm.count("since")) target += "&since=" + admin::url_encode(vm["since"].as<std::string>());
  auto r = admin_call(data_dir(vm), "GET", target, "", {400});
  if (r.contains("error")) throw UsageError(text(r, "error"));
  if (vm.count("json")) {
    std::cout << r["audit"].dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : r["audit"])
    rows.push_back({text(a, "time"), text(a, "actor"), text(a, "action"), text(a, "subject"), text(a, "detail")});
  print_table({"TIME", "ACTOR", "ACTION", "SUBJECT", "DETAIL"}, rows);
  return 0;
}

int cmd_metrics(const Args& args) {
  auto desc = common_options();
  po::positional_options_description none;
  auto vm = parse(args, desc, none, "capf metrics   (the daemon's /metrics, Prometheus text)");
  auto body = admin_raw_call(data_dir(vm), "GET", "/metrics");
  std::cout << body;
  return 0;
}

}  // namespace capf::cli
