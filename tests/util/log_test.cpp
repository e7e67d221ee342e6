// The daemon's log lines: whatever a message holds, one record is one line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "capf/util/log.hpp"

using namespace capf::util;

namespace {

TEST(Log, ControlCharactersInAMessageCannotForgeALine) {
  char pattern[] = "/tmp/capf-log-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string file = dir + "/capf.log";
  ASSERT_TRUE(configure_log(LogOptions{"off", file, 1024 * 1024, 2}));
  const std::string device = "SEP001122334455\n2026-01-01T00:00:00.000 info [capf] forged: admin logged in\r\x1b[1A";
  logger("capf")->warn("session=7 device={} ended: refused", device);
  logger("capf")->flush();
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("device=SEP001122334455\\n2026-01-01T00:00:00.000 info [capf] forged: admin logged in\\r\\x1b[1A "
                          "ended: refused"),
            std::string::npos)
      << lines[0];
  ASSERT_TRUE(configure_log(LogOptions{}));
  std::remove(file.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
