// Group commit: concurrent synced transitions share WAL syncs (RocksDB's write grouping: one
// leader writes the waiting writers' batches and syncs once for all), and every one of them
// is durable. The counters are RocksDB's own (Store::write_stats), read on a real directory.
#include <atomic>
#include <cstdio>
#include <latch>
#include <thread>

#include "store_test_util.hpp"

using namespace capf;
using namespace capf::store;
using namespace capf::store::testing;

namespace {

std::string phone(int thread, int i) {
  char name[32];
  std::snprintf(name, sizeof name, "SEP%02X%010X", thread, i);
  return name;
}

}  // namespace

TEST(StoreGroupCommit, ConcurrentSyncedWritesShareWalSyncs) {
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  TempDir dir;
  {
    OpenOptions o;
    o.statistics = true;
    auto opened = Store::open(dir.db(), o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto& store = **opened;
    const auto before = store.write_stats().value();
    std::latch start(kThreads);
    std::atomic<int> failed{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kThreads; ++w)
      writers.emplace_back([&, w] {
        start.arrive_and_wait();  // all at once, so that they meet in RocksDB's write queue
        for (int i = 0; i < kEach; ++i) {
          Transition t;
          t.put_devices.push_back(full_device(phone(w, i)));
          t.put_meta.emplace_back("writer:" + std::to_string(w), std::to_string(i));
          if (!store.apply(t, Sync::yes)) ++failed;
        }
      });
    for (auto& t : writers) t.join();
    ASSERT_EQ(failed.load(), 0);
    const auto after = store.write_stats().value();
    const auto writes = after.writes - before.writes;
    const auto syncs = after.wal_syncs - before.wal_syncs;
    const auto groups = after.write_groups - before.write_groups;
    EXPECT_EQ(writes, std::uint64_t{kThreads * kEach});
    EXPECT_GE(syncs, 1u);
    EXPECT_LE(syncs, groups) << "one WAL sync per write group at most";
    EXPECT_LT(syncs, writes) << "concurrent synced writes must share WAL syncs";
    std::printf("%llu synced writes from %d threads: %llu WAL syncs in %llu write groups (%.1f writes a sync)\n",
                static_cast<unsigned long long>(writes), kThreads, static_cast<unsigned long long>(syncs),
                static_cast<unsigned long long>(groups), syncs ? static_cast<double>(writes) / syncs : 0.0);
  }
  // Durable: every write is there after the store was closed and opened again.
  auto again = open_ok(dir.db());
  ASSERT_TRUE(again);
  for (int w = 0; w < kThreads; ++w) {
    for (int i = 0; i < kEach; ++i) {
      const auto d = again->get_device(phone(w, i));
      ASSERT_TRUE(d.ok() && d->has_value()) << phone(w, i);
      expect_same(**d, full_device(phone(w, i)));
    }
    EXPECT_EQ(again->get_meta("writer:" + std::to_string(w)).value(), std::to_string(kEach - 1));
  }
}

TEST(StoreGroupCommit, StatisticsAreOnlyKeptWhenAskedFor) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  const auto stats = store->write_stats();
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code, Errc::invalid_argument);
  EXPECT_NE(stats.error().message.find("without statistics"), std::string::npos) << stats.error().message;
}
