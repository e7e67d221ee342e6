// The daemon's log lines: whatever a message holds, one record is one line.
#include "capf/util/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

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
  EXPECT_NE(
      lines[0].find("device=SEP001122334455\\n2026-01-01T00:00:00.000 info [capf] forged: admin logged in\\r\\x1b[1A "
                    "ended: refused"),
      std::string::npos)
      << lines[0];
  ASSERT_TRUE(configure_log(LogOptions{}));
  std::remove(file.c_str());
  ::rmdir(dir.c_str());
}

// A file's ModuleLogger is the module's logger, looked up once, the same for every thread; a
// file-scope one made before configure_log still writes to the sinks configured later.
const ModuleLogger file_log{"log-test"};

TEST(Log, AModuleLoggerIsTheModulesLoggerFoundOnce) {
  std::vector<const spdlog::logger*> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&seen, i] { seen[i] = file_log().get(); });
  for (auto& t : threads) t.join();
  for (const auto* l : seen) EXPECT_EQ(l, logger("log-test").get());
  EXPECT_EQ(&file_log(), &file_log());
  EXPECT_EQ(file_log()->name(), "log-test");

  char pattern[] = "/tmp/capf-log-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string file = dir + "/capf.log";
  ASSERT_TRUE(configure_log(LogOptions{"off", file, 1024 * 1024, 2}));
  file_log()->warn("after configure_log");
  file_log()->flush();
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("[log-test] after configure_log"), std::string::npos) << text.str();
  ASSERT_TRUE(configure_log(LogOptions{}));
  std::remove(file.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
