#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
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

TEST(Files, PageCacheWriteReplacesTheFileWholeAndLeavesNoTemporary) {
  char tmpl[] = "/tmp/capf-files-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/phone.json";
  ASSERT_TRUE(write_file_atomic(path, "first", 0644, Durability::page_cache).ok());
  ASSERT_TRUE(write_file_atomic(path, "second, longer", 0600, Durability::page_cache).ok());
  EXPECT_EQ(*read_file(path), "second, longer");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(write_file_atomic(dir + "/no/such/dir/x", "x", 0600, Durability::page_cache).ok());
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(entries, 1u);
  std::filesystem::remove_all(dir);
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
