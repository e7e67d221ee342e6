// Security checks of issue 7 over a full run at debug log level: a job enrolls phones by
// Authentication String and by null string while an online CA password and auth key are set;
// afterwards no string, password, key, private key or admin token appears in any log, the
// audit trail or the CLI's output; every file holding a private key or a secret is 0600; the
// admin API refuses a caller without the token or with a wrong one.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "capf/admin/http.hpp"
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

TEST(Security, NoSecretInAnyLogKeyFilesAre0600AndTheAdminApiNeedsItsToken) {
  JobFleet f({"--log-level", "debug"});
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
  const std::string password = "Pa55-w0rd-7XQ", auth_key = "0123456789abcdef0123456789abcdef";
  ASSERT_EQ(cli({"config", "set", "online-ca-password", password, "--data-dir", f.data}).exit_code, 0);
  ASSERT_EQ(cli({"config", "set", "online-ca-auth-key", auth_key, "--data-dir", f.data}).exit_code, 0);
  f.start_sim(csv);
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--rate", "600", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  auto j = f.wait_job(submitted_id(sub), 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  ASSERT_EQ(j["counts"]["succeeded"], 6) << j.dump(2);

  // Everything an administrator or a log collector could read.
  std::map<std::string, std::string> outputs{
      {"daemon log", f.daemon->log()},
      {"simulator output", slurp(f.dir / "sim.out") + slurp(f.dir / "sim.err")},
      {"audit list", cli({"audit", "list", "--limit", "1000", "--json", "--data-dir", f.data}).out},
      {"config list", cli({"config", "list", "--json", "--data-dir", f.data}).out},
      {"phones list", cli({"phones", "list", "--json", "--data-dir", f.data}).out},
      {"job report", cli({"job", "report", submitted_id(sub), "--format", "json", "--data-dir", f.data}).out},
      {"metrics", cli({"metrics", "--data-dir", f.data}).out}};
  // Log files; the store keeps the strings and the CA password on purpose (it authenticates
  // phones and logs in to the CA with them), its files are not logs.
  for (const auto& p : std::filesystem::recursive_directory_iterator(f.dir.path()))
    if (p.is_regular_file() && p.path().extension() == ".log" && p.path().string().find("/store/") == std::string::npos)
      outputs[p.path().string()] = slurp(p.path().string());

  std::map<std::string, std::string> secrets{{"online CA password", password}, {"online CA auth key", auth_key},
                                             {"admin token", slurp(f.data + "/admin.token")}};
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
  std::printf("security sweep: %zu secrets (%d private-key lines) x %zu outputs = %d checks, %zu private key files\n",
              secrets.size(), keys, outputs.size(), checks, private_files.size());

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
  for (const std::string token : {std::string(), std::string("not-the-token")}) {
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
