// Service parameters of the CAPF port, with the seed's ranges and defaults.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "capf/crypto/tls.hpp"

namespace capf::server {

/// A duration a running daemon may change (a service parameter set live): reads and writes
/// are atomic, copies take the current value, and it converts to std::chrono::seconds.
class LiveSeconds {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor)
  LiveSeconds(std::chrono::seconds s = std::chrono::seconds(0)) : s_(s.count()) {}
  LiveSeconds(const LiveSeconds& o) : s_(o.s_.load()) {}
  LiveSeconds& operator=(const LiveSeconds& o) {
    s_.store(o.s_.load());
    return *this;
  }
  LiveSeconds& operator=(std::chrono::seconds s) {
    s_.store(s.count());
    return *this;
  }
  operator std::chrono::seconds() const { return get(); }  // NOLINT(google-explicit-constructor)
  std::chrono::seconds get() const { return std::chrono::seconds(s_.load()); }

 private:
  std::atomic<std::int64_t> s_;
};

/// Settings of the CAPF protocol listener and its sessions.
struct ServerConfig {
  /// Addresses to listen on; "[::]:3804" is dual stack.
  std::vector<std::string> listen{"[::]:3804"};
  /// "Duration of Certificate Validity" in days (1–1825).
  int validity_days = 1825;
  crypto::TlsLegacy tls_legacy = crypto::TlsLegacy::no;
  std::chrono::seconds handshake_timeout{30};
  std::chrono::seconds step_timeout{30};
  /// "Maximum Allowable Time For Key Generation" after REQUEST_IN_PROGRESS (live).
  LiveSeconds keygen_timeout{std::chrono::seconds(600)};
  /// Keep-alive of the CAPF–endpoint connection (live; 0 = off): no read from a phone waits
  /// longer than this (a phone silent this long is disconnected) except while it generates a
  /// key after REQUEST_IN_PROGRESS, which keygen_timeout bounds; TCP keep-alive probes go out
  /// after this much silence in both directions, so a firewall keeps the connection.
  LiveSeconds keep_alive{std::chrono::seconds(15 * 60)};
  /// A session longer than this is cut (§11.3); live, read when a session starts.
  LiveSeconds session_limit{std::chrono::seconds(900)};
  /// Connections beyond this are closed at once.
  std::size_t max_sessions = 20000;
  /// Of those, from one client address ("Maximum CAPF Sessions Per Address", live).
  std::size_t max_sessions_per_address = 100;
  /// I/O threads (0 = half the cores, at least one).
  unsigned io_threads = 0;
  /// Threads for blocking work: signing, key checks, synced writes. Mostly they wait on an
  /// fsync; the more wait at once, the more transitions RocksDB's write group puts behind one
  /// fsync: 16 spend about a tenth less CPU per enrollment than 4 (docs/benchmarks.md, issue 17).
  unsigned worker_threads = 16;
};

}  // namespace capf::server
