// Templates and renewal policies against the real daemon: the demo fleet is imported, a policy
// that installs where no LSC is present is created and its forecast spreads the fleet over its
// jitter nights; a phone imported later takes its template's settings.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "harness.hpp"

using namespace capf::it;

namespace {

nlohmann::json json_of(const Run& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

}  // namespace

TEST(PolicyDaemon, CreateAndForecastOverTheDemoFleet) {
  TempDir dir;
  const std::string data = dir / "data";
  Daemon daemon(data);
  auto run = [&](std::vector<std::string> args) {
    args.push_back("--data-dir");
    args.push_back(data);
    return cli(args);
  };
  ASSERT_EQ(run({"phones", "import", CAPF_SAMPLES_DIR "/phones-demo.csv"}).exit_code, 0);
  auto t = run({"template", "create", "demo-mic", "--where", "all", "--auth-mode", "mic", "--key-size", "3072"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  // The nightly window opens 6 hours from now, so that no 4-hour window is already under way
  // (that night's capacity would be only the minutes left in it).
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  const std::string window = "0 " + std::to_string((utc.tm_hour + 6) % 24) + " * * * 4h UTC";
  auto p = run({"policy", "create", "demo", "--where", "all", "--template", "demo-mic", "--window", window,
                "--rate", "1/min", "--install-missing", "--reenroll-revoked", "--jitter-nights", "5"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(run({"policy", "create", "demo", "--where", "all", "--template", "demo-mic"}).exit_code, 1);
  EXPECT_EQ(run({"policy", "create", "x", "--where", "all", "--template", "nope"}).exit_code, 1);
  EXPECT_EQ(run({"policy", "create", "x", "--where", "all"}).exit_code, 2);

  auto f = json_of(run({"policy", "forecast", "demo", "--days", "30", "--json"}));
  ASSERT_FALSE(f.is_discarded());
  const auto matched = f["matched"].get<std::size_t>();
  EXPECT_GE(matched, 50u);
  EXPECT_EQ(f["total"].get<std::size_t>(), matched);  // no demo phone has an LSC yet
  const auto nights = f["nights"].size();
  EXPECT_TRUE(nights == 30 || nights == 31) << nights;
  std::size_t busy = 0;
  for (const auto& n : f["nights"]) {
    busy += n["devices"].get<std::size_t>() > 0 ? 1 : 0;
    EXPECT_EQ(n["capacity"], 240);
  }
  EXPECT_EQ(busy, 5u);  // spread over the 5 jitter nights
  EXPECT_TRUE(f["warnings"].empty());

  auto text = run({"policy", "forecast", "demo", "--days", "30"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(std::to_string(matched) + " devices on 5 of"), std::string::npos) << text.out;
  // The same answer in-process (no daemon) as through it.
  auto list = json_of(run({"policy", "list", "--json"}));
  ASSERT_EQ(list["policies"].size(), 1u);
  EXPECT_EQ(list["policies"][0]["state"], "active");
  EXPECT_EQ(run({"policy", "pause", "demo"}).exit_code, 0);
  EXPECT_EQ(json_of(run({"policy", "show", "demo", "--json"}))["state"], "paused");
  EXPECT_EQ(run({"policy", "resume", "demo"}).exit_code, 0);

  // A phone imported now takes the template's key size; its row's Authentication Mode wins.
  const std::string csv = dir / "new.csv";
  ASSERT_EQ(shell("printf 'Device Name,Device Pool,Authentication Mode\\nSEP0A1B2C0000FF,DP-HQ,By Null String\\n' > '" + csv + "'").exit_code, 0);
  ASSERT_EQ(run({"phones", "import", csv}).exit_code, 0);
  auto phone = json_of(run({"phone", "show", "SEP0A1B2C0000FF", "--json"}));
  EXPECT_EQ(phone["key_size"], 3072) << phone.dump();
  EXPECT_EQ(phone["auth_mode"], "By Null String");
  EXPECT_EQ(run({"template", "delete", "demo-mic"}).exit_code, 1);  // the policy uses it
  EXPECT_EQ(daemon.stop(), 0);
}
