// Durable device transitions per second through Store::apply(Sync::yes) against raw synced
// RocksDB WriteBatches carrying the same keys and encoded values, from the same writer threads
// (so both get RocksDB's group commit).
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>

#include "capf/bench/bench.hpp"
#include "capf/store/store.hpp"

namespace capf::bench {

namespace {

/// The devices of transition `i`: realistic records, armed for install.
std::vector<Device> devices_of(std::size_t i, std::size_t batch) {
  std::vector<Device> out;
  for (std::size_t k = 0; k < batch; ++k) {
    Device d;
    d.name = fmt::format("SEP{:012X}", i * batch + k);
    d.description = "Bench phone " + std::to_string(i * batch + k);
    d.device_type = "Cisco 8841";
    d.device_pool = "DP-HQ";
    d.security_profile = "Cisco 8841 - Standard SIP Secure Profile";
    d.operation = CertificateOperation::install_upgrade;
    d.auth_mode = AuthMode::null_string;
    d.ipv4 = "10.20.1." + std::to_string(k % 250);
    out.push_back(std::move(d));
  }
  return out;
}

/// Runs `work(i)` for i in [0, n) on `threads` threads; returns the wall seconds.
template <typename F>
double run_threads(std::size_t n, unsigned threads, F work) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  const double start = now_seconds();
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) work(i);
    });
  for (auto& th : pool) th.join();
  return now_seconds() - start;
}

}  // namespace

StoreResult bench_store(std::size_t transitions, std::size_t batch, unsigned threads) {
  StoreResult r;
  r.transitions = transitions;
  r.batch = batch = std::max<std::size_t>(1, batch);
  r.threads = threads = std::max(1u, threads);
  TempDir dir;

  // Prepared before timing on both sides: the transitions and their encoded values.
  std::vector<store::Transition> ts(transitions);
  std::vector<std::vector<std::pair<std::string, std::string>>> raw(transitions);
  for (std::size_t i = 0; i < transitions; ++i) {
    ts[i].put_devices = devices_of(i, batch);
    for (const auto& d : ts[i].put_devices) raw[i].emplace_back(d.name, store::encode_device(d));
  }
  for (const auto& [k, v] : raw.empty() ? decltype(raw)::value_type{} : raw[0])
    r.bytes_per_batch += k.size() + v.size();

  {
    store::OpenOptions o;
    o.statistics = true;  // RocksDB's tickers: how many WAL syncs the synced writes shared
    auto store = store::Store::open(dir.path() + "/store", o);
    if (!store) throw std::runtime_error("store: " + store.error().message);
    const auto before = (*store)->write_stats().value();
    std::atomic<bool> failed{false};
    const double s = run_threads(transitions, threads, [&](std::size_t i) {
      if (!(*store)->apply(ts[i], store::Sync::yes)) failed = true;
    });
    if (failed) throw std::runtime_error("store: a transition failed");
    r.capf_per_second = s > 0 ? transitions / s : 0;
    const auto after = (*store)->write_stats().value();
    r.synced_writes = after.writes - before.writes;
    r.wal_syncs = after.wal_syncs - before.wal_syncs;
    r.write_groups = after.write_groups - before.write_groups;
  }
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw_db = nullptr;
    auto st = rocksdb::DB::Open(o, dir.path() + "/raw", &raw_db);
    if (!st.ok()) throw std::runtime_error("rocksdb: " + st.ToString());
    std::unique_ptr<rocksdb::DB> db(raw_db);
    std::atomic<bool> failed{false};
    const double s = run_threads(transitions, threads, [&](std::size_t i) {
      rocksdb::WriteBatch b;
      for (const auto& [k, v] : raw[i]) b.Put(k, v);
      rocksdb::WriteOptions w;
      w.sync = true;
      if (!db->Write(w, &b).ok()) failed = true;
    });
    if (failed) throw std::runtime_error("rocksdb: a write failed");
    r.raw_per_second = s > 0 ? transitions / s : 0;
    db->Close();
  }
  r.ratio = r.raw_per_second > 0 ? r.capf_per_second / r.raw_per_second : 0;
  return r;
}

}  // namespace capf::bench
