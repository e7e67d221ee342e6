#include "cli.hpp"

#include <cstdlib>
#include <iostream>

#include "capf/admin/http.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/files.hpp"
#include "capf/util/user.hpp"
#include "modules.hpp"

namespace capf::cli {

std::string ca_dir(const std::string& d) {
  return d + "/ca";
}
std::string store_dir(const std::string& d) {
  return d + "/store";
}
std::string admin_socket(const std::string& d) {
  return d + "/admin.sock";
}
std::string admin_token_file(const std::string& d) {
  return d + "/admin.token";
}
std::string daemon_file(const std::string& d) {
  return d + "/daemon.json";
}

std::string data_dir(const po::variables_map& vm) {
  if (vm.count("data-dir")) return vm["data-dir"].as<std::string>();
  if (const char* env = std::getenv("CAPF_DATA_DIR"); env && *env) return env;
  return "./capf-data";
}

po::options_description common_options() {
  po::options_description d("Common options");
  d.add_options()("data-dir", po::value<std::string>(), "data directory (default $CAPF_DATA_DIR, else ./capf-data)")(
      "json", "print JSON instead of text")("log-level", po::value<std::string>()->default_value("warn"),
                                            "trace, debug, info, warn, error, off")("help,h", "show this help");
  return d;
}

po::variables_map parse(const Args& args, const po::options_description& desc,
                        const po::positional_options_description& positional, const std::string& usage) {
  po::variables_map vm;
  try {
    // No command has short options, so "-5" is a value ("config set validity-days -5" gets a
    // range error naming the parameter, not "unrecognised option '-5'").
    const int style = po::command_line_style::unix_style ^ po::command_line_style::allow_short;
    po::store(po::command_line_parser(args).options(desc).positional(positional).style(style).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage << "\n" << desc << "\n";
      std::exit(0);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (usage: " + usage + ")");
  }
  return vm;
}

namespace {
admin::Response admin_request(const std::string& dir, const std::string& method, const std::string& target,
                              const std::string& body) {
  // In-process, the caller is this process's user; the daemon reads it from the socket's peer.
  admin::Request request{method, target, body, util::current_user()};
  std::optional<admin::Response> response;
  if (util::exists(admin_socket(dir))) {
    auto token = util::read_file(admin_token_file(dir));
    if (!token) throw Failure("cannot read the admin token: " + token.error().message);
    auto r = admin::call_daemon(admin_socket(dir), *token, request);
    if (!r) throw Failure(r.error().message);
    response = std::move(*r);
  }
  if (!response) {
    // No daemon: the same service, in-process, on the store itself.
    if (!util::exists(store_dir(dir)))
      throw Failure("no capf data in " + dir + " (start `capf serve --data-dir " + dir + "` once, or pass --data-dir)");
    auto store = store::Store::open(store_dir(dir));
    if (!store) throw Failure(store.error().message);
    admin::CaInfo info;
    if (auto pem = util::read_file(ca_dir(dir) + "/capf-ca.pem")) {
      if (auto cert = crypto::Certificate::from_pem(*pem)) {
        info = {*pem,
                cert->subject(),
                cert->serial_hex(),
                to_string(cert->key_spec()),
                cert->sha256_fingerprint(),
                cert->not_before(),
                cert->not_after()};
      }
    }
    util::SystemClock clock;
    admin::AdminService service(**store, info, clock);
    install_admin_modules(
        service, ModuleContext{
                     .store = **store, .clock = clock, .engine = nullptr, .data_dir = dir, .ca_subject = info.subject});
    response = service.handle(request);
  }
  return std::move(*response);
}
}  // namespace

std::string admin_raw_call(const std::string& dir, const std::string& method, const std::string& target) {
  auto response = admin_request(dir, method, target, "");
  if (response.status < 200 || response.status >= 300)
    throw Failure(response.body.value("error", "admin API answered " + std::to_string(response.status)));
  return response.content_type.empty() ? response.body.dump(2) + "\n" : response.text;
}

nlohmann::json admin_call(const std::string& dir, const std::string& method, const std::string& target,
                          const std::string& body, std::vector<int> accept_status) {
  auto resp = admin_request(dir, method, target, body);
  auto* response = &resp;
  const bool accepted = std::find(accept_status.begin(), accept_status.end(), response->status) != accept_status.end();
  if ((response->status < 200 || response->status >= 300) && !accepted)
    throw Failure(response->body.value("error", "admin API answered " + std::to_string(response->status)));
  return response->body;
}

std::string save_generated_strings(nlohmann::json& r, const std::string& path, const std::string& default_path) {
  if (!r.contains("generated_strings") || r["generated_strings"].empty()) {
    r.erase("generated_strings");
    return "";
  }
  const std::string file = path.empty() ? default_path : path;
  std::string content = "Device Name,Authentication String\n";
  for (const auto& g : r["generated_strings"]) content += text(g, "device") + "," + text(g, "auth_string") + "\n";
  r.erase("generated_strings");
  if (auto w = util::write_file_atomic(file, content, 0600); !w)
    throw Failure(
        "the generated Authentication Strings could not be written (their devices have them; set new ones "
        "with `capf phone set NAME --generate-string`): " +
        w.error().message);
  r["strings_file"] = file;
  return file;
}

namespace {
/// Display width of UTF-8 text: one column per character (continuation bytes do not count).
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

std::string text(const nlohmann::json& j, const char* key) {
  return admin::json_text(j, key).value_or("");
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = columns(header[c]);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], columns(r[c]));
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (std::size_t c = 0; c < header.size(); ++c) {
      std::string cell = c < r.size() ? r[c] : "";
      out += cell;
      if (c + 1 < header.size()) out += std::string(width[c] - columns(cell) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

}  // namespace capf::cli
