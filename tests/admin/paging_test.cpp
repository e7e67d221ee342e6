// Lists paged and sorted on the server: walking every page of a listing visits each match
// exactly once, in the asked order, whatever the sort; the count is the query's; cursors of
// another listing are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "capf/admin/admin_service.hpp"
#include "capf/admin/paging.hpp"

using namespace capf;

namespace {

constexpr util::UnixTime kNow = 1'800'000'000;

class NoTrigger : public engine::TriggerRunner {
 public:
  void trigger(const std::string&, const Device&, std::function<void(engine::TriggerResult)> done) override {
    done(engine::TriggerResult{});
  }
};

class PagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/capf-paging-XXXXXX";
    dir = ::mkdtemp(tmpl);
    store = std::move(store::Store::open(dir + "/store").value());
    engine = std::make_unique<engine::Engine>(*store, clock, runner, engine::EngineConfig{});
    service = std::make_unique<admin::AdminService>(*store, admin::CaInfo{}, clock, engine.get());
  }
  void TearDown() override {
    service.reset();
    engine.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  /// n devices; names deliberately not in creation order, some without LSC, equal pools.
  void add_devices(int n) {
    store::Transition t;
    for (int i = 0; i < n; ++i) {
      Device d;
      char name[32];
      std::snprintf(name, sizeof name, "SEP%012X", (i * 7919) % 100000);
      d.name = name;
      d.device_pool = "DP-" + std::to_string(i % 7);
      if (i % 9 != 0) {
        d.lsc_serial = "5e" + std::to_string(i);
        d.lsc_issuer = "CN=CAPF-test";
        d.lsc_not_after = kNow + (i % 13 - 3) * 86400;  // equal dates: ties broken by name
      }
      devices.push_back(d);
      t.put_devices.push_back(d);
    }
    ASSERT_TRUE(store->apply(t).ok());
  }
  nlohmann::json get(const std::string& target, int status = 200) {
    auto r = service->handle(admin::Request{"GET", target, "", "test"});
    EXPECT_EQ(r.status, status) << target << ": " << r.body.dump();
    return r.body;
  }
  /// Every page of `base` (which has page_size), following the cursors; the names in order.
  std::vector<std::string> walk(const std::string& base, const char* list, const char* key, std::size_t* matched = nullptr) {
    std::vector<std::string> out;
    std::string next;
    for (int page = 0; page < 1000; ++page) {
      auto body = get(base + (page == 0 ? "" : "&count=0&after=" + admin::url_encode(next)));
      if (page == 0 && matched) *matched = body["matched"].get<std::size_t>();
      if (page > 0) {
        EXPECT_TRUE(body["matched"].is_null()) << "count=0 pages are not counted";
      }
      for (const auto& row : body[list]) out.push_back(row[key].get<std::string>());
      if (body["next"].is_null()) return out;
      next = body["next"].get<std::string>();
      EXPECT_FALSE(body[list].empty()) << "a page with a next page is never empty";
    }
    ADD_FAILURE() << "more than 1000 pages";
    return out;
  }

  std::string dir;
  util::ManualClock clock{kNow};
  NoTrigger runner;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<admin::AdminService> service;
  std::vector<Device> devices;
};

}  // namespace

TEST_F(PagingTest, EveryDeviceOnceInNameOrder) {
  add_devices(523);
  std::size_t matched = 0;
  auto names = walk("/v1/phones?page_size=50", "phones", "name", &matched);
  std::vector<std::string> expected;
  for (const auto& d : devices) expected.push_back(d.name);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(matched, 523u);
  EXPECT_EQ(names, expected);
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(walk("/v1/phones?page_size=64&order=desc", "phones", "name"), expected);
}

TEST_F(PagingTest, SortedByExpiryWithTiesByNameAndTheQuerysCount) {
  add_devices(300);
  std::size_t matched = 0;
  const std::string where = admin::url_encode("device_pool in (DP-1, DP-2) AND lsc_status = valid");
  auto names = walk("/v1/phones?page_size=17&sort=lsc_expires&order=desc&where=" + where, "phones", "name", &matched);
  std::vector<Device> expected;
  for (const auto& d : devices)
    if ((d.device_pool == "DP-1" || d.device_pool == "DP-2") && !d.lsc_serial.empty() && d.lsc_not_after > kNow)
      expected.push_back(d);
  std::sort(expected.begin(), expected.end(), [](const Device& a, const Device& b) {
    return a.lsc_not_after != b.lsc_not_after ? a.lsc_not_after > b.lsc_not_after : a.name > b.name;
  });
  ASSERT_GT(expected.size(), 17u * 2) << "the walk must cross several pages";
  EXPECT_EQ(matched, expected.size());
  ASSERT_EQ(names.size(), expected.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], expected[i].name) << i;
}

TEST_F(PagingTest, RevokedLscsAreTheirOwnStatus) {
  add_devices(40);
  store::Transition t;
  t.put_meta.emplace_back(std::string(kRevocationMetaPrefix) + devices[1].lsc_serial, "{}");
  ASSERT_TRUE(store->apply(t).ok());
  auto revoked = get("/v1/phones?page_size=10&where=" + admin::url_encode("lsc_status = revoked"));
  ASSERT_EQ(revoked["matched"], 1);
  EXPECT_EQ(revoked["phones"][0]["name"], devices[1].name);
  auto valid = get("/v1/phones?page_size=100&where=" + admin::url_encode("lsc_status = valid"))["phones"];
  EXPECT_TRUE(std::none_of(valid.begin(), valid.end(), [&](const auto& p) { return p["name"] == devices[1].name; }));
}

TEST_F(PagingTest, BadPageRequestsNameTheParameter) {
  add_devices(5);
  EXPECT_EQ(get("/v1/phones?page_size=0", 400)["error"], "page_size must be 1 to 1000");
  EXPECT_EQ(get("/v1/phones?page_size=5000", 400)["error"], "page_size must be 1 to 1000");
  EXPECT_EQ(get("/v1/phones?page_size=5&sort=colour", 400)["error"],
            "cannot sort by \"colour\" (sort by name, device_pool, device_type, operation, status, lsc_issuer, lsc_expires, last_seen)");
  EXPECT_EQ(get("/v1/phones?page_size=5&order=up", 400)["error"], "order must be asc or desc");
  const std::string by_name = get("/v1/phones?page_size=2")["next"];
  EXPECT_EQ(get("/v1/phones?page_size=2&sort=device_pool&after=" + admin::url_encode(by_name), 400)["error"],
            "after is not a cursor of this listing sorted by device_pool asc (start again from the first page)");
  EXPECT_EQ(get("/v1/phones?page_size=2&after=name.a.zz", 400)["error"], "after is not a cursor (start again from the first page)");
  // Without page_size the listing is whole, as before.
  EXPECT_EQ(get("/v1/phones")["phones"].size(), 5u);
}

TEST_F(PagingTest, JobDevicesFilteredAndPaged) {
  add_devices(120);
  store::Transition t;
  Job job;
  job.id = "J0001";
  t.put_jobs.push_back(job);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    JobDevice jd;
    jd.job = job.id;
    jd.device = devices[i].name;
    jd.state = i % 4 == 0 ? JobDeviceState::failed : JobDeviceState::succeeded;
    jd.reason = i % 4 == 0 ? (i % 8 == 0 ? "phone never came" : "HTTP 404") : "";
    jd.attempts = static_cast<int>(i % 3);
    t.put_job_devices.push_back(jd);
  }
  ASSERT_TRUE(store->apply(t).ok());
  std::size_t matched = 0;
  auto failed = walk("/v1/jobs/J0001/devices?page_size=7&state=failed&reason=" + admin::url_encode("HTTP 404"), "devices",
                     "device", &matched);
  EXPECT_EQ(matched, 15u);
  EXPECT_EQ(failed.size(), 15u);
  EXPECT_TRUE(std::is_sorted(failed.begin(), failed.end()));
  EXPECT_EQ(walk("/v1/jobs/J0001/devices?page_size=50&sort=attempts", "devices", "device").size(), 120u);
  EXPECT_EQ(get("/v1/jobs/J0001/devices?page_size=5&state=lost", 400)["error"],
            "unknown device state \"lost\" (queued, triggered, in-session, pending-ca, succeeded, failed, expired, cancelled)");
  get("/v1/jobs/J0404/devices?page_size=5", 404);
}

TEST_F(PagingTest, AuditNewestFirstWithFiltersAndCounts) {
  store::Transition t;
  for (int i = 0; i < 230; ++i)
    t.audit.push_back(AuditEntry{kNow - 1000 + i, i % 3 == 0 ? "web:ops" : "admin", "job.a" + std::to_string(i), "", ""});
  ASSERT_TRUE(store->apply(t).ok());
  std::size_t matched = 0;
  auto all = walk("/v1/audit?page_size=100", "audit", "action", &matched);
  EXPECT_EQ(matched, 230u);
  ASSERT_EQ(all.size(), 230u);
  EXPECT_EQ(all.front(), "job.a229");
  EXPECT_EQ(all.back(), "job.a0");
  auto ops = walk("/v1/audit?page_size=30&actor=web:ops", "audit", "action", &matched);
  EXPECT_EQ(matched, 77u);
  EXPECT_EQ(ops.size(), 77u);
  EXPECT_EQ(get("/v1/audit?page_size=5&order=asc", 400)["error"], "the audit trail pages newest first (order=desc)");
}

TEST(PageCollector, KeepsTheFirstRowsAfterTheCursor) {
  admin::PageRequest r;
  r.size = 3;
  r.after = "c";
  admin::PageCollector<int> page(r);
  for (std::string k : {"e", "a", "g", "d", "c", "f", "b"})
    if (page.offer(k)) page.add(k, k[0]);
  std::string next;
  EXPECT_EQ(page.take(next), (std::vector<int>{'d', 'e', 'f'}));
  EXPECT_EQ(page.matched(), 7u);
  EXPECT_EQ(next, admin::page_cursor(r, "f"));
}
