// Private to bench/src: the bare CAPF server, the least a server can spend on an enrollment
// here, measured live under the same phones as the daemon (`capf bench enroll --bare`).
//
// One thread, one epoll set, OpenSSL non-blocking with the daemon's CA, certificate and TLS
// policy (crypto::configure_server_tls), capf's wire codec, and the LSC issued by the daemon's CA
// as the daemon issues it. Each loop turn's two records per session (LSC issued, LSC delivered)
// are appended to a log with one write and one fdatasync before the messages they guard leave:
// a single-threaded server's group commit. No store, no device records, no claims, no
// watchdog, no checks beyond what the exchange needs: not a server to use, only the least one.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "capf/core/vocabulary.hpp"

namespace capf::bench {

class BareServer {
 public:
  /// Listens on 127.0.0.1 (a port the kernel picks), signs with the CA in `ca_dir`, asks phones
  /// for `key`, keeps its log in `dir`, and runs its thread on `cpus` (empty: anywhere). Throws
  /// std::runtime_error naming what failed.
  BareServer(const std::string& ca_dir, const std::string& dir, const KeySpec& key, const std::vector<int>& cpus);
  /// Stops the thread (within a tenth of a second) and closes every connection.
  ~BareServer();
  BareServer(const BareServer&) = delete;
  BareServer& operator=(const BareServer&) = delete;

  unsigned short port() const { return port_; }
  /// The server thread's CPU time so far (user + system), seconds.
  double cpu_seconds() const;
  /// The server thread's context switches so far (voluntary + involuntary).
  std::uint64_t context_switches() const;
  /// Sessions that ended with END_SESSION 1 after the phone stored its LSC.
  std::uint64_t enrolled() const { return enrolled_.load(); }
  /// Sessions that ended any other way (a TLS or protocol error, a phone that refused).
  std::uint64_t failed() const { return failed_.load(); }

  struct Loop;

 private:
  std::unique_ptr<Loop> loop_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> enrolled_{0}, failed_{0};
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

}  // namespace capf::bench
