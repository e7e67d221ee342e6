// `capf ca regenerate`, `capf ca phones-on-old [--submit-job]`, `capf ca retired [delete SERIAL]`.
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

/// `capf ca regenerate`: a new CAPF CA; the old one is retired, kept in CAPF-trust.
int ca_regenerate(const po::variables_map& vm, const std::string& dir, bool json) {
  nlohmann::json body = nlohmann::json::object();
  if (vm.count("key")) body["key"] = vm["key"].as<std::string>();
  auto r = admin_call(dir, "POST", "/v1/ca/regenerate", body.dump());
  if (json) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::cout << "new CAPF CA:     " << text(r["new"], "subject") << " (serial " << text(r["new"], "serial") << ", "
            << text(r["new"], "key") << ", until " << text(r["new"], "not_after") << ")\n"
            << "retired CAPF CA: " << text(r["old"], "subject") << " (serial " << text(r["old"], "serial")
            << "), kept in " << text(r, "retired_pem") << " and in CAPF-trust until `capf ca retired delete "
            << text(r["old"], "serial") << "`\n";
  if (r.value("restart_required", false))
    std::cout
        << "RESTART REQUIRED: the running daemon still uses the old CA for port 3804 and for new LSCs; restart it "
           "(e.g. systemctl restart capf) to use the new one.\n";
  std::cout << "next: give phones the new CA (their trust list), then re-enroll the phones on the old one: "
               "capf ca phones-on-old --submit-job\n";
  return 0;
}

/// `capf ca phones-on-old --submit-job`: an Install/Upgrade job over the phones of `query`.
int submit_reenroll_job(const po::variables_map& vm, const std::string& dir, bool json, const nlohmann::json& r,
                        const std::string& query) {
  if (r["phones"].empty()) throw Failure("no phone holds an LSC from a retired CAPF CA; no job submitted");
  nlohmann::json body{{"where", query},
                      {"operation", "install"},
                      {"auth_mode", vm["auth-mode"].as<std::string>()},
                      {"description", "re-enroll phones on a retired CAPF CA"}};
  if (vm.count("rate")) {
    try {
      body["rate"] = std::stod(vm["rate"].as<std::string>());
    } catch (const std::exception&) {
      throw UsageError("--rate takes a number per minute");
    }
  }
  if (vm.count("dry-run")) body["dry_run"] = true;
  auto job = admin_call(dir, "POST", "/v1/jobs", body.dump(), {422});
  if (json) {
    std::cout << job.dump(2) << "\n";
  } else {
    std::cout << "job " << text(job, "job_id") << ": " << text(job, "matched") << " phones selected by " << query
              << "\n";
    if (job.contains("error")) std::cout << text(job, "error") << "\n";
  }
  return job.contains("error") ? 1 : 0;
}

/// `capf ca phones-on-old`: the phones whose LSC a retired CAPF CA issued, or a job over them.
int phones_on_old(const po::variables_map& vm, const std::string& dir, bool json) {
  auto r = admin_call(dir, "GET", "/v1/ca/phones-on-old");
  const std::string query = text(r, "query");
  if (vm.count("submit-job")) return submit_reenroll_job(vm, dir, json, r, query);
  if (json) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : r["phones"]) {
    const auto& lsc = p.contains("lsc") ? p["lsc"] : nlohmann::json();
    rows.push_back({text(p, "name"), text(p, "device_pool"), lsc.is_object() ? text(lsc, "serial") : "",
                    lsc.is_object() ? text(lsc, "issuer") : "", lsc.is_object() ? text(lsc, "not_after") : ""});
  }
  print_table({"DEVICE", "POOL", "LSC SERIAL", "ISSUER (retired CAPF CA)", "LSC NOT AFTER"}, rows);
  std::cout << rows.size() << " phones hold an LSC from a retired CAPF CA"
            << (query.empty() ? " (no CAPF CA was ever retired)" : "; re-enroll them with --submit-job") << "\n";
  return 0;
}

/// `capf ca retired [list|delete SERIAL]`.
int ca_retired(const po::variables_map& vm, const std::string& dir, bool json, const std::string& usage) {
  const std::string what = vm.count("what") ? vm["what"].as<std::string>() : "list";
  if (what == "list") {
    auto r = admin_call(dir, "GET", "/v1/ca/retired");
    if (json) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r["retired"])
      rows.push_back({text(c, "serial"), text(c, "subject"), text(c, "not_after"), text(c, "file")});
    print_table({"SERIAL", "SUBJECT", "NOT AFTER", "FILE"}, rows);
    return 0;
  }
  if (what == "delete") {
    if (!vm.count("serial")) throw UsageError("ca retired delete needs the SERIAL (see `capf ca retired`)");
    const std::string serial = vm["serial"].as<std::string>();
    auto r = admin_call(dir, "POST", "/v1/ca/retired/" + admin::url_encode(serial) + "/delete");
    if (json)
      std::cout << r.dump(2) << "\n";
    else
      std::cout << "deleted retired CAPF CA " << serial << " (" << text(r, "subject") << ")"
                << (r.value("restart_required", false) ? "; it leaves CAPF-trust when the daemon restarts" : "")
                << "\n";
    return 0;
  }
  throw UsageError("usage: " + usage);
}

}  // namespace

int cmd_ca_lifecycle(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "regenerate | phones-on-old | retired")(
      "what", po::value<std::string>(), "retired: list | delete")("serial", po::value<std::string>(),
                                                                  "retired delete: serial of the retired CA")(
      "key", po::value<std::string>(),
      "regenerate: rsa-2048 | rsa-3072 | rsa-4096 | ec-p256 | ec-p384 (default RSA of the key_size parameter)")(
      "submit-job", "phones-on-old: re-enroll them through a job (Install/Upgrade)")(
      "auth-mode", po::value<std::string>()->default_value("lsc"),
      "phones-on-old --submit-job: Authentication Mode of the job")(
      "rate", po::value<std::string>(), "phones-on-old --submit-job: dispatches per minute")(
      "dry-run", "phones-on-old --submit-job: show what the job would do");
  po::positional_options_description pos;
  pos.add("action", 1).add("what", 1).add("serial", 1);
  const std::string usage =
      "capf ca regenerate [--key rsa-2048|rsa-3072|rsa-4096|ec-p256|ec-p384] | capf ca phones-on-old [--json] "
      "[--submit-job [--auth-mode lsc] [--rate N] [--dry-run]] | capf ca retired [list|delete SERIAL]";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  const bool json = vm.count("json") > 0;

  if (action == "regenerate") return ca_regenerate(vm, dir, json);
  if (action == "phones-on-old") return phones_on_old(vm, dir, json);
  if (action == "retired") return ca_retired(vm, dir, json, usage);
  throw UsageError("usage: " + usage);
}

}  // namespace capf::cli
