// Issue 19 item 8: Operation Completes By in the form Unified CM's bulk files use
// (YYYY:MM:DD:HH, that hour in the cluster's time zone: the `time-zone` service parameter) as
// well as ISO dates, in CSV imports, `phone set` and `job submit`; a wrong value names the forms.
#include <gtest/gtest.h>

#include "job_fleet.hpp"

using namespace capf::it;

TEST(CompletesBy, UnifiedCmsHourFormIsReadInTheClustersTimeZone) {
  JobFleet f;
  // The time zone is a service parameter, checked when set.
  auto r = cli({"config", "set", "time-zone", "Mars/Olympus_Mons", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown time zone \"Mars/Olympus_Mons\""), std::string::npos) << r.err;
  ASSERT_EQ(cli({"config", "set", "time-zone", "Europe/Berlin", "--data-dir", f.data}).exit_code, 0);

  // CSV: winter (UTC+1) and summer (UTC+2) hours, an ISO date beside them, and a wrong value.
  const auto csv = f.dir / "bat.csv";
  std::ofstream(csv) << "Device Name,Certificate Operation,Authentication Mode,Operation Completes By\n"
                        "SEP00000019E001,Install/Upgrade,By Null String,2031:03:01:12\n"
                        "SEP00000019E002,Install/Upgrade,By Null String,2031:07:01:12\n"
                        "SEP00000019E003,Install/Upgrade,By Null String,2031-03-01\n"
                        "SEP00000019E004,Install/Upgrade,By Null String,2031/03/01\n"
                        "SEP00000019E005,Install/Upgrade,By Null String,2031:02:30:12\n";
  r = cli({"phones", "import", csv, "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bat.csv:5:4: Operation Completes By \"2031/03/01\" is not a date (use YYYY:MM:DD:HH"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("bat.csv:6:4: Operation Completes By \"2031:02:30:12\""), std::string::npos) << r.err;
  auto deadline = [&](const std::string& device) {
    auto p = nlohmann::json::parse(cli({"phone", "show", device, "--json", "--data-dir", f.data}).out);
    return p["completes_by"].is_string() ? p["completes_by"].get<std::string>() : p.dump();
  };
  EXPECT_EQ(deadline("SEP00000019E001"), "2031-03-01T11:00:00Z");
  EXPECT_EQ(deadline("SEP00000019E002"), "2031-07-01T10:00:00Z");
  EXPECT_EQ(deadline("SEP00000019E003"), "2031-03-01T00:00:00Z");

  // phone set, both forms; a wrong one names the accepted forms.
  ASSERT_EQ(cli({"phone", "set", "SEP00000019E003", "--completes-by", "2031:12:24:18", "--data-dir", f.data}).exit_code,
            0);
  EXPECT_EQ(deadline("SEP00000019E003"), "2031-12-24T17:00:00Z");
  ASSERT_EQ(cli({"phone", "set", "SEP00000019E003", "--completes-by", "2031-12-24T18:00:00Z", "--data-dir", f.data})
                .exit_code,
            0);
  EXPECT_EQ(deadline("SEP00000019E003"), "2031-12-24T18:00:00Z");
  r = cli({"phone", "set", "SEP00000019E003", "--completes-by", "24.12.2031", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("\"24.12.2031\" is not a date/time (use YYYY:MM:DD:HH"), std::string::npos) << r.err;

  // job submit: the job's deadline in the same form.
  r = cli({"job", "submit", "--where", "name = SEP00000019E001", "--operation", "install", "--completes-by",
           "2031:01:01:00", "--hold", "--force", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(f.job(submitted_id(r))["completes_by"], "2030-12-31T23:00:00Z");
  r = cli({"job", "submit", "--where", "name = SEP00000019E002", "--operation", "install", "--completes-by",
           "2031:13:01:00", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("YYYY:MM:DD:HH (Unified CM's bulk form"), std::string::npos) << r.err;

  // Another zone applies at once, to the next value read.
  ASSERT_EQ(cli({"config", "set", "time-zone", "America/New_York", "--data-dir", f.data}).exit_code, 0);
  ASSERT_EQ(cli({"phone", "set", "SEP00000019E003", "--completes-by", "2031:01:15:09", "--data-dir", f.data}).exit_code,
            0);
  EXPECT_EQ(deadline("SEP00000019E003"), "2031-01-15T14:00:00Z");
}
