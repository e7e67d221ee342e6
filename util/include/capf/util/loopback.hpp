// A TCP listener on 127.0.0.1 for the servers benchmarks and tests run themselves (the reference
// TLS server, an Apply Config endpoint, a scripted CA).
#pragma once

#include <netinet/in.h>

#include "capf/util/unique_fd.hpp"

namespace capf::util {

/// Listening on 127.0.0.1 at a port the kernel chose, close-on-exec. Throws std::runtime_error
/// naming the call that failed and why.
class LoopbackListener {
 public:
  /// `no_delay`: TCP_NODELAY, which every accepted connection inherits (as the daemon's do).
  explicit LoopbackListener(int backlog, bool no_delay = false);

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] int port() const;
  /// The address to connect() to.
  [[nodiscard]] const sockaddr_in& address() const { return address_; }

 private:
  UniqueFd fd_;
  sockaddr_in address_{};
};

}  // namespace capf::util
