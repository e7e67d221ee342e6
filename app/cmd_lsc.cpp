// `capf lsc revoke SERIAL [--reason R]` and `capf crl export [--out FILE] [--der] [--ca SERIAL]`.
#include <fstream>
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "capf/util/files.hpp"
#include "capf/util/text.hpp"
#include "cli.hpp"

namespace capf::cli {

int cmd_lsc(const Args& args) {
  auto desc = common_options();
  desc.add_options()
    ("action", po::value<std::string>(), "revoke")
    ("serial", po::value<std::string>(), "the LSC's serial: hex in either case, with or without leading zeros or colons (as `capf phone show`, `openssl x509 -serial` or `-text` print it)")
    ("reason", po::value<std::string>()->default_value("unspecified"),
     "unspecified, keyCompromise, CACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, "
     "privilegeWithdrawn (kebab-case accepted)");
  po::positional_options_description pos;
  pos.add("action", 1).add("serial", 1);
  const std::string usage = "capf lsc revoke SERIAL [--reason keyCompromise|superseded|...]";
  auto vm = parse(args, desc, pos, usage);
  if (!vm.count("action") || vm["action"].as<std::string>() != "revoke" || !vm.count("serial"))
    throw UsageError("usage: " + usage);
  const std::string serial = vm["serial"].as<std::string>();
  const nlohmann::json body{{"reason", vm["reason"].as<std::string>()}};
  auto r = admin_call(data_dir(vm), "POST", "/v1/lsc/" + admin::url_encode(serial) + "/revoke", body.dump());
  if (vm.count("json")) {
    r["crl"].erase("der_hex");
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::cout << "revoked LSC " << text(r, "revoked") << " of " << text(r, "device") << " (" << text(r, "reason")
            << "); CRL " << text(r["crl"], "number") << " of " << text(r["crl"], "issuer") << " now lists "
            << text(r["crl"], "revoked") << " certificates (capf crl export)\n";
  return 0;
}

int cmd_crl(const Args& args) {
  auto desc = common_options();
  desc.add_options()
    ("action", po::value<std::string>(), "export")
    ("out", po::value<std::string>(), "write to FILE instead of standard output")
    ("der", "DER instead of PEM")
    ("ca", po::value<std::string>(), "serial of a retired CAPF CA (default: the current CA)");
  po::positional_options_description pos;
  pos.add("action", 1);
  const std::string usage = "capf crl export [--out FILE] [--der] [--ca SERIAL]";
  auto vm = parse(args, desc, pos, usage);
  if (!vm.count("action") || vm["action"].as<std::string>() != "export") throw UsageError("usage: " + usage);
  if (vm.count("der") && !vm.count("out")) throw UsageError("--der needs --out FILE (DER is binary)");
  const std::string target = "/v1/crl" + (vm.count("ca") ? "?ca=" + admin::url_encode(vm["ca"].as<std::string>()) : "");
  auto r = admin_call(data_dir(vm), "GET", target);
  if (vm.count("json")) {
    r.erase("der_hex");
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::string content = text(r, "pem");
  if (vm.count("der")) {
    auto der = util::from_hex(text(r, "der_hex"));
    if (!der) throw Failure("the admin API returned a CRL with bad DER hex");
    content.assign(der->begin(), der->end());
  }
  if (!vm.count("out")) {
    std::cout << content;
    return 0;
  }
  const std::string out = vm["out"].as<std::string>();
  if (auto w = util::write_file_atomic(out, content, 0644); !w) throw Failure(w.error().message);
  std::cerr << "CRL " << text(r, "number") << " of " << text(r, "issuer") << " (" << text(r, "revoked")
            << " revoked, next update " << text(r, "next_update") << ") written to " << out << "\n";
  return 0;
}

}  // namespace capf::cli
