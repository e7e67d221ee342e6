// The store's cursors: a listing continues after the last key of the previous page, and the
// audit trail is read newest first from a position the store handed out.
#include <gtest/gtest.h>

#include "store_test_util.hpp"

using namespace capf;
using namespace capf::store;
using namespace capf::store::testing;

namespace {

std::vector<std::string> names_after(const Store& s, std::string_view after, std::size_t n) {
  std::vector<std::string> out;
  EXPECT_TRUE(s.for_each_device_after(after, [&](const Device& d) {
                 out.push_back(d.name);
                 return out.size() < n;
               }).ok());
  return out;
}

}  // namespace

TEST(StoreCursor, DevicesContinueAfterTheLastNameOfThePage) {
  TempDir dir;
  auto s = open_ok(dir.db());
  Transition t;
  for (const char* n : {"SEPA", "SEPB", "SEPC", "SEPD", "SEPE"}) t.put_devices.push_back(full_device(n));
  ASSERT_TRUE(s->apply(t).ok());
  EXPECT_EQ(names_after(*s, "", 2), (std::vector<std::string>{"SEPA", "SEPB"}));
  EXPECT_EQ(names_after(*s, "SEPB", 2), (std::vector<std::string>{"SEPC", "SEPD"}));
  EXPECT_EQ(names_after(*s, "SEPD", 2), (std::vector<std::string>{"SEPE"}));
  // A name that is not there (deleted since) still continues where it would have sorted.
  EXPECT_EQ(names_after(*s, "SEPBB", 9), (std::vector<std::string>{"SEPC", "SEPD", "SEPE"}));
  EXPECT_TRUE(names_after(*s, "SEPE", 9).empty());
}

TEST(StoreCursor, JobDevicesStayInsideTheirJob) {
  TempDir dir;
  auto s = open_ok(dir.db());
  Transition t;
  for (const char* job : {"J0001", "J0002"})
    for (const char* dev : {"SEPA", "SEPB", "SEPC"}) {
      JobDevice jd;
      jd.job = job;
      jd.device = dev;
      t.put_job_devices.push_back(jd);
    }
  ASSERT_TRUE(s->apply(t).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(s->for_each_job_device_after("J0001", "SEPA", [&](const JobDevice& d) {
                 seen.push_back(d.job + "/" + d.device);
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"J0001/SEPB", "J0001/SEPC"}));
}

TEST(StoreCursor, AuditNewestFirstFromAPositionAndSince) {
  TempDir dir;
  auto s = open_ok(dir.db());
  Transition t;
  for (int i = 0; i < 6; ++i) t.audit.push_back(AuditEntry{1000 + i / 2, "admin", "a" + std::to_string(i), "", ""});
  ASSERT_TRUE(s->apply(t).ok());
  std::vector<std::string> actions, positions;
  auto page = [&](const std::string& from, util::UnixTime since, std::size_t n) {
    // A copy: `from` may be one of the positions cleared here.
    const std::string before = from;  // NOLINT(performance-unnecessary-copy-initialization)
    actions.clear();
    positions.clear();
    EXPECT_TRUE(s->for_each_audit_before(before, since, [&](const AuditEntry& a, const std::string& p) {
                   actions.push_back(a.action);
                   positions.push_back(p);
                   return actions.size() < n;
                 }).ok());
  };
  page("", 0, 2);
  EXPECT_EQ(actions, (std::vector<std::string>{"a5", "a4"}));
  page(positions.back(), 0, 3);
  EXPECT_EQ(actions, (std::vector<std::string>{"a3", "a2", "a1"}));
  page(positions.back(), 0, 9);
  EXPECT_EQ(actions, (std::vector<std::string>{"a0"}));
  page("", 1001, 9);
  EXPECT_EQ(actions, (std::vector<std::string>{"a5", "a4", "a3", "a2"}));
  EXPECT_EQ(s->count_audit(0).value(), 6u);
  EXPECT_EQ(s->count_audit(1002).value(), 2u);
  auto bad = s->for_each_audit_before("not-a-position", 0, [](const AuditEntry&, const std::string&) { return true; });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST(StoreCursor, MetaByPrefix) {
  TempDir dir;
  auto s = open_ok(dir.db());
  Transition t;
  t.put_meta = {{"revocation/0a", "{}"}, {"revocation/0b", "{}"}, {"revocations", "x"}, {"session_counter", "3"}};
  ASSERT_TRUE(s->apply(t).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(s->for_each_meta("revocation/", [&](const std::string& k, const std::string&) {
                 keys.push_back(k);
                 return true;
               }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"revocation/0a", "revocation/0b"}));
}
