// `capf offline export|import|rounds`, `capf csr list`, `capf stale-lsc list|delete --all`:
// the Offline CA rounds and the listings that go with external CAs, through the admin API.
#include <filesystem>
#include <iostream>

#include "capf/admin/admin_service.hpp"
#include "capf/ca_offline/offline.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/util/files.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

// The admin API takes bodies up to 256 MiB; import requests stay well below.
constexpr std::size_t kImportRequestBytes = 96u << 20;

int offline_export(const po::variables_map& vm, const std::string& dir) {
  if (!vm.count("out")) throw UsageError("offline export needs --out DIR");
  std::error_code ec;
  const std::string out = std::filesystem::absolute(vm["out"].as<std::string>(), ec).lexically_normal().string();
  if (ec) throw UsageError("--out: " + ec.message());
  if (auto made = util::make_dirs(out, 0755); !made) throw Failure("--out " + out + ": " + made.error().message);
  nlohmann::json body{{"out", out}, {"again", vm.count("again") > 0}};
  auto r = admin_call(dir, "POST", "/v1/offline/export", body.dump());
  if (r["round"].is_null()) {
    if (vm.count("json")) std::cout << r.dump(2) << "\n";
    else
      std::cout << (vm.count("again") ? "nothing to export: no Offline CA CSR is pending\n"
                                      : "nothing to export: no pending Offline CA CSR outside the rounds already exported "
                                        "(--again exports the unanswered ones again)\n");
    return 0;
  }
  offline::ExportResult result;
  result.round.number = r["round"]["number"].get<int>();
  result.round.count = r["round"]["count"].get<std::size_t>();
  result.round.directory = text(r["round"], "directory");
  result.round.again = r["round"].value("again", false);
  result.round.created_at = util::parse_iso8601(text(r["round"], "created_at")).value_or(0);
  for (const auto& c : r["csrs"]) {
    offline::ExportedCsr e;
    e.id = text(c, "id");
    e.device = text(c, "device");
    e.job = text(c, "job");
    e.key = text(c, "key");
    e.created_at = c.value("created_at", util::UnixTime{0});
    e.file = text(c, "file");
    e.pem = text(c, "pem");
    result.csrs.push_back(std::move(e));
  }
  if (auto w = offline::write_round_files(result); !w)
    throw Failure("round " + std::to_string(result.round.number) + " is recorded but its files could not be written: " +
                  w.error().message + " (run `capf offline export --again --out DIR` once the directory is writable)");
  if (vm.count("json")) {
    std::cout << r["round"].dump(2) << "\n";
  } else {
    std::cout << "round " << result.round.number << ": " << result.round.count << " CSRs written to "
              << result.round.directory << " (manifest.csv, manifest.json)\n";
  }
  return 0;
}

int offline_import(const po::variables_map& vm, const std::string& dir) {
  if (!vm.count("paths")) throw UsageError("offline import needs one or more files or directories");
  auto paths = offline::expand_paths(vm["paths"].as<std::vector<std::string>>());
  if (!paths) throw Failure(paths.error().message);
  if (paths->empty()) throw Failure("no certificate files found in the paths given");
  nlohmann::json total{{"imported", 0}, {"already", 0}, {"failed", 0}, {"problems", nlohmann::json::array()},
                       {"issued", nlohmann::json::array()}};
  nlohmann::json files = nlohmann::json::array();
  std::size_t bytes = 0;
  auto send = [&] {
    if (files.empty()) return;
    nlohmann::json body{{"files", std::move(files)}};
    files = nlohmann::json::array();
    bytes = 0;
    auto r = admin_call(dir, "POST", "/v1/offline/import", body.dump());
    for (const char* k : {"imported", "already", "failed"}) total[k] = total[k].get<std::size_t>() + r[k].get<std::size_t>();
    for (auto& p : r["problems"]) total["problems"].push_back(std::move(p));
    for (auto& i : r["issued"]) total["issued"].push_back(std::move(i));
  };
  for (const auto& path : *paths) {
    auto content = util::read_file(path);
    if (!content) {
      total["failed"] = total["failed"].get<std::size_t>() + 1;
      total["problems"].push_back({{"file", path}, {"subject", ""}, {"reason", content.error().message}});
      continue;
    }
    std::string data = crypto::base64_encode(
        crypto::ByteView(reinterpret_cast<const std::uint8_t*>(content->data()), content->size()));
    bytes += data.size() + path.size() + 32;
    files.push_back({{"name", path}, {"data", std::move(data)}});
    if (bytes >= kImportRequestBytes) send();
  }
  send();
  if (vm.count("json")) {
    std::cout << total.dump(2) << "\n";
  } else {
    for (const auto& p : total["problems"]) {
      std::cerr << text(p, "file") << ": ";
      if (!text(p, "subject").empty()) std::cerr << text(p, "subject") << ": ";
      std::cerr << text(p, "reason") << "\n";
    }
    std::cout << "imported " << total["imported"] << ", already imported " << total["already"] << ", failed "
              << total["failed"] << "\n";
  }
  return total["failed"].get<std::size_t>() > 0 ? 1 : 0;
}

}  // namespace

int cmd_offline(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "export | import | rounds")(
      "paths", po::value<std::vector<std::string>>(), "import: certificate files (PEM, DER, PKCS#7) and directories")(
      "out", po::value<std::string>(), "export: directory that receives round-NNN/")(
      "again", "export: also CSRs already exported and still unanswered");
  po::positional_options_description pos;
  pos.add("action", 1).add("paths", -1);
  const std::string usage =
      "capf offline export --out DIR [--again] | capf offline import PATH... | capf offline rounds [--json]";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  if (action == "export") return offline_export(vm, dir);
  if (action == "import") return offline_import(vm, dir);
  if (action == "rounds") {
    auto r = admin_call(dir, "GET", "/v1/offline/rounds");
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& x : r["rounds"])
      rows.push_back({text(x, "number"), text(x, "created_at"), text(x, "count"), text(x, "directory"),
                      x.value("again", false) ? "again" : ""});
    print_table({"ROUND", "CREATED", "CSRS", "DIRECTORY", ""}, rows);
    return 0;
  }
  throw UsageError("usage: " + usage);
}

int cmd_csr(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "list")(
      "state", po::value<std::string>()->default_value("pending"),
      "pending (default), submitting, submitted, issued, delivered, rejected, stale or all");
  po::positional_options_description pos;
  pos.add("action", 1);
  const std::string usage = "capf csr list [--state S] [--json]";
  auto vm = parse(args, desc, pos, usage);
  if (!vm.count("action") || vm["action"].as<std::string>() != "list") throw UsageError("usage: " + usage);
  auto r = admin_call(data_dir(vm), "GET", "/v1/csrs?state=" + admin::url_encode(vm["state"].as<std::string>()));
  if (vm.count("json")) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r["csrs"]) {
    std::string round = text(c, "round");
    rows.push_back({text(c, "device"), text(c, "job"), text(c, "key"), text(c, "state"), text(c, "created_at"),
                    round == "0" ? "" : round, text(c, "issuer"), text(c, "handle"), text(c, "error")});
  }
  print_table({"DEVICE", "JOB", "KEY", "STATE", "CREATED", "ROUND", "ISSUER", "CA HANDLE", "LAST ERROR"}, rows);
  return 0;
}

int cmd_stale_lsc(const Args& args) {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "list | delete")("all", "delete: every stale LSC");
  po::positional_options_description pos;
  pos.add("action", 1);
  const std::string usage = "capf stale-lsc list [--json] | capf stale-lsc delete --all";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  if (action == "list") {
    auto r = admin_call(dir, "GET", "/v1/stale-lscs");
    if (vm.count("json")) {
      std::cout << r.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r["lscs"])
      rows.push_back({text(c, "serial"), text(c, "device"), text(c, "issued_at"), text(c, "issuer")});
    print_table({"SERIAL", "DEVICE", "ISSUED", "ISSUER"}, rows);
    return 0;
  }
  if (action == "delete") {
    if (!vm.count("all")) throw UsageError("stale-lsc delete takes --all (stale LSCs are deleted all at once)");
    auto r = admin_call(dir, "POST", "/v1/stale-lscs/delete", R"({"all": true})");
    if (vm.count("json")) std::cout << r.dump(2) << "\n";
    else std::cout << "deleted " << r["deleted"] << " stale LSCs\n";
    return 0;
  }
  throw UsageError("usage: " + usage);
}

}  // namespace capf::cli
