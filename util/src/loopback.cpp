#include "capf/util/loopback.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace capf::util {

namespace {
[[noreturn]] void fail(const char* call) {
  throw std::runtime_error(std::string("listening on 127.0.0.1: ") + call + ": " + std::strerror(errno));
}
}  // namespace

LoopbackListener::LoopbackListener(int backlog, bool no_delay) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (!fd_.valid()) fail("socket");
  const int one = 1;
  if (no_delay && ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) fail("TCP_NODELAY");
  address_.sin_family = AF_INET;
  address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address_;
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0) fail("bind");
  if (::listen(fd_.get(), backlog) != 0) fail("listen");
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address_), &len) != 0) fail("getsockname");
}

int LoopbackListener::port() const {
  return ntohs(address_.sin_port);
}

}  // namespace capf::util
