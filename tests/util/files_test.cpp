#include <gtest/gtest.h>

#include <cstdlib>
#include <sys/stat.h>

#include "capf/util/files.hpp"

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
