// `capf ca show`, `capf phones import|list`, `capf phone show|set`: all through the admin API.
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "capf/util/files.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int cmd_ca(const Args& args) {
  if (!args.empty() && args[0] != "show" && args[0].rfind("-", 0) != 0) return cmd_ca_lifecycle(args);
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "show")("pem", "print the certificate as PEM");
  po::positional_options_description pos;
  pos.add("action", 1);
  auto vm = parse(args, desc, pos, "capf ca show [--pem] [--json]");
  if (!vm.count("action") || vm["action"].as<std::string>() != "show") throw UsageError("usage: capf ca show [--pem]");
  auto ca = admin_call(data_dir(vm), "GET", "/v1/ca");
  if (text(ca, "pem").empty()) throw Failure("no CAPF CA yet in " + data_dir(vm) + " (start `capf serve` once)");
  if (vm.count("pem")) {
    std::cout << text(ca, "pem");
  } else if (vm.count("json")) {
    std::cout << ca.dump(2) << "\n";
  } else {
    for (const char* k : {"subject", "serial", "key", "not_before", "not_after", "fingerprint_sha256"})
      std::cout << k << ": " << text(ca, k) << "\n";
  }
  return 0;
}

int cmd_phones(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "import | list")("file", po::value<std::string>(), "CSV file")(
      "strict", "reject the whole file when any row is bad")("where", po::value<std::string>(), "list: only devices matching this query");
  po::positional_options_description pos;
  pos.add("action", 1).add("file", 1);
  const std::string usage = "capf phones import FILE.csv [--strict] | capf phones list [--json]";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  if (action == "import") {
    if (!vm.count("file")) throw UsageError("phones import needs a CSV file (usage: " + usage + ")");
    const auto path = vm["file"].as<std::string>();
    auto content = util::read_file(path);
    if (!content) throw Failure(content.error().message);
    const std::string target = "/v1/phones/import?file=" + admin::url_encode(base_name(path)) +
                               (vm.count("strict") ? "&strict=1" : "");
    auto r = admin_call(dir, "POST", target, *content, {422});
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
    } else {
      for (const auto& issue : r["issues"]) std::cerr << issue.get<std::string>() << "\n";
      if (r["rejected_file"].get<bool>())
        std::cout << path << ": rejected (--strict): " << r["rejected_rows"] << " bad rows, nothing imported\n";
      else
        std::cout << path << ": " << r["added"] << " added, " << r["updated"] << " updated, " << r["rejected_rows"]
                  << " rows rejected\n";
    }
    if (!r["issues"].empty())
      throw Failure(std::to_string(r["rejected_rows"].get<std::size_t>()) + " rows of " + path + " were rejected (" +
                    std::to_string(r["issues"].size()) + " problems)");
    return 0;
  }
  if (action == "list") {
    auto r = admin_call(dir, "GET", "/v1/phones" + (vm.count("where") ? "?where=" + admin::url_encode(vm["where"].as<std::string>()) : std::string()));
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r["phones"]) {
      const auto& lsc = p["lsc"];
      rows.push_back({text(p, "name"), text(p, "operation"), text(p, "auth_mode"), text(p, "status"),
                      lsc.is_null() ? "" : text(lsc, "serial"), lsc.is_null() ? "" : text(lsc, "not_after"),
                      text(p, "status_reason")});
    }
    print_table({"DEVICE", "OPERATION", "AUTHENTICATION MODE", "STATUS", "LSC SERIAL", "LSC EXPIRES", "REASON"}, rows);
    return 0;
  }
  throw UsageError("usage: " + usage);
}

int cmd_phone(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "show | set")("name", po::value<std::string>(), "device name")(
      "operation", po::value<std::string>(), "install | delete | troubleshoot | none (or the seed's words)")(
      "auth-mode", po::value<std::string>(), "string | null | lsc | mic (or the seed's words)")(
      "auth-string", po::value<std::string>(), "4–10 digits (re-arms a locked device)")(
      "key-size", po::value<std::string>(), "RSA key size: 1024, 2048, 3072, 4096")(
      "key-order", po::value<std::string>(), "rsa | ec | ec-rsa | rsa-ec")(
      "ec-key-size", po::value<std::string>(), "256, 384, 521")(
      "completes-by", po::value<std::string>(), "Operation Completes By (YYYY-MM-DD[THH:MM[:SS]Z]); empty clears");
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  const std::string usage = "capf phone show NAME | capf phone set NAME --operation OP [--auth-mode M] [--auth-string S] ...";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  if (!vm.count("name")) throw UsageError("usage: " + usage);
  const std::string name = vm["name"].as<std::string>();
  const std::string dir = data_dir(vm);
  nlohmann::json p;
  if (action == "show") {
    p = admin_call(dir, "GET", "/v1/phones/" + admin::url_encode(name));
  } else if (action == "set") {
    nlohmann::json body = nlohmann::json::object();
    const std::pair<const char*, const char*> fields[] = {{"operation", "operation"},   {"auth-mode", "auth_mode"},
                                                          {"auth-string", "auth_string"}, {"key-size", "key_size"},
                                                          {"key-order", "key_order"},   {"ec-key-size", "ec_key_size"},
                                                          {"completes-by", "completes_by"}};
    for (const auto& [opt, key] : fields)
      if (vm.count(opt)) body[key] = vm[opt].as<std::string>();
    if (body.empty()) throw UsageError("phone set needs at least one setting (usage: " + usage + ")");
    p = admin_call(dir, "POST", "/v1/phones/" + admin::url_encode(name), body.dump());
  } else {
    throw UsageError("usage: " + usage);
  }
  if (vm.count("json")) {
    std::cout << p.dump(2) << "\n";
    return 0;
  }
  for (const char* k : {"name", "description", "device_type", "device_pool", "security_profile", "operation",
                        "auth_mode", "auth_string_set", "key_size", "key_order", "ec_key_size", "completes_by", "ipv4",
                        "ipv6", "status", "status_reason", "auth_failures", "last_seen"})
    std::cout << k << ": " << text(p, k) << "\n";
  if (!p["lsc"].is_null())
    std::cout << "lsc: serial " << text(p["lsc"], "serial") << ", issuer " << text(p["lsc"], "issuer") << ", expires "
              << text(p["lsc"], "not_after") << "\n";
  if (p.contains("certificates"))
    for (const auto& c : p["certificates"])
      std::cout << "certificate: " << text(c, "serial") << " " << text(c, "state") << " issued " << text(c, "issued_at")
                << "\n";
  return 0;
}

}  // namespace capf::cli
