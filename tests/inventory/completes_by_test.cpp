// Operation Completes By in Unified CM's bulk form (YYYY:MM:DD:HH in the cluster's time zone)
// beside ISO 8601, and the CSV column read with the import's time zone.
#include "capf/inventory/completes_by.hpp"

#include <gtest/gtest.h>

#include "capf/inventory/phones_csv.hpp"
#include "capf/util/time.hpp"

using namespace capf;

namespace {

util::UnixTime iso(const char* s) {
  return *util::parse_iso8601(s);
}

}  // namespace

TEST(CompletesBy, UnifiedCmHourFormInTheGivenZone) {
  EXPECT_EQ(inventory::parse_completes_by("2027:03:01:12", "UTC").value(), iso("2027-03-01T12:00:00Z"));
  EXPECT_EQ(inventory::parse_completes_by("2027:03:01:12", "Europe/Berlin").value(), iso("2027-03-01T11:00:00Z"));
  EXPECT_EQ(inventory::parse_completes_by("2027:07:01:12", "Europe/Berlin").value(), iso("2027-07-01T10:00:00Z"));
  EXPECT_EQ(inventory::parse_completes_by("2027:01:15:09", "America/New_York").value(), iso("2027-01-15T14:00:00Z"));
  EXPECT_EQ(inventory::parse_completes_by(" 2027:03:01:00 ", "").value(),
            iso("2027-03-01T00:00:00Z"));  // empty zone: UTC
  // Spring forward in Berlin (2027-03-28, 02:00 → 03:00): the missing hour is the gap's end.
  EXPECT_EQ(inventory::parse_completes_by("2027:03:28:02", "Europe/Berlin").value(), iso("2027-03-28T01:00:00Z"));
  // Fall back (2027-10-31, 03:00 → 02:00): the repeated hour is its first occurrence.
  EXPECT_EQ(inventory::parse_completes_by("2027:10:31:02", "Europe/Berlin").value(), iso("2027-10-31T00:00:00Z"));
  // ISO dates are read as before, whatever the zone.
  EXPECT_EQ(inventory::parse_completes_by("2027-03-01", "Europe/Berlin").value(), iso("2027-03-01"));
  EXPECT_EQ(inventory::parse_completes_by("2027-03-01T12:00:00+02:00", "UTC").value(), iso("2027-03-01T10:00:00Z"));
}

TEST(CompletesBy, AWrongValueOrZoneNamesTheAcceptedForms) {
  for (const char* bad : {"2027:02:29:12", "2027:13:01:00", "2027:03:01:24", "2027:3:1:12", "2027:03:01", "01.03.2027",
                          "2027/03/01", "", "2027:03:01:1x"}) {
    auto r = inventory::parse_completes_by(bad, "UTC");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("YYYY:MM:DD:HH"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("YYYY-MM-DD"), std::string::npos) << r.error().message;
  }
  auto zone = inventory::parse_completes_by("2027:03:01:12", "Europe/Atlantis");
  ASSERT_FALSE(zone.ok());
  EXPECT_NE(zone.error().message.find("unknown time zone \"Europe/Atlantis\""), std::string::npos);
}

TEST(CompletesBy, TheCsvColumnTakesBothFormsInTheImportsZone) {
  inventory::CsvOptions options;
  options.time_zone = "Europe/Berlin";
  auto r = inventory::parse_phones_csv(
      "Device Name,Operation Completes By\nSEP000000000001,2027:03:01:12\n"
      "SEP000000000002,2027-03-01T12:00:00Z\nSEP000000000003,2027:03:01:25\n",
      "t.csv", options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(*r->rows[0].completes_by, iso("2027-03-01T11:00:00Z"));
  EXPECT_EQ(*r->rows[1].completes_by, iso("2027-03-01T12:00:00Z"));
  ASSERT_EQ(r->issues.size(), 1u);
  EXPECT_EQ(r->issues[0].to_string().rfind(
                "t.csv:4:2: Operation Completes By \"2027:03:01:25\" is not a date (use YYYY:MM:DD:HH", 0),
            0u)
      << r->issues[0].to_string();
  options.time_zone = "Nowhere/Land";
  auto bad = inventory::parse_phones_csv("Device Name\nSEP000000000001\n", "t.csv", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown time zone \"Nowhere/Land\""), std::string::npos) << bad.error().message;
}
