#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sys/resource.h>
#include <sys/stat.h>

#include "capf/util/files.hpp"
#include "capf/util/open_files.hpp"
#include "fsync_probe.hpp"

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

namespace {

struct stat stat_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st;
}

}  // namespace

TEST(Files, SyncedWriteFsyncsTheDirectoryAfterTheRename) {
  char tmpl[] = "/tmp/capf-files-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/capf-ca.key";
  ASSERT_TRUE(write_file_atomic(path, "old key", 0600).ok());
  // What the key file holds when its directory is synced: the rename must have happened.
  capf::test::on_directory_fsync([&]() -> std::string {
    auto text = read_file(path);
    return text ? *text : "(none)";
  });
  capf::test::clear_fsync_calls();
  ASSERT_TRUE(write_file_atomic(path, "new key", 0600).ok());
  const auto calls = capf::test::fsync_calls();
  capf::test::on_directory_fsync(nullptr);
  const auto d = stat_of(dir);
  int dir_syncs = 0, file_syncs = 0;
  for (const auto& c : calls) {
    if (c.directory && c.device == d.st_dev && c.inode == d.st_ino) {
      ++dir_syncs;
      EXPECT_EQ(c.note, "new key") << "the directory was synced before the rename";
    } else if (!c.directory) {
      ++file_syncs;
    }
  }
  EXPECT_EQ(dir_syncs, 1);
  EXPECT_EQ(file_syncs, 1);
  // The simulator's flash (page_cache) syncs neither.
  capf::test::clear_fsync_calls();
  ASSERT_TRUE(write_file_atomic(dir + "/phone.json", "{}", 0600, Durability::page_cache).ok());
  EXPECT_TRUE(capf::test::fsync_calls().empty());
  std::filesystem::remove_all(dir);
}

TEST(Files, PrivateDirIsCreatedOrTightenedTo0700) {
  char tmpl[] = "/tmp/capf-files-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_TRUE(make_private_dir(dir + "/new/data").ok());
  EXPECT_EQ(stat_of(dir + "/new/data").st_mode & 07777, 0700u);
  ASSERT_EQ(::mkdir((dir + "/old").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir + "/old").c_str(), 0755), 0);
  ASSERT_TRUE(make_private_dir(dir + "/old").ok());
  EXPECT_EQ(stat_of(dir + "/old").st_mode & 07777, 0700u);
  ASSERT_TRUE(write_file_atomic(dir + "/file", "x", 0600).ok());
  auto file = make_private_dir(dir + "/file");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("is not a directory"), std::string::npos) << file.error().message;
  // A directory whose mode nobody may change (procfs refuses even root).
  auto proc = make_private_dir("/proc/1/fdinfo");
  ASSERT_FALSE(proc.ok());
  EXPECT_NE(proc.error().message.find("/proc/1/fdinfo has mode 0555 and cannot be made 0700"), std::string::npos)
      << proc.error().message;
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
