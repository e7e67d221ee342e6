#include "capf/store/store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store_test_util.hpp"

namespace capf::store {
namespace {

using testing::expect_same;
using testing::full_audit;
using testing::full_certificate;
using testing::full_device;
using testing::open_ok;
using testing::TempDir;

Device named(const std::string& name) {
  Device d;
  d.name = name;
  return d;
}

TEST(Store, FirstOpenRecordsTheSchemaVersion) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->path(), dir.db());
  auto v = store->get_meta("schema_version");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::optional<std::string>(std::to_string(kSchemaVersion)));
  EXPECT_EQ(*store->count_devices(), 0u);
}

TEST(Store, ApplyThenGet) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  const Device d = full_device("SEP001122334455");
  Transition t;
  t.put_devices.push_back(d);
  t.put_meta.emplace_back("session_counter", "7");
  ASSERT_TRUE(store->apply(t).ok());

  auto got = store->get_device("SEP001122334455");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  expect_same(**got, d);
  EXPECT_FALSE(store->get_device("SEP0000000000FF")->has_value());
  EXPECT_FALSE(store->get_certificate("00")->has_value());
  EXPECT_EQ(*store->get_meta("session_counter"), std::optional<std::string>("7"));
  EXPECT_FALSE(store->get_meta("nothing")->has_value());
}

TEST(Store, FindDevicesReturnsTheStoredOnesWithTheirIndex) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  Transition t;
  // More names than one MultiGet chunk, so the indexes must carry across chunks.
  for (int i = 0; i < 2500; i += 7) t.put_devices.push_back(full_device("SEP" + std::to_string(100000 + i)));
  ASSERT_TRUE(store->apply(t).ok());
  std::vector<std::string> names;
  names.reserve(2501);
  for (int i = 0; i < 2500; ++i) names.push_back("SEP" + std::to_string(100000 + i));
  names.push_back("SEP100007");  // asked twice, found twice
  const std::vector<std::string_view> views(names.begin(), names.end());
  auto found = store->find_devices(views);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), t.put_devices.size() + 1);
  for (std::size_t k = 0; k + 1 < found->size(); ++k) {
    EXPECT_EQ((*found)[k].first, 7 * k);
    EXPECT_EQ((*found)[k].second.name, names[7 * k]);
    expect_same((*found)[k].second, t.put_devices[k]);
  }
  EXPECT_EQ(found->back().first, names.size() - 1);
  EXPECT_EQ(found->back().second.name, "SEP100007");
  EXPECT_TRUE(store->find_devices({})->empty());
}

TEST(Store, UnsyncedWritesAreVisibleToo) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  Transition t;
  t.put_devices.push_back(named("SEP0000000000AA"));
  ASSERT_TRUE(store->apply(t, Sync::no).ok());
  EXPECT_TRUE(store->get_device("SEP0000000000AA")->has_value());
}

TEST(Store, TransitionIsAtomicAndSurvivesReopen) {
  TempDir dir;
  const Device a = full_device("SEP00000000000A");
  const Device b = full_device("SEP00000000000B");
  const CertificateRecord c1 = full_certificate("01", a.name);
  const CertificateRecord c2 = full_certificate("02", a.name);
  const CertificateRecord c3 = full_certificate("03", b.name);
  const std::vector<AuditEntry> audit{full_audit(300, "third"), full_audit(100, "first"), full_audit(200, "second"),
                                      full_audit(200, "second-b")};
  {
    auto store = open_ok(dir.db());
    ASSERT_TRUE(store);
    Transition t;
    t.put_devices = {a, b};
    t.put_certificates = {c2, c3, c1};
    t.audit = audit;
    t.put_meta = {{"session_counter", "12"}};
    ASSERT_TRUE(store->apply(t).ok());
    EXPECT_EQ(*store->count_devices(), 2u);
  }
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->count_devices(), 2u);
  expect_same(**store->get_device(a.name), a);
  expect_same(**store->get_device(b.name), b);
  expect_same(**store->get_certificate("03"), c3);
  EXPECT_EQ(*store->get_meta("session_counter"), std::optional<std::string>("12"));

  auto of_a = store->certificates_of(a.name);
  ASSERT_TRUE(of_a.ok()) << of_a.error().message;
  ASSERT_EQ(of_a->size(), 2u);
  expect_same((*of_a)[0], c1);
  expect_same((*of_a)[1], c2);
  EXPECT_EQ(store->certificates_of(b.name)->size(), 1u);
  EXPECT_TRUE(store->certificates_of("SEP00000000000").value().empty());  // a prefix of a name

  auto trail = store->list_audit();
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 4u);
  EXPECT_EQ((*trail)[0].action, "first");
  EXPECT_EQ((*trail)[1].action, "second");  // same time: order within the transition
  EXPECT_EQ((*trail)[2].action, "second-b");
  expect_same((*trail)[3], audit[0]);
}

TEST(Store, ConcurrentReadersNeverSeeHalfATransition) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  constexpr int kCount = 300;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      for (int i = 0; i < kCount; ++i) {
        const std::string name = "DEV" + std::to_string(i);
        auto d = store->get_device(name);
        // The device is written before its certificate in the batch, so a non-atomic write
        // would show the device without the certificate.
        if (d.ok() && d->has_value() && !store->get_certificate("s" + std::to_string(i))->has_value()) ++torn;
      }
    }
  });
  for (int i = 0; i < kCount; ++i) {
    Transition t;
    t.put_devices.push_back(named("DEV" + std::to_string(i)));
    t.put_certificates.push_back(full_certificate("s" + std::to_string(i), "DEV" + std::to_string(i)));
    ASSERT_TRUE(store->apply(t, Sync::no).ok());
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

TEST(Store, RefusedTransitionWritesNothing) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  Transition t;
  t.put_devices.push_back(named("SEP0000000000AA"));
  t.put_certificates.push_back(full_certificate("", "SEP0000000000AA"));
  t.audit.push_back(full_audit(1, "x"));
  auto r = store->apply(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(*store->count_devices(), 0u);
  EXPECT_TRUE(store->list_audit()->empty());

  for (const char* reserved : {"schema_version", "audit_sequence_reserved"}) {
    Transition m;
    m.put_meta.emplace_back(reserved, "9");
    EXPECT_EQ(store->apply(m).error().code, Errc::invalid_argument);
  }
  Transition nul;
  nul.put_certificates.push_back(full_certificate("05", std::string("A\0B", 3)));
  EXPECT_FALSE(store->apply(nul).ok());
  EXPECT_EQ(*store->get_meta("schema_version"), std::optional<std::string>(std::to_string(kSchemaVersion)));
}

TEST(Store, DeletingADeviceKeepsItsCertificates) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  Transition t;
  t.put_devices.push_back(named("SEP0000000000AA"));
  t.put_certificates.push_back(full_certificate("0a", "SEP0000000000AA"));
  ASSERT_TRUE(store->apply(t).ok());
  Transition del;
  del.delete_devices.push_back("SEP0000000000AA");
  ASSERT_TRUE(store->apply(del).ok());
  EXPECT_FALSE(store->get_device("SEP0000000000AA")->has_value());
  EXPECT_TRUE(store->get_certificate("0a")->has_value());
  EXPECT_EQ(store->certificates_of("SEP0000000000AA")->size(), 1u);
}

TEST(Store, CertificateMovedToAnotherDeviceLeavesTheOldIndex) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  Transition t;
  t.put_certificates.push_back(full_certificate("0b", "OLD"));
  ASSERT_TRUE(store->apply(t).ok());
  t.put_certificates[0].device = "NEW";
  ASSERT_TRUE(store->apply(t).ok());
  EXPECT_TRUE(store->certificates_of("OLD")->empty());
  ASSERT_EQ(store->certificates_of("NEW")->size(), 1u);
}

// Issuing reads only the device's undelivered LSCs: the index entry carries each record's
// state, follows every state change, and a record moved away is not answered for its old device.
TEST(Store, CertificatesOfAStateFollowEveryStateChangeAcrossReopen) {
  TempDir dir;
  auto with = [](const std::string& serial, const std::string& device, CertificateState state) {
    CertificateRecord c = full_certificate(serial, device);
    c.state = state;
    return c;
  };
  auto serials = [](const Result<std::vector<CertificateRecord>>& r) {
    std::vector<std::string> out;
    for (const auto& c : r.value()) out.push_back(c.serial);
    return out;
  };
  using V = std::vector<std::string>;
  {
    auto store = open_ok(dir.db());
    ASSERT_TRUE(store);
    Transition t;
    t.put_certificates = {with("01", "A", CertificateState::replaced), with("02", "A", CertificateState::delivered),
                          with("03", "A", CertificateState::issued), with("04", "A", CertificateState::issued),
                          with("05", "B", CertificateState::issued)};
    ASSERT_TRUE(store->apply(t).ok());
    EXPECT_EQ(serials(store->certificates_of("A", CertificateState::issued)), (V{"03", "04"}));
    EXPECT_EQ(serials(store->certificates_of("A", CertificateState::delivered)), (V{"02"}));

    Transition next;  // 03 is delivered, 02 replaced, 04 goes stale, 05 moves to A
    next.put_certificates = {with("02", "A", CertificateState::replaced), with("03", "A", CertificateState::delivered),
                             with("04", "A", CertificateState::stale), with("05", "A", CertificateState::issued)};
    ASSERT_TRUE(store->apply(next).ok());
  }
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  EXPECT_EQ(serials(store->certificates_of("A", CertificateState::issued)), (V{"05"}));
  EXPECT_EQ(serials(store->certificates_of("A", CertificateState::delivered)), (V{"03"}));
  EXPECT_EQ(serials(store->certificates_of("A", CertificateState::replaced)), (V{"01", "02"}));
  EXPECT_EQ(serials(store->certificates_of("A", CertificateState::stale)), (V{"04"}));
  EXPECT_TRUE(store->certificates_of("B", CertificateState::issued)->empty());
  EXPECT_EQ(store->certificates_of("A")->size(), 5u);
}

// An LSC's DER is written once, when it is issued: a change of state carries none and keeps it;
// every read gives it back but the by-state one (what a change of state starts from); a
// delete takes it with the record; a DER that is not hex is refused and nothing is written.
TEST(Store, CertificateDerIsWrittenOnceAndKeptThroughEveryChangeOfState) {
  TempDir dir;
  CertificateRecord issued = full_certificate("0c", "A");
  issued.state = CertificateState::issued;
  {
    auto store = open_ok(dir.db());
    ASSERT_TRUE(store);
    Transition t;
    t.put_certificates.push_back(issued);
    t.put_certificates.push_back(full_certificate("0d", "A"));
    t.put_certificates.back().der_hex.clear();  // a record with no certificate at all
    ASSERT_TRUE(store->apply(t).ok());
    Transition delivered;
    delivered.put_certificates = store->certificates_of("A", CertificateState::issued).value();
    ASSERT_EQ(delivered.put_certificates.size(), 1u);
    EXPECT_TRUE(delivered.put_certificates[0].der_hex.empty());
    delivered.put_certificates[0].state = CertificateState::delivered;
    ASSERT_TRUE(store->apply(delivered).ok());

    Transition bad;
    bad.put_certificates.push_back(full_certificate("0e", "A"));
    bad.put_certificates[0].der_hex = "30zz";
    auto refused = store->apply(bad);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "certificate 0e: the certificate's DER is not hex");
    EXPECT_FALSE(store->get_certificate("0e")->has_value());
  }
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  CertificateRecord want = issued;
  want.state = CertificateState::delivered;
  expect_same(**store->get_certificate("0c"), want);
  auto all = store->certificates_of("A").value();
  ASSERT_EQ(all.size(), 2u);
  expect_same(all[0], want);
  EXPECT_TRUE(all[1].der_hex.empty());
  std::vector<CertificateRecord> scanned;
  ASSERT_TRUE(store->for_each_certificate([&](const CertificateRecord& c) {
    scanned.push_back(c);
    return true;
  }));
  ASSERT_EQ(scanned.size(), 2u);
  expect_same(scanned[0], want);
  EXPECT_TRUE(scanned[1].der_hex.empty());
  EXPECT_TRUE(store->certificates_of("A", CertificateState::delivered).value().at(0).der_hex.empty());

  Transition gone;
  gone.delete_certificates.push_back("0c");
  ASSERT_TRUE(store->apply(gone).ok());
  Transition again;  // the same serial without a DER: the deleted one's is gone with it
  again.put_certificates.push_back(want);
  again.put_certificates[0].der_hex.clear();
  ASSERT_TRUE(store->apply(again).ok());
  EXPECT_TRUE((*store->get_certificate("0c"))->der_hex.empty());
}

TEST(Store, AuditSequenceKeepsIncreasingAcrossReopen) {
  TempDir dir;
  {
    auto store = open_ok(dir.db());
    ASSERT_TRUE(store);
    Transition t;
    t.audit = {full_audit(200, "late"), full_audit(100, "before-restart")};
    ASSERT_TRUE(store->apply(t).ok());
  }
  for (int round = 0; round < 3; ++round) {
    auto store = open_ok(dir.db());
    ASSERT_TRUE(store);
    Transition t;
    // Same time as an entry written before the restart: it must sort after it, and must not
    // overwrite it, even though the newest key (time 200) holds a lower sequence.
    t.audit = {full_audit(100, "after-restart-" + std::to_string(round))};
    ASSERT_TRUE(store->apply(t).ok());
  }
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  auto trail = store->list_audit();
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 5u);
  EXPECT_EQ((*trail)[0].action, "before-restart");
  EXPECT_EQ((*trail)[1].action, "after-restart-0");
  EXPECT_EQ((*trail)[2].action, "after-restart-1");
  EXPECT_EQ((*trail)[3].action, "after-restart-2");
  EXPECT_EQ((*trail)[4].action, "late");
}

TEST(Store, ListAuditLimitKeepsTheNewest) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  for (int i = 0; i < 10; ++i) {
    Transition t;
    t.audit.push_back(full_audit(1000 + i, "a" + std::to_string(i)));
    ASSERT_TRUE(store->apply(t).ok());
  }
  auto last3 = store->list_audit(3);
  ASSERT_TRUE(last3.ok());
  ASSERT_EQ(last3->size(), 3u);
  EXPECT_EQ((*last3)[0].action, "a7");
  EXPECT_EQ((*last3)[2].action, "a9");
  EXPECT_EQ(store->list_audit(50)->size(), 10u);
  EXPECT_EQ(store->list_audit(0)->size(), 10u);
}

TEST(Store, ForEachStopsWhenAsked) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  Transition t;
  for (const char* n : {"C", "A", "B", "D"}) {
    t.put_devices.push_back(named(n));
    t.put_certificates.push_back(full_certificate(std::string("s") + n, n));
  }
  ASSERT_TRUE(store->apply(t).ok());

  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->for_each_device([&](const Device& d) {
                    seen.push_back(d.name);
                    return seen.size() < 2;
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"A", "B"}));

  std::vector<std::string> all;
  ASSERT_TRUE(store->for_each_device([&](const Device& d) { return all.push_back(d.name), true; }).ok());
  EXPECT_EQ(all, (std::vector<std::string>{"A", "B", "C", "D"}));

  int certs = 0;
  ASSERT_TRUE(store->for_each_certificate([&](const CertificateRecord&) { return ++certs < 3; }).ok());
  EXPECT_EQ(certs, 3);
}

TEST(Store, ConcurrentAppliesAllLand) {
  TempDir dir;
  auto store = open_ok(dir.db());
  ASSERT_TRUE(store);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int th = 0; th < kThreads; ++th)
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        Transition t;
        const std::string name = "T" + std::to_string(th) + "-" + std::to_string(i);
        t.put_devices.push_back(named(name));
        t.audit.push_back(full_audit(42, name));  // same time: only the sequence separates them
        if (!store->apply(t).ok()) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->count_devices(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(store->list_audit()->size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace capf::store
