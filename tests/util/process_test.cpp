// util/process.hpp: a program started without a shell, its output in files, its exit status,
// and the SIGTERM it gets when its owner goes away.
#include "capf/util/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace capf::util {
namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ProcessTest : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("capf-process-test-" + std::to_string(::getpid()));
  void SetUp() override {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

TEST_F(ProcessTest, OutputGoesToItsFilesAndTheExitCodeComesBack) {
  const auto out = file("out"), err = file("err");
  std::ofstream(out) << "old output\n";
  std::ofstream(err) << "old error\n";
  // A name without a slash is found in PATH; an argument with spaces stays one argument.
  ChildProcess child({{"sh", "-c", "echo 'to out'; echo to err >&2; exit 3"}, out, err, /*truncate_out=*/true});
  EXPECT_GT(child.pid(), 0);
  EXPECT_EQ(child.wait(), 3);
  EXPECT_EQ(child.pid(), -1);
  EXPECT_EQ(read(out), "to out\n");             // emptied first
  EXPECT_EQ(read(err), "old error\nto err\n");  // appended to
}

TEST_F(ProcessTest, OneFileForBothStreamsIsAppendedToWithTheModeAsked) {
  const auto log = file("log");
  EXPECT_EQ(run_process({{"/bin/sh", "-c", "echo one; echo two >&2"}, log, log}), 0);
  EXPECT_EQ(run_process({{"/bin/sh", "-c", "echo three"}, log, log}), 0);
  EXPECT_EQ(read(log), "one\ntwo\nthree\n");
  struct stat st {};
  ASSERT_EQ(::stat(log.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ProcessTest, StopSignalsAndReportsTheSignal) {
  ChildProcess child({{"sleep", "600"}, file("out"), file("out")});
  EXPECT_TRUE(child.running());
  EXPECT_EQ(child.stop(SIGTERM), 128 + SIGTERM);
  EXPECT_FALSE(child.running());
  ChildProcess killed({{"sleep", "600"}, file("out"), file("out")});
  EXPECT_EQ(killed.stop(SIGKILL), 128 + SIGKILL);
}

TEST_F(ProcessTest, AnOwnerGoingAwayEndsItsChildAndAReleasedChildOutlivesIt) {
  pid_t owned = -1, released = -1;
  {
    ChildProcess child({{"sleep", "600"}, file("out"), file("out")});
    owned = child.pid();
    ChildProcess other({{"sleep", "600"}, file("out"), file("out")});
    released = other.release();
  }
  EXPECT_NE(::kill(owned, 0), 0);  // waited for: no such process any more
  ASSERT_EQ(::kill(released, 0), 0);
  ::kill(released, SIGTERM);
  EXPECT_EQ(wait_exit_status(released), 128 + SIGTERM);
}

TEST_F(ProcessTest, AProgramThatCannotStartIsNamed) {
  try {
    ChildProcess child({{"capf-no-such-program"}, file("out"), file("out")});
    ADD_FAILURE() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("capf-no-such-program: not found in PATH"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ChildProcess({{"/nonexistent/capf"}, file("out"), file("out")}), std::runtime_error);
  EXPECT_EQ(run_process({{"/nonexistent/capf"}, file("out"), file("out")}), 127);
  EXPECT_THROW(ChildProcess({{"/bin/true"}, (dir / "no-dir" / "out").string(), ""}), std::runtime_error);
}

}  // namespace
}  // namespace capf::util
