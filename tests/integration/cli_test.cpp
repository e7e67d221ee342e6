// The command line as an administrator uses it: exit codes, errors that name what and where,
// file modes, the admin API's token.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "capf/admin/http.hpp"
#include "harness.hpp"

using namespace capf::it;

namespace {
unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}
}  // namespace

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
  auto r = cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command"), std::string::npos);
  r = cli({"phones", "import"});
  EXPECT_EQ(r.exit_code, 2);
  TempDir d;
  r = cli({"serve", "--data-dir", d / "data", "--validity-days", "1826"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("1–1825"), std::string::npos) << r.err;
  r = cli({"serve", "--data-dir", d / "data", "--validity-days", "0"});
  EXPECT_EQ(r.exit_code, 2);
  r = cli({"serve", "--data-dir", d / "data", "--listen", "nonsense"});
  EXPECT_EQ(r.exit_code, 2);
  r = cli({"phones", "list", "--data-dir", d / "nothing-here"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no capf data"), std::string::npos) << r.err;
}

TEST(Cli, VersionIsTheProjectsVersion) {
  auto r = cli({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "capf " CAPF_EXPECTED_VERSION "\n");
  EXPECT_EQ(cli({"version"}).out, r.out);
}

TEST(Cli, FilesHaveDeliberateModes) {
  Fleet f;
  EXPECT_EQ(mode_of(f.data), 0700u);
  EXPECT_EQ(mode_of(f.data + "/ca/capf-ca.key"), 0600u);
  EXPECT_EQ(mode_of(f.data + "/admin.token"), 0600u);
  EXPECT_EQ(mode_of(f.data + "/admin.sock") & 0077, 0u);
  EXPECT_EQ(mode_of(f.sim_state + "/manufacturer/capf-ca.key"), 0600u);
}

TEST(Cli, AdminApiRefusesACallerWithoutTheToken) {
  Fleet f;
  capf::admin::Request req{"GET", "/v1/phones", "", "x"};
  auto none = capf::admin::call_daemon(f.data + "/admin.sock", "", req);
  ASSERT_TRUE(none.ok());
  ASSERT_TRUE(none->has_value());
  EXPECT_EQ((*none)->status, 401);
  auto wrong = capf::admin::call_daemon(f.data + "/admin.sock", std::string(64, 'a'), req);
  ASSERT_TRUE(wrong.ok() && wrong->has_value());
  EXPECT_EQ((*wrong)->status, 401);
  auto token = shell("cat '" + f.data + "/admin.token'").out;
  auto right = capf::admin::call_daemon(f.data + "/admin.sock", token, req);
  ASSERT_TRUE(right.ok() && right->has_value());
  EXPECT_EQ((*right)->status, 200);
}

TEST(Cli, ImportReportsBadRowsByLineAndColumnAndKeepsTheGoodOnes) {
  Fleet f;
  const auto csv =
      f.write_csv("site.csv", std::string(kCsvHeader) +
                                  "SEP000000000401,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                  "SEP00000000040,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                  "SEP000000000403,DP-HQ,Reinstall,By Null String,,2048,RSA Only,\n"
                                  "SEP000000000404,DP-HQ,Install/Upgrade,By Authentication String,12,2048,RSA Only,\n"
                                  "SEP000000000405,DP-HQ,Install/Upgrade,By Authentication String,,2048,RSA Only,\n");
  auto r = f.import(csv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("site.csv:3:1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("site.csv:4:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("site.csv:5:5:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("site.csv:6:"), std::string::npos) << r.err;  // string mode without a string
  EXPECT_NE(r.out.find("1 added"), std::string::npos) << r.out;
  EXPECT_EQ(f.phone("SEP000000000401")["operation"], "Install/Upgrade");
  EXPECT_NE(cli({"phone", "show", "SEP000000000403", "--data-dir", f.data}).exit_code, 0);

  // --strict: nothing from a file with a bad row.
  const auto strict =
      f.write_csv("strict.csv", std::string(kCsvHeader) +
                                    "SEP000000000411,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                    "SEP000000000412,DP-HQ,Install/Upgrade,By Null String,,999,RSA Only,\n");
  r = cli({"phones", "import", strict, "--strict", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("rejected"), std::string::npos);
  EXPECT_NE(cli({"phone", "show", "SEP000000000411", "--data-dir", f.data}).exit_code, 0);

  // phone set refuses what cannot work, naming it.
  r = f.phone_set("SEP000000000401", {"--auth-mode", "string"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Authentication String"), std::string::npos) << r.err;
  r = f.phone_set("SEP000000000401", {"--key-size", "1000"});
  EXPECT_EQ(r.exit_code, 1);
  r = f.phone_set("SEP000000000499", {"--operation", "install"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no device named"), std::string::npos);
}
