// Bulk writes of an import (DeviceBatch): the WriteBatch route below kIngestMinimumDevices,
// table-file ingestion from there on; both read back the same, before and after a reopen.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "capf/store/store.hpp"
#include "store_test_util.hpp"

namespace capf::store {
namespace {

using testing::expect_same;
using testing::full_device;
using testing::open_ok;
using testing::TempDir;

std::string name_of(std::size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "SEP%012zX", 0xA0000 + i);
  return buf;
}

AuditEntry import_entry() {
  return AuditEntry{1'700'000'000, "admin", "phones.import", "site.csv", "bulk"};
}

std::size_t table_files(const std::string& db) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(db)) n += e.path().extension() == ".sst";
  return n;
}

// Writes `count` devices (names in descending order, so the ingest must sort them) over a
// store that already holds one of them, and checks every one after a reopen. `ingested`: the
// write leaves a table file in the store at once (a WriteBatch of this size stays in the
// memtable).
void write_and_read_back(std::size_t count, bool ingested) {
  TempDir dir;
  const std::string kept = name_of(count / 2);
  {
    auto store = open_ok(dir.db());
    ASSERT_TRUE(store);
    Transition before;
    Device old = full_device(kept);
    old.description = "before the import";
    before.put_devices.push_back(old);
    before.put_devices.push_back(full_device("SEP999999999999"));  // not in the import: untouched
    ASSERT_TRUE(store->apply(before).ok());

    DeviceBatch batch;
    for (std::size_t i = count; i-- > 0;) {
      Device d = full_device(name_of(i));
      d.description = "row " + std::to_string(i);
      ASSERT_TRUE(batch.add(d).ok());
    }
    Device again = full_device(name_of(3));
    again.description = "the later row of a name wins";
    ASSERT_TRUE(batch.add(again).ok());
    EXPECT_EQ(batch.size(), count + 1);
    Transition t;
    t.audit.push_back(import_entry());
    auto w = store->apply(batch, t);
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir.db() + "/bulk") && !std::filesystem::is_empty(dir.db() + "/bulk"))
        << "table files are moved into the store, none is left behind";
    EXPECT_EQ(table_files(dir.db()) > 0, ingested);
  }
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->count_devices(), count + 1);
  for (std::size_t i = 0; i < count; ++i) {
    auto got = store->get_device(name_of(i));
    ASSERT_TRUE(got.ok() && got->has_value()) << name_of(i);
    Device want = full_device(name_of(i));
    want.description = i == 3 ? "the later row of a name wins" : "row " + std::to_string(i);
    expect_same(**got, want);
  }
  EXPECT_EQ((*store->get_device("SEP999999999999"))->description, full_device("x").description);
  auto audit = store->list_audit();
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].action, "phones.import");
  EXPECT_EQ((*audit)[0].detail, "bulk");
}

TEST(StoreBulk, SmallImportIsOneWriteBatch) {
  write_and_read_back(100, false);
}

TEST(StoreBulk, LargeImportIsIngestedAndSurvivesReopen) {
  write_and_read_back(kIngestMinimumDevices + 500, true);
}

TEST(StoreBulk, EmptyNameIsRefusedAndNotAdded) {
  DeviceBatch batch;
  Device d;
  auto r = batch.add(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_TRUE(batch.empty());
}

TEST(StoreBulk, RefusedTransitionWritesNoDevices) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  DeviceBatch batch;
  for (std::size_t i = 0; i < kIngestMinimumDevices; ++i) ASSERT_TRUE(batch.add(full_device(name_of(i))).ok());
  Transition bad;
  bad.put_meta.emplace_back("schema_version", "1");  // reserved: the whole write is refused
  EXPECT_FALSE(store->apply(batch, bad).ok());
  EXPECT_EQ(*store->count_devices(), 0u);
}

TEST(StoreBulk, LeftoverTableFilesOfACutIngestAreRemovedOnOpen) {
  TempDir dir;
  { ASSERT_TRUE(open_ok(dir.db())); }
  std::filesystem::create_directories(dir.db() + "/bulk");
  std::ofstream(dir.db() + "/bulk/devices-1-1.sst") << "half a table file";
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  EXPECT_FALSE(std::filesystem::exists(dir.db() + "/bulk/devices-1-1.sst"));
  EXPECT_EQ(*store->count_devices(), 0u);
}

}  // namespace
}  // namespace capf::store
