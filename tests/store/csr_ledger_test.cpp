// The CSR ledger (store/csr_ledger.hpp): the one typed reader of the csrs family. Stored records
// are planted as raw text, including ones capf would never write, to show what each reader
// does with them.
#include "capf/store/csr_ledger.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_util.hpp"

namespace capf::store {
namespace {

using testing::TempDir;

CsrRecord csr(const std::string& id, const std::string& device, CsrState state = CsrState::pending) {
  CsrRecord c;
  c.id = id;
  c.device = device;
  c.key = "RSA-2048";
  c.csr_der_hex = "3000";
  c.spki_sha256 = std::string(64, 'b');
  c.created_at = 1'700'000'000;
  c.updated_at = 1'700'000'000;
  c.state = state;
  return c;
}

struct Planted {
  std::string key;
  std::string text;
};

class CsrLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { store = testing::open_ok(dir.db()); }

  void plant(const std::vector<Planted>& docs, Family family = Family::csrs) {
    Transition t;
    for (const auto& d : docs) t.put_docs.push_back(Doc{family, d.key, d.text});
    ASSERT_TRUE(store->apply(t)) << "planting failed";
  }

  TempDir dir;
  std::unique_ptr<Store> store;
};

TEST_F(CsrLedgerTest, AddedRecordsReadBackByIdAndDevice) {
  Transition t;
  CsrLedger::add_new(csr("aa", "SEP000000000001"), t);
  CsrLedger::add_new(csr("bb", "SEP000000000001", CsrState::issued), t);  // the newer one of that device
  ASSERT_TRUE(store->apply(t));
  const CsrLedger ledger(*store);
  auto a = ledger.get("aa");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->device, "SEP000000000001");
  auto latest = ledger.latest("SEP000000000001");
  ASSERT_TRUE(latest) << latest.error().message;
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->id, "bb");
  EXPECT_EQ((*latest)->state, CsrState::issued);

  auto none = ledger.get("cc");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto no_device = ledger.latest("SEP000000000002");
  ASSERT_TRUE(no_device);
  EXPECT_FALSE(no_device->has_value());
}

// Each stored text that is not a CSR record: get() names the record and the store, never
// returns a half-read record.
TEST_F(CsrLedgerTest, AStoredRecordThatDoesNotDecodeIsAnErrorNamingIt) {
  const std::vector<Planted> hostile{
      {"empty", ""},
      {"not-json", "{\"id\": "},
      {"array", "[1, 2, 3]"},
      {"number", "42"},
      {"no-fields", "{}"},
      {"wrong-type", "{\"id\": 7, \"device\": [\"SEP\"]}"},
      {"nul", std::string("{\"id\":\"a\0b\"}", 12)},
      {"deep", std::string(10'000, '[') + std::string(10'000, ']')},
  };
  plant(hostile);
  const CsrLedger ledger(*store);
  for (const auto& h : hostile) {
    SCOPED_TRACE(h.key);
    auto r = ledger.get(h.key);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("CSR " + h.key + ":"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(store->path()), std::string::npos) << r.error().message;
  }
}

TEST_F(CsrLedgerTest, LatestOfADeviceWhoseCsrIsGoneIsNone) {
  plant({{"SEP000000000001", "no-such-id"}}, Family::csr_by_device);
  auto r = CsrLedger(*store).latest("SEP000000000001");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST_F(CsrLedgerTest, ForEachGoesInIdOrderAndStopsWhenAsked) {
  Transition t;
  for (const auto* id : {"cc", "aa", "bb"}) CsrLedger::add_new(csr(id, std::string("SEP00000000000") + id[0]), t);
  ASSERT_TRUE(store->apply(t));
  std::vector<std::string> seen;
  ASSERT_TRUE(CsrLedger(*store).for_each([&](const CsrRecord& c) {
    seen.push_back(c.id);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"aa", "bb", "cc"}));
  seen.clear();
  ASSERT_TRUE(CsrLedger(*store).for_each([&](const CsrRecord& c) {
    seen.push_back(c.id);
    return c.id != "bb";
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"aa", "bb"}));
}

TEST_F(CsrLedgerTest, ABadRecordEndsTheScanOrIsSkippedAsAsked) {
  Transition t;
  CsrLedger::add_new(csr("aa", "SEP000000000001"), t);
  CsrLedger::add_new(csr("cc", "SEP000000000003"), t);
  ASSERT_TRUE(store->apply(t));
  plant({{"bb", "{\"id\": \"bb\""}});
  std::vector<std::string> seen;
  auto collect = [&](const CsrRecord& c) {
    seen.push_back(c.id);
    return true;
  };
  auto ended = CsrLedger(*store).for_each(collect);
  ASSERT_FALSE(ended.ok());
  EXPECT_NE(ended.error().message.find("CSR bb:"), std::string::npos) << ended.error().message;
  EXPECT_EQ(seen, (std::vector<std::string>{"aa"}));
  seen.clear();
  ASSERT_TRUE(CsrLedger(*store).for_each(collect, CsrLedger::Undecodable::skip));
  EXPECT_EQ(seen, (std::vector<std::string>{"aa", "cc"}));
}

}  // namespace
}  // namespace capf::store
