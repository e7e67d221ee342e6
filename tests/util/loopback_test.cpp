// UniqueFd closes what it owns exactly once; LoopbackListener listens on 127.0.0.1 and stops
// when it goes.
#include "capf/util/loopback.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "capf/util/unique_fd.hpp"

using capf::util::LoopbackListener;
using capf::util::UniqueFd;

namespace {
bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

// 0 on success, else errno of connect().
int connect_to(const sockaddr_in& to) {
  const UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!c.valid()) return errno;
  return ::connect(c.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 ? 0 : errno;
}
}  // namespace

TEST(UniqueFd, ClosesOnScopeEndResetAndMoveButNotAfterRelease) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  { const UniqueFd f(raw); }
  EXPECT_FALSE(is_open(raw)) << "closed at scope end";

  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int first = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move): what a move leaves
  EXPECT_EQ(b.get(), first);
  EXPECT_TRUE(is_open(first)) << "a move hands it over, it does not close it";
  const int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // opened while `first` is: another number
  b.reset(second);
  EXPECT_FALSE(is_open(first)) << "reset closes the one held before";
  EXPECT_EQ(b.get(), second);

  raw = b.release();
  EXPECT_FALSE(b.valid());
  EXPECT_TRUE(is_open(raw)) << "release gives it up unclosed";
  ::close(raw);
}

TEST(LoopbackListener, AcceptsOnLoopbackUntilItGoes) {
  sockaddr_in to{};
  {
    const LoopbackListener l(4, true);
    EXPECT_GT(l.port(), 0);
    to = l.address();
    EXPECT_EQ(ntohl(to.sin_addr.s_addr), INADDR_LOOPBACK);
    EXPECT_EQ(::fcntl(l.fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC) << "no child inherits it";
    EXPECT_EQ(connect_to(to), 0);
  }
  EXPECT_EQ(connect_to(to), ECONNREFUSED) << "closed with its owner";
}
