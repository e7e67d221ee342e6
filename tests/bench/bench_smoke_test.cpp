// Smoke test of `capf bench`: every benchmark runs with tiny sizes and returns positive
// figures. No timing assertions; the idle, restart, enroll and night benches start the capf
// binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "capf/bench/bench.hpp"
#include "capf/bench/cores.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf_binary.hpp"

using namespace capf::bench;

TEST(BenchSmoke, CryptoMeasuresEveryOperation) {
  auto r = bench_crypto(0.01);
  ASSERT_EQ(r.ops.size(), 5u);
  for (const auto& o : r.ops) {
    EXPECT_GT(o.single, 0) << o.name;
    EXPECT_GT(o.all_cores, 0) << o.name;
    EXPECT_GT(o.per_cpu_second, 0) << o.name;
    EXPECT_GT(o.per_cpu_second_busy, 0) << o.name;
  }
  EXPECT_NE(r.find("P-256 sign"), nullptr);
  EXPECT_NE(r.find("X25519 exchange"), nullptr);
}

TEST(BenchSmoke, CsvImportsEveryGeneratedRow) {
  auto r = bench_csv(200);
  EXPECT_EQ(r.capf_runs.size(), 3u) << "three runs of the import route, each in a child";
  EXPECT_EQ(r.rows, 200u);
  EXPECT_EQ(r.imported, 200u) << r.first_issue;
  EXPECT_EQ(r.rejected, 0u) << r.first_issue;
  EXPECT_GT(r.capf_rows_per_second, 0);
  // sqlite3 is optional on CI machines; when it ran, its figure and the ratio are positive.
  if (r.sqlite_seconds > 0) {
    EXPECT_GT(r.ratio, 0);
  }
}

TEST(BenchSmoke, StoreWritesBothWays) {
  auto r = bench_store(20, 3, 2);
  EXPECT_GT(r.capf_per_second, 0);
  EXPECT_GT(r.raw_per_second, 0);
  EXPECT_GT(r.ratio, 0);
  EXPECT_GT(r.bytes_per_batch, 0u);
}

TEST(BenchSmoke, RateMeasuresEverySettingAndTheWindows) {
  auto r = bench_rate(20, 50);
  ASSERT_FALSE(r.lines.empty());
  for (const auto& l : r.lines) {
    EXPECT_EQ(l.dispatches, 20u) << l.what;
    EXPECT_GT(l.measured_per_minute, 0) << l.what;
  }
  EXPECT_GT(r.window_dispatches, 0u);
  EXPECT_EQ(r.outside_window, 0u);
}

TEST(BenchSmoke, IdleSessionsAreAllHeldOpen) {
  auto r = bench_idle(40, 0.5, CAPF_BINARY);
  EXPECT_EQ(r.established, 40u) << r.first_error;
  EXPECT_EQ(r.failed, 0u) << r.first_error;
  EXPECT_EQ(r.closed_early, 0u) << r.first_error;
  EXPECT_EQ(r.daemon_sessions_open, 40);
  EXPECT_GT(r.rss_kib, 0);
}

TEST(BenchSmoke, OfflineImportMatchesEveryCertificateAndOpensslVerifiesThem) {
  auto r = bench_offline_import(30);
  EXPECT_EQ(r.imported, 30u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.openssl_verified, 30u);
  EXPECT_GT(r.ratio, 0);
}

TEST(BenchSmoke, RestartDispatchesAgainWithoutTriggeringADeviceTwice) {
  auto r = bench_restart(600, 1, CAPF_BINARY);
  ASSERT_EQ(r.dispatch_seconds.size(), 1u);
  // Both times are when the bench's poller noticed (daemon.json, the first trigger): under load
  // either can be noticed late, so their order says nothing about the daemon.
  EXPECT_GT(r.dispatch_seconds[0], 0);
  EXPECT_EQ(r.distinct, r.dispatches) << "a device was triggered twice across the kill";
}

TEST(BenchSmoke, EnrollMeasuresTheDaemonAgainstTheFloor) {
  EnrollOptions o;
  o.phones = 8;
  o.concurrency = 4;
  o.capf_binary = CAPF_BINARY;
  o.crypto_seconds = 0.01;
  auto r = bench_enroll(o);
  EXPECT_EQ(r.enrolled, 8u) << r.note;
  EXPECT_EQ(r.prepared_keys, 8u);
  EXPECT_EQ(r.cores, split_cores().describe()) << "split by default";
  EXPECT_GT(r.daemon_cpu_ms, 0);
  // A session waits on its phone at least once: every enrollment switches the daemon's threads.
  EXPECT_GE(r.daemon_switches, 1.0);
  EXPECT_GT(r.floor_ms, 0);
  // One floor sample after each round; the floor is the middle one.
  EXPECT_EQ(r.floor_samples, 1u);
  EXPECT_DOUBLE_EQ(r.floor_low_ms, r.floor_ms);
  EXPECT_DOUBLE_EQ(r.floor_high_ms, r.floor_ms);
  EXPECT_GT(r.ratio, 0);
  EXPECT_GT(r.p99_ms, 0);
  // OpenSSL's own work is measured beside it and is what the daemon's CPU is split by.
  EXPECT_GT(r.openssl_tls_ms, 0);
  EXPECT_GT(r.openssl_lsc_ms, 0);
  EXPECT_DOUBLE_EQ(r.openssl_ms, r.openssl_tls_ms + r.openssl_lsc_ms);
  // The least work any server does adds the kernel's sockets and fsync to OpenSSL's.
  EXPECT_DOUBLE_EQ(r.least_ms, r.openssl_ms + r.kernel_socket_ms + r.kernel_fsync_ms);
  EXPECT_DOUBLE_EQ(r.best_ratio, r.floor_ms / r.least_ms);
  EXPECT_GT(r.floor_busy_ms, 0);
  EXPECT_DOUBLE_EQ(r.ratio_busy, r.floor_busy_ms / r.daemon_cpu_ms);
  EXPECT_GT(r.least_busy_ms, 0);
  EXPECT_DOUBLE_EQ(r.capf_own_ms, r.daemon_cpu_ms - r.least_busy_ms);
  EXPECT_GT(r.rest_ratio, 0);
  EXPECT_FALSE(r.against) << "no other daemon without --against";
}

// `--against`: a second daemon (here of the same binary) takes turns with the first, each with
// its own store and phones; both enroll the whole fleet every round, from one pool of keys.
TEST(BenchSmoke, EnrollAgainstAnotherBinaryTakesTurnsRoundByRound) {
  EnrollOptions o;
  o.phones = 8;
  o.concurrency = 4;
  o.rounds = 2;
  o.capf_binary = CAPF_BINARY;
  o.against = CAPF_BINARY;
  o.crypto_seconds = 0.01;
  auto r = bench_enroll(o);
  EXPECT_EQ(r.enrolled, 16u) << r.note;
  ASSERT_TRUE(r.against);
  EXPECT_EQ(r.against->binary, CAPF_BINARY);
  EXPECT_EQ(r.against->enrolled, 16u);
  EXPECT_EQ(r.prepared_keys, 32u) << "keys for both daemons' rounds";
  EXPECT_EQ(r.floor_samples, 2u) << "one floor sample after each round";
  EXPECT_LE(r.floor_low_ms, r.floor_ms);
  EXPECT_LE(r.floor_ms, r.floor_high_ms);
  EXPECT_GT(r.against->daemon_cpu_ms, 0);
  EXPECT_GT(r.against->per_second, 0);
  // A round whose CPU the clock's ticks did not catch has no ratio; every ratio is B's over A's.
  EXPECT_LE(r.against->round_ratios.size(), 2u);
  for (double q : r.against->round_ratios) EXPECT_GT(q, 0);
  EXPECT_LE(r.against->q1, r.against->median);
  EXPECT_LE(r.against->median, r.against->q3);
  EXPECT_LE(r.against->higher, r.against->round_ratios.size());
}

TEST(BenchSmoke, EnrollWithTheBareServerTakingTurnsGivesEveryPhoneAVerifiedLsc) {
  EnrollOptions o;
  o.key = "rsa2048";
  o.phones = 8;
  o.concurrency = 4;
  o.rounds = 2;
  o.capf_binary = CAPF_BINARY;
  o.bare = true;
  o.crypto_seconds = 0.01;
  auto r = bench_enroll(o);
  EXPECT_EQ(r.enrolled, 16u) << r.note;
  EXPECT_FALSE(r.against);
  ASSERT_TRUE(r.bare);
  // The simulator counts a phone only once the LSC it stored verifies against the daemon's CA:
  // the bare server asked for the run's key kind and signed with that CA.
  EXPECT_EQ(r.bare->binary, "the bare server");
  EXPECT_EQ(r.bare->enrolled, 16u);
  EXPECT_EQ(r.prepared_keys, 32u) << "keys for the daemon's and the bare server's rounds";
  EXPECT_GT(r.bare->daemon_cpu_ms, 0);
  EXPECT_GT(r.bare->switches, 0);
  EXPECT_DOUBLE_EQ(r.capf_beyond_bare_ms, r.daemon_cpu_ms - r.bare->daemon_cpu_ms);
  EXPECT_DOUBLE_EQ(r.bare_ratio, r.floor_ms / r.bare->daemon_cpu_ms);
  // Sixteen enrollments are a few of the daemon's 10 ms clock ticks: only the formula is sure.
  const double rest = r.floor_ms + r.capf_beyond_bare_ms;
  EXPECT_DOUBLE_EQ(r.bare_rest_ratio, rest > 0 ? r.floor_ms / rest : 0);
  EXPECT_LE(r.bare->round_ratios.size(), 2u);
}

TEST(BenchSmoke, OpensslShareRunsWholeSessionsAndRefusesAKeyItCannotCertify) {
  const std::string dir = ::testing::TempDir() + "capf-openssl-share-" + std::to_string(::getpid());
  auto phone = capf::crypto::PrivateKey::generate(capf::KeySpec{capf::KeyAlgorithm::ec, 2048, capf::EcCurve::p256});
  ASSERT_TRUE(phone.ok());
  const auto share = measure_openssl_share(dir, phone->public_key_der(), 20, dir);
  EXPECT_EQ(share.sessions, 20u);
  EXPECT_GT(share.tls_ms, 0);
  EXPECT_GT(share.lsc_ms, 0);
  // Over loopback TCP the same sessions cost the server its accept, reads, writes and close more.
  EXPECT_GT(share.socket_ms, 0);
  EXPECT_GT(share.fsync_ms, 0);
  EXPECT_FALSE(std::filesystem::exists(dir + "/reference-wal.log")) << "the reference WAL is removed";

  const std::vector<std::uint8_t> not_a_key{0x30, 0x03, 0x02, 0x01, 0x00};
  try {
    (void)measure_openssl_share(dir, not_a_key, 1, dir);
    ADD_FAILURE() << "a key that cannot be certified was measured";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("issuing the reference LSC"), std::string::npos) << e.what();
  }
}

TEST(BenchSmoke, NightCompletesAJobOverTriggeredPhones) {
  NightOptions o;
  o.phones = 30;
  o.rate_per_minute = 6000;
  o.canary = 5;
  o.capf_binary = CAPF_BINARY;
  auto r = bench_night(o);
  EXPECT_EQ(r.job_state, "completed");
  EXPECT_EQ(r.succeeded, 30u);
  EXPECT_GT(r.peak_rss_mib, 0);
  EXPECT_GT(r.daemon_cpu_seconds, 0);
}

TEST(BenchSmoke, PagingPlantsTheFleetAndPagesEveryQuery) {
  auto r = bench_paging(1200, 2);
  EXPECT_EQ(r.fleet.devices, 1200u);
  EXPECT_FALSE(r.fleet.ca_subject.empty());
  ASSERT_EQ(r.lines.size(), 4u);
  EXPECT_EQ(r.lines[0].matched, 1200u) << "every device";
  EXPECT_EQ(r.lines[1].matched, 60u) << "one pool of 20";
  EXPECT_GT(r.lines[2].matched, 0u);
  for (const auto& l : r.lines) {
    EXPECT_GT(l.first.wall_ms, 0) << l.what;
    EXPECT_GT(l.next.wall_ms, 0) << l.what << ": a second page from the cursor";
  }
  EXPECT_GT(r.scan.wall_ms, 0);
  EXPECT_GT(r.unpaged.wall_ms, 0);
}
