// `capf trust upload|list|delete`: CAPF-trust and CallManager-trust through the admin API.
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/util/files.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

std::string store_param(const po::variables_map& vm) {
  if (!vm.count("store")) return "";
  const auto s = vm["store"].as<std::string>();
  if (s != "capf-trust" && s != "callmanager-trust" && s != "CAPF-trust" && s != "CallManager-trust")
    throw UsageError("--store must be capf-trust or callmanager-trust, got \"" + s + "\"");
  return s;
}

}  // namespace

int cmd_trust(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "upload | list | delete")(
      "target", po::value<std::string>(), "upload: the certificate file; delete: the entry id")(
      "store", po::value<std::string>(), "capf-trust or callmanager-trust (the Certificate Purpose)")(
      "description", po::value<std::string>(), "upload: what the certificate is for")(
      "pem", "list: include each certificate's PEM in --json");
  po::positional_options_description pos;
  pos.add("action", 1).add("target", 1);
  const std::string usage =
      "capf trust upload --store capf-trust|callmanager-trust FILE --description TEXT | "
      "capf trust list [--store S] [--json] | capf trust delete ID [--store S]";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  const std::string store = store_param(vm);

  if (action == "upload") {
    if (!vm.count("target") || store.empty()) throw UsageError("trust upload needs --store and a FILE (usage: " + usage + ")");
    const auto path = vm["target"].as<std::string>();
    auto content = util::read_file(path);
    if (!content) throw Failure(content.error().message);
    const std::string description = vm.count("description") ? vm["description"].as<std::string>() : "";
    nlohmann::json body{{"store", store},
                        {"description", description},
                        {"file", path},
                        {"data", crypto::base64_encode(crypto::ByteView(
                                     reinterpret_cast<const std::uint8_t*>(content->data()), content->size()))}};
    auto r = admin_call(dir, "POST", "/v1/trust", body.dump());
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    for (const auto& e : r["added"]) std::cout << "added " << text(e, "id") << "  " << text(e, "store") << "  " << text(e, "subject") << "\n";
    for (const auto& e : r["already"])
      std::cout << "already in " << text(e, "store") << ": " << text(e, "id") << "  " << text(e, "subject") << "\n";
    for (const auto& n : r["notes"]) std::cout << "note: " << n.get<std::string>() << "\n";
    return 0;
  }
  if (action == "list") {
    std::string target = "/v1/trust";
    if (!store.empty()) target += "?store=" + admin::url_encode(store);
    if (vm.count("pem")) target += std::string(store.empty() ? "?" : "&") + "pem=1";
    auto r = admin_call(dir, "GET", target);
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> advice;
    for (const auto& e : r["entries"]) {
      const std::string mic = text(e, "seed_mic_root");
      rows.push_back({text(e, "id"), text(e, "store"), text(e, "subject"), text(e, "not_after"), text(e, "origin"),
                      mic.empty() ? "" : "MIC root " + mic, text(e, "description")});
      if (!mic.empty()) advice.push_back(text(e, "id") + " (" + mic + ", " + text(e, "store") + "): " + text(e, "advice"));
    }
    print_table({"ID", "STORE", "SUBJECT", "NOT AFTER", "ORIGIN", "SEED", "DESCRIPTION"}, rows);
    for (const auto& a : advice) std::cout << "note: " << a << "\n";
    return 0;
  }
  if (action == "delete") {
    if (!vm.count("target")) throw UsageError("trust delete needs an ID (see `capf trust list`)");
    std::string target = "/v1/trust/" + admin::url_encode(vm["target"].as<std::string>()) + "/delete";
    if (!store.empty()) target += "?store=" + admin::url_encode(store);
    auto r = admin_call(dir, "POST", target);
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    const auto& e = r["deleted"];
    std::cout << "deleted " << text(e, "id") << " from " << text(e, "store") << ": " << text(e, "subject") << "\n";
    return 0;
  }
  throw UsageError("usage: " + usage);
}

}  // namespace capf::cli
