// `capf monitor run-now` (a certificate check and its e-mail notices now) and `capf monitor status`.
#include <iostream>

#include "cli.hpp"

namespace capf::cli {

namespace {

void print_report(const nlohmann::json& r) {
  std::cout << "checked " << text(r, "certificates_checked") << " certificates at " << text(r, "at") << "; "
            << text(r, "notices_sent") << " notices sent, " << text(r, "already_notified") << " already sent earlier; next check "
            << text(r, "next_check") << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : r["notices"])
    rows.push_back({text(n, "kind"), n.value("owner", "").empty() ? text(n, "subject") : text(n, "owner"), text(n, "serial"),
                    text(n, "not_after"), text(n, "threshold_days"), n.value("sent", false) ? "sent" : "NOT SENT: " + text(n, "error")});
  if (!rows.empty()) print_table({"KIND", "CERTIFICATE", "SERIAL", "NOT AFTER", "NOTICE (DAYS)", "E-MAIL"}, rows);
  if (r.contains("waiting") && r["waiting"].is_string()) std::cout << r["waiting"].get<std::string>() << "\n";
  for (const auto& x : r.value("revoked_expired", nlohmann::json::array()))
    std::cout << "revoked expired LSC " << text(x, "serial") << " of " << text(x, "device")
              << " (revoke-expired-lscs; on the CRL as cessationOfOperation)\n";
  for (const auto& e : r["errors"]) std::cout << "error: " << e.get<std::string>() << "\n";
}

}  // namespace

int cmd_monitor(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "run-now | status");
  po::positional_options_description pos;
  pos.add("action", 1);
  const std::string usage = "capf monitor run-now | capf monitor status [--json]";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  nlohmann::json r;
  if (action == "run-now") r = admin_call(data_dir(vm), "POST", "/v1/monitor/run");
  else if (action == "status") r = admin_call(data_dir(vm), "GET", "/v1/monitor/status");
  else throw UsageError("usage: " + usage);
  if (vm.count("json")) std::cout << r.dump(2) << "\n";
  else if (r.contains("checked") && !r["checked"].get<bool>()) std::cout << text(r, "note") << "\n";
  else print_report(r);
  // A notice that could not be sent is a failed operation for run-now.
  if (action == "run-now")
    for (const auto& n : r["notices"])
      if (!n.value("sent", false)) return 1;
  return 0;
}

}  // namespace capf::cli
