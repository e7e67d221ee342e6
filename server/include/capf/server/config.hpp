// Service parameters of the CAPF port, with the seed's ranges and defaults.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "capf/crypto/tls.hpp"

namespace capf::server {

/// Settings of the CAPF protocol listener and its sessions.
struct ServerConfig {
  /// Addresses to listen on; "[::]:3804" is dual stack.
  std::vector<std::string> listen{"[::]:3804"};
  /// "Duration of Certificate Validity" in days (1–1825).
  int validity_days = 1825;
  crypto::TlsLegacy tls_legacy = crypto::TlsLegacy::no;
  std::chrono::seconds handshake_timeout{30};
  std::chrono::seconds step_timeout{30};
  /// "Maximum Allowable Time For Key Generation" after REQUEST_IN_PROGRESS.
  std::chrono::seconds keygen_timeout{600};
  /// A session longer than this is cut (§11.3).
  std::chrono::seconds session_limit{900};
  /// Connections beyond this are closed at once.
  std::size_t max_sessions = 20000;
  /// I/O threads (0 = one per core).
  unsigned io_threads = 0;
  /// Threads for blocking work: signing, key checks, synced writes.
  unsigned worker_threads = 4;
};

/// Parses "HOST:PORT", "[V6]:PORT" into host and port; throws std::invalid_argument with a
/// clear message otherwise.
std::pair<std::string, unsigned short> parse_host_port(const std::string& text);

}  // namespace capf::server
