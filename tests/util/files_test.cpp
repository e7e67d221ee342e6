#include <gtest/gtest.h>

#include <cstdlib>
#include <sys/resource.h>
#include <sys/stat.h>

#include "capf/util/files.hpp"
#include "capf/util/open_files.hpp"

using namespace capf::util;

TEST(Files, AtomicWriteSetsExactMode) {
  char tmpl[] = "/tmp/capf-files-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/key.pem";
  ASSERT_TRUE(write_file_atomic(path, "secret", 0600).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*read_file(path), "secret");
  EXPECT_FALSE(read_file(std::string(tmpl) + "/missing").ok());
}

namespace capf::util {
namespace {

TEST(OpenFiles, SoftLimitIsRaisedToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  if (before.rlim_max > 1024) {  // lower the soft limit first, so that raising it is seen
    rlimit lowered = before;
    lowered.rlim_cur = 1024;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  }
  const std::uint64_t limit = raise_open_file_limit();
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(limit, static_cast<std::uint64_t>(after.rlim_cur));
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
}

}  // namespace
}  // namespace capf::util
