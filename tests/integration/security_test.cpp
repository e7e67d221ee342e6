// Security checks of issues 7 and 18 over a full run at debug log level: a job enrolls phones
// by Authentication String and by null string while every secret service parameter (read from
// `config list`, so a new one is covered at once) is set through `--stdin` and a dashboard user
// has a password; afterwards no string, password, key, private key or admin token appears in
// any log, the audit trail, any CLI output (every read command, text and JSON, every parameter
// with `config get`, and what `config set` printed) or any answer of the dashboard's API;
// every file holding a private key or a secret is 0600; the admin API refuses a caller without
// the token or with a wrong one.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "capf/admin/http.hpp"
#include "capf/net/http_client.hpp"
#include "job_fleet.hpp"

using namespace capf::it;

namespace {

std::string slurp(const std::string& path) { return shell("cat '" + path + "' 2>/dev/null").out; }

/// The base64 lines of every PEM private key in `text` (a JSON flash file escapes newlines).
std::vector<std::string> key_lines(std::string text) {
  for (std::size_t at; (at = text.find("\\n")) != std::string::npos;) text.replace(at, 2, "\n");
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = text.find("-----BEGIN ", at)) != std::string::npos) {
    const auto eol = text.find('\n', at);
    const bool key = eol != std::string::npos && text.substr(at, eol - at).find("PRIVATE KEY") != std::string::npos;
    at = eol == std::string::npos ? text.size() : eol + 1;
    if (!key) continue;
    const auto end = text.find("-----END", at);
    std::istringstream lines(text.substr(at, end - at));
    for (std::string line; std::getline(lines, line);)
      if (line.size() >= 40) out.push_back(line.substr(0, 40));
  }
  return out;
}

/// Sets every secret service parameter to a value of its own through `config set --stdin`;
/// returns {parameter name → value} and adds what the commands printed to `outputs`.
std::map<std::string, std::string> set_every_secret(const JobFleet& f, std::map<std::string, std::string>& outputs) {
  std::map<std::string, std::string> out;
  auto list = nlohmann::json::parse(cli({"config", "list", "--json", "--data-dir", f.data}).out);
  int n = 0;
  for (const auto& p : list["parameters"]) {
    if (!p.value("secret", false)) continue;
    const std::string name = p["name"];
    ++n;
    // Hex for the keys, printable text for passwords and users; distinct, and long enough that
    // finding one anywhere is no accident.
    const std::string value = name.find("key") != std::string::npos
                                  ? "5eC7e7" + std::string(26, static_cast<char>('a' + n % 6))
                                  : "Sw33p-" + std::to_string(n) + "-" + name + "-Qz";
    auto r = shell("printf '%s\\n' '" + value + "' | '" + std::string(CAPF_BINARY) + "' config set " + name +
                   " --stdin --data-dir '" + f.data + "' 2>&1");
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out;
    outputs["config set " + name] = r.out;
    out[name] = value;
  }
  return out;
}

/// The names of the certificate templates (`capf template list --json`); the test made one.
std::vector<std::string> template_names(const JobFleet& f) {
  auto j = nlohmann::json::parse(cli({"template", "list", "--json", "--data-dir", f.data}).out, nullptr, false);
  std::vector<std::string> out;
  if (j.is_object() && j["templates"].is_array())
    for (const auto& t : j["templates"])
      if (t.is_object() && t["name"].is_string()) out.push_back(t["name"]);
  EXPECT_FALSE(out.empty()) << j.dump();
  return out;
}

/// The read commands of the CLI, each as text and as JSON where it has both.
std::map<std::string, std::string> cli_outputs(const JobFleet& f, const std::string& job, const std::string& device) {
  const std::vector<std::vector<std::string>> reads{
      {"audit", "list", "--limit", "1000"}, {"config", "list"}, {"phones", "list"}, {"phone", "show", device},
      {"job", "list"}, {"job", "show", job}, {"metrics"}, {"trust", "list"}, {"csr", "list", "--state", "all"},
      {"stale-lsc", "list"}, {"template", "list"}, {"policy", "list"}, {"offline", "rounds"}, {"ca", "show"},
      {"web", "users"}, {"monitor", "status"}};
  std::map<std::string, std::string> out;
  auto run = [&](std::vector<std::string> args) {
    std::string what;
    for (const auto& a : args) what += (what.empty() ? "" : " ") + a;
    args.insert(args.end(), {"--data-dir", f.data});
    auto r = cli(args);
    out[what] = r.out + r.err;
  };
  for (auto args : reads) {
    run(args);
    args.push_back("--json");
    run(args);
  }
  for (const std::string format : {"json", "csv"}) run({"job", "report", job, "--format", format});
  run({"crl", "export"});
  auto list = nlohmann::json::parse(cli({"config", "list", "--json", "--data-dir", f.data}).out);
  for (const auto& p : list["parameters"]) {
    run({"config", "get", p["name"]});
    run({"config", "get", p["name"], "--json"});
  }
  for (const auto& name : template_names(f)) {
    run({"template", "show", name});
    run({"template", "show", name, "--json"});
  }
  return out;
}

/// Every GET route of the admin API, through the dashboard (logged in as `user`).
std::map<std::string, std::string> dashboard_outputs(const JobFleet& f, const std::string& user,
                                                     const std::string& password, const std::string& job,
                                                     const std::string& device) {
  std::map<std::string, std::string> out;
  auto info = nlohmann::json::parse(slurp(f.data + "/daemon.json"));
  std::string base = info["web"].get<std::string>();
  base.pop_back();
  auto call = [&](const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers) {
    capf::net::HttpRequest r;
    r.method = method;
    r.url = base + path;
    r.body = body;
    r.headers = std::move(headers);
    r.ca_pem = slurp(f.data + "/ca/capf-ca.pem");
    auto res = capf::net::http_request(r);
    EXPECT_TRUE(res.ok()) << path;
    return res.ok() ? *res : capf::net::HttpResponse{};
  };
  auto login = call("POST", "/login", nlohmann::json{{"user", user}, {"password", password}}.dump(), {{"Origin", base}});
  EXPECT_EQ(login.status, 200) << login.body;
  out["POST /login"] = login.body;
  const auto set_cookie = login.header("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  auto list = nlohmann::json::parse(cli({"config", "list", "--json", "--data-dir", f.data}).out);
  std::vector<std::string> paths{"/api/session", "/api/v1/ca", "/api/v1/ca/retired", "/api/v1/ca/phones-on-old",
                                 "/api/v1/phones", "/api/v1/phones/" + device, "/api/v1/certificates?device=" + device,
                                 "/api/v1/audit", "/api/v1/health", "/api/v1/metrics", "/api/v1/jobs",
                                 "/api/v1/jobs/" + job, "/api/v1/jobs/" + job + "/devices", "/api/v1/config",
                                 "/api/v1/csrs?state=all", "/api/v1/stale-lscs", "/api/v1/templates", "/api/v1/policies",
                                 "/api/v1/trust", "/api/v1/offline/rounds", "/api/v1/monitor/status", "/api/v1/crl"};
  for (const auto& p : list["parameters"]) paths.push_back("/api/v1/config/" + p["name"].get<std::string>());
  for (const auto& name : template_names(f)) paths.push_back("/api/v1/templates/" + name);
  for (const auto& path : paths) {
    auto r = call("GET", path, "", {{"Cookie", cookie}});
    EXPECT_NE(r.status, 401) << path;
    out["GET " + path] = r.body;
  }
  return out;
}

TEST(Security, NoSecretInAnyLogKeyFilesAre0600AndTheAdminApiNeedsItsToken) {
  JobFleet f({"--log-level", "debug", "--web", "127.0.0.1:0"});
  const std::vector<std::string> strings{"48151623", "42424242", "13571357"};
  std::string rows =
      "Device Name,Device Pool,Certificate Operation,Authentication Mode,Authentication String,Key Order,EC Key Size (Bits)\n";
  for (int i = 0; i < 6; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "SEP00005EC0%04X", i);
    rows += std::string(name) + ",DP-HQ,No Pending Operation," +
            (i < 3 ? "By Authentication String," + strings[i] : std::string("By Null String,")) + ",EC Only,256\n";
  }
  const auto csv = f.dir / "secure.csv";
  std::ofstream(csv) << rows;
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  std::map<std::string, std::string> outputs;
  const auto parameters = set_every_secret(f, outputs);
  for (const char* name : {"online-ca-password", "online-ca-auth-key", "smtp-user", "smtp-password"})
    EXPECT_TRUE(parameters.count(name)) << name << " is not a secret parameter";
  const std::string web_user = "auditor", web_password = "Dashb0ard-Pa55-9W";
  auto passwd = shell("printf '%s\\n' '" + web_password + "' | '" + std::string(CAPF_BINARY) + "' web passwd " + web_user +
                      " --data-dir '" + f.data + "' 2>&1");
  ASSERT_EQ(passwd.exit_code, 0) << passwd.out;
  outputs["web passwd"] = passwd.out;
  f.start_sim(csv);
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--rate", "600", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  auto j = f.wait_job(submitted_id(sub), 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  ASSERT_EQ(j["counts"]["succeeded"], 6) << j.dump(2);

  // A certificate template, so that its reads are swept too.
  auto tpl = cli({"template", "create", "sweep", "--where", "device_pool = DP-NONE", "--data-dir", f.data});
  ASSERT_EQ(tpl.exit_code, 0) << tpl.out << tpl.err;

  // Everything an administrator, a dashboard user or a log collector could read.
  const std::string job = submitted_id(sub), device = "SEP00005EC00000";
  for (auto& [what, text] : cli_outputs(f, job, device)) outputs["capf " + what] = std::move(text);
  std::size_t cli_count = outputs.size();
  for (auto& [what, text] : dashboard_outputs(f, web_user, web_password, job, device))
    outputs["dashboard " + what] = std::move(text);
  const std::size_t dashboard_count = outputs.size() - cli_count;
  outputs["daemon log"] = f.daemon->log();
  outputs["simulator output"] = slurp(f.dir / "sim.out") + slurp(f.dir / "sim.err");
  // Log files; the store keeps the strings and the CA password on purpose (it authenticates
  // phones and logs in to the CA with them), its files are not logs.
  for (const auto& p : std::filesystem::recursive_directory_iterator(f.dir.path()))
    if (p.is_regular_file() && p.path().extension() == ".log" && p.path().string().find("/store/") == std::string::npos)
      outputs[p.path().string()] = slurp(p.path().string());

  std::map<std::string, std::string> secrets{{"admin token", slurp(f.data + "/admin.token")},
                                             {"dashboard password", web_password}};
  for (const auto& [name, value] : parameters) secrets["parameter " + name] = value;
  for (const auto& s : strings) secrets["Authentication String " + s] = s;
  int keys = 0;
  std::vector<std::string> private_files;
  for (const auto& root : {f.data, f.sim_state})
    for (const auto& p : std::filesystem::recursive_directory_iterator(root)) {
      if (!p.is_regular_file()) continue;
      const auto text = slurp(p.path().string());
      const auto lines = key_lines(text);
      if (lines.empty()) continue;
      private_files.push_back(p.path().string());
      for (const auto& l : lines) secrets["private key in " + p.path().filename().string() + " #" + std::to_string(++keys)] = l;
    }
  ASSERT_GE(private_files.size(), 8u) << "the CAPF CA key, the manufacturer CA key and 6 phones' flash were expected";
  ASSERT_FALSE(secrets["admin token"].empty());

  int checks = 0;
  for (const auto& [what, secret] : secrets)
    for (const auto& [where, text] : outputs) {
      ++checks;
      const auto at = text.find(secret);
      EXPECT_EQ(at, std::string::npos) << what << " appears in " << where << ": "
                                       << (at == std::string::npos ? "" : text.substr(at > 200 ? at - 200 : 0, 300));
    }
  std::printf("security sweep: %zu secrets (%zu secret parameters, %d private-key lines) x %zu outputs (%zu CLI, %zu "
              "dashboard API) = %d checks, %zu private key files\n",
              secrets.size(), parameters.size(), keys, outputs.size(), cli_count, dashboard_count, checks,
              private_files.size());

  // Files with private keys or secrets are readable by their owner only.
  private_files.push_back(f.data + "/admin.token");
  for (const auto& path : private_files) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
  struct stat sock {};
  ASSERT_EQ(::stat((f.data + "/admin.sock").c_str(), &sock), 0);
  EXPECT_EQ(sock.st_mode & 0077, 0u) << "the admin socket is open to other users";

  // The admin API: no token, a wrong token, then the right one.
  const std::string sock_path = f.data + "/admin.sock";
  for (const std::string& token : {std::string(), std::string("not-the-token")}) {
    auto r = capf::admin::call_daemon(sock_path, token, {"GET", "/v1/phones", "", "intruder"});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, 401) << (*r)->body.dump();
  }
  auto ok = capf::admin::call_daemon(sock_path, secrets["admin token"], {"GET", "/v1/phones", "", "admin"});
  ASSERT_TRUE(ok.ok() && ok->has_value());
  EXPECT_EQ((*ok)->status, 200);
}

}  // namespace
