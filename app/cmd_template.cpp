// `capf template …`: device templates, the CAPF defaults a phone added by CSV import takes.
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

void print_template(const nlohmann::json& t) {
  for (const char* k : {"name", "where", "priority", "operation", "auth_mode", "string_policy", "auth_string_set", "key_size",
                        "key_order", "ec_key_size", "issuer", "created_at", "created_by"}) {
    const auto v = text(t, k);
    if (!v.empty()) std::cout << k << ": " << v << "\n";
  }
}

}  // namespace

int cmd_template(const Args& args) {
  auto desc = common_options();
  desc.add_options()
    ("action", po::value<std::string>(), "create | list | show | delete")
    ("name", po::value<std::string>(), "template name")
    ("where", po::value<std::string>(), "the devices it is for, e.g. \"device_pool = DP-HQ\" or \"name ~ SEP0A1B*\"")
    ("priority", po::value<int>(), "when several templates match a device, the highest priority wins (default 0; ties: name order)")
    ("operation", po::value<std::string>(), "Certificate Operation: install | delete | troubleshoot | none")
    ("auth-mode", po::value<std::string>(), "Authentication Mode: string | null | lsc | mic")
    ("string-policy", po::value<std::string>(), "where By Authentication String phones get their string: unique (Generate "
                                                 "String per phone, written to a 0600 file at import) | shared (the template's "
                                                 "own) | csv (each row's); policies refuse unique")
    ("auth-string", po::value<std::string>(), "the template's own Authentication String (4–10 digits) for all its phones")
    ("generate-string", "Generate String: the template gets a random string of its own, printed once and never again")
    ("key-size", po::value<std::string>(), "RSA Key Size (Bits): 1024 | 2048 | 3072 | 4096")
    ("key-order", po::value<std::string>(), "Key Order: rsa | ec | ec-rsa | rsa-ec")
    ("ec-key-size", po::value<std::string>(), "EC Key Size (Bits): 256 | 384 | 521")
    ("issuer", po::value<std::string>(), "Certificate Issuer to Endpoint these devices expect: capf | online | offline");
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  const std::string usage =
      "capf template create NAME --where QUERY [--operation OP] [--auth-mode M] [--string-policy P] [--auth-string S | "
      "--generate-string] [--key-size N] "
      "[--key-order K] [--ec-key-size N] [--issuer I] [--priority N] | template list | template show|delete NAME";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  const bool json = vm.count("json") > 0;
  if (action == "list") {
    auto r = admin_call(dir, "GET", "/v1/templates");
    if (json) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : r["templates"])
      rows.push_back({text(t, "name"), text(t, "priority"), text(t, "where"), text(t, "operation"), text(t, "auth_mode"),
                      text(t, "key_size"), text(t, "key_order"), text(t, "ec_key_size"), text(t, "issuer")});
    print_table({"TEMPLATE", "PRIORITY", "WHERE", "OPERATION", "AUTHENTICATION MODE", "KEY SIZE", "KEY ORDER", "EC KEY SIZE",
                 "ISSUER"},
                rows);
    return 0;
  }
  if (!vm.count("name")) throw UsageError("usage: " + usage);
  const std::string name = vm["name"].as<std::string>();
  if (action == "create") {
    if (!vm.count("where")) throw UsageError("template create needs --where QUERY (\"all\" for every device)");
    nlohmann::json body{{"name", name}};
    const std::pair<const char*, const char*> texts[] = {
        {"where", "where"},         {"operation", "operation"}, {"auth-mode", "auth_mode"},
        {"string-policy", "string_policy"}, {"key-size", "key_size"}, {"key-order", "key_order"},
        {"ec-key-size", "ec_key_size"}, {"issuer", "issuer"}, {"auth-string", "auth_string"}};
    for (const auto& [opt, key] : texts)
      if (vm.count(opt)) body[key] = vm[opt].as<std::string>();
    if (vm.count("priority")) body["priority"] = vm["priority"].as<int>();
    if (vm.count("generate-string")) body["generate_string"] = true;
    auto r = admin_call(dir, "POST", "/v1/templates", body.dump());
    if (json) {
      std::cout << r.dump(2) << "\n";
    } else {
      std::cout << "created template " << name << "\n";
      if (r.contains("generated_auth_string"))
        std::cout << "generated Authentication String of the template (shown this once, never again; configure it on "
                     "its phones): " << text(r, "generated_auth_string") << "\n";
    }
    return 0;
  }
  if (action == "show") {
    auto r = admin_call(dir, "GET", "/v1/templates/" + admin::url_encode(name));
    if (json) std::cout << r.dump(2) << "\n";
    else print_template(r);
    return 0;
  }
  if (action == "delete") {
    auto r = admin_call(dir, "POST", "/v1/templates/" + admin::url_encode(name) + "/delete");
    if (json) std::cout << r.dump(2) << "\n";
    else std::cout << "deleted template " << name << "\n";
    return 0;
  }
  throw UsageError("unknown template action \"" + action + "\" (usage: " + usage + ")");
}

}  // namespace capf::cli
