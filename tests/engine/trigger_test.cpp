// The trigger step: templates, validation, command triggers against /bin/sh scripts, and how
// each ending is classified.
#include "capf/engine/trigger.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "trigger_test_util.hpp"

using namespace capf;
using namespace capf::engine;
using namespace capf::engine::trigger_test;

namespace {

/// A temporary directory with executable scripts.
class Scripts {
 public:
  Scripts() {
    char tmpl[] = "/tmp/capf-trigger-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~Scripts() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& body, mode_t mode = 0755) const {
    const auto path = dir_ + "/" + name;
    std::ofstream(path) << body;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

TriggerConfig command(const std::string& cmd, int timeout_s = 10) {
  TriggerConfig c;
  c.kind = TriggerConfig::Kind::command;
  c.command = cmd;
  c.timeout_s = timeout_s;
  return c;
}

}  // namespace

TEST(TriggerExpand, EachEscape) {
  const Device d = sample_device();
  EXPECT_EQ(expand("{name} {ipv4} {job} {operation}", d, "job-7", Escape::none),
            "SEP0A0000000001 10.1.2.3 job-7 Install/Upgrade");
  EXPECT_EQ(expand("/t/{description}", d, "j", Escape::url), "/t/Lobby%20phone%3B%20%22front%22%20%26%20back%2F1");
  EXPECT_EQ(expand("{\"d\":\"{description}\",\"p\":\"{device_pool}\"}", d, "j", Escape::json),
            R"({"d":"Lobby phone; \"front\" & back/1","p":"DP-HQ"})");
  Device v6 = d;
  v6.ipv6 = "2001:db8::5";
  EXPECT_EQ(expand("http://[{ipv6}]/CGI/Execute?d={name}", v6, "j", Escape::url),
            "http://[2001:db8::5]/CGI/Execute?d=SEP0A0000000001");
  // Unknown names and JSON braces stay as written; empty fields expand to nothing.
  EXPECT_EQ(expand("{nope}{ipv6}{}", d, "j", Escape::none), "{nope}{}");
  EXPECT_EQ(expand(std::string(kDefaultTriggerBody), d, "j\"1", Escape::json),
            R"({"device":"SEP0A0000000001","job":"j\"1"})");
}

TEST(TriggerValidate, NamesTheProblem) {
  EXPECT_TRUE(validate(TriggerConfig{}));
  auto r = validate(command("/bin/true {nmae}"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("{nmae}"), std::string::npos) << r.error().message;
  EXPECT_FALSE(validate(command("   ")));
  EXPECT_FALSE(validate(command("/bin/true", 0)));
  EXPECT_TRUE(validate(command("/bin/true {name} {ipv4}")));
  EXPECT_FALSE(validate(http("")));
  r = validate(http("ftp://host/{name}"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("http://"), std::string::npos);
  EXPECT_FALSE(validate(http("127.0.0.1/{name}")));
  EXPECT_FALSE(validate(http("http:///x")));
  // Credentials in the URL would show wherever the URL does: refused, and not repeated.
  r = validate(http("https://admin:s3cret@host/{name}"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("must not hold credentials"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos) << r.error().message;
  EXPECT_TRUE(validate(http("https://host/{name}?to=a@b")));
  auto bad_body = http("http://{ipv4}/CGI/Execute");
  EXPECT_TRUE(validate(bad_body));
  bad_body.body = R"({"x":"{secret}"})";
  r = validate(bad_body);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("body"), std::string::npos);
  EXPECT_EQ(to_string(TriggerOutcome::needs_admin), "needs-admin");
}

TEST(TriggerCommand, ExitCodesAreClassified) {
  Scripts s;
  const auto args_file = s.path("args");
  const auto ok = s.write("ok.sh", "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + args_file + "'\nexit 0\n");
  auto r = run_trigger(command(ok + " {name} {description}"), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::ok) << r.detail;
  std::stringstream args;
  args << std::ifstream(args_file).rdbuf();
  // No shell saw the values: the description is one argument, its ';' and '&' are literal.
  EXPECT_EQ(args.str(), "SEP0A0000000001\nLobby phone; \"front\" & back/1\n");

  r = run_trigger(command(s.write("t.sh", "#!/bin/sh\necho later >&2\nexit 75\n")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::transient) << r.detail;
  EXPECT_NE(r.detail.find("later"), std::string::npos) << r.detail;

  r = run_trigger(command(s.write("p.sh", "#!/bin/sh\necho boom >&2\nexit 3\n")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::permanent);
  EXPECT_NE(r.detail.find("exit 3: boom"), std::string::npos) << r.detail;
  EXPECT_FALSE(r.retry_after_s);
}

TEST(TriggerCommand, TheCommandInheritsOnlyItsStandardStreams) {
  Scripts s;
  const int fd = ::open("/dev/null", O_RDONLY);  // stands for the daemon's sockets and database files
  ASSERT_GE(fd, 3);
  const auto probe = s.write("probe.sh", "#!/bin/sh\nif [ -e /proc/self/fd/" + std::to_string(fd) +
                                             " ]; then echo inherited >&2; exit 3; fi\nexit 0\n");
  auto r = run_trigger(command(probe), sample_device(), "j");
  ::close(fd);
  EXPECT_EQ(r.outcome, TriggerOutcome::ok) << r.detail;
}

TEST(TriggerCommand, KilledAfterTheTimeoutIsTransient) {
  Scripts s;
  const auto slow = s.write("slow.sh", "#!/bin/sh\necho starting >&2\nsleep 30\nexit 0\n");
  const auto started = std::chrono::steady_clock::now();
  auto r = run_trigger(command(slow, 1), sample_device(), "j");
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.outcome, TriggerOutcome::transient) << r.detail;
  EXPECT_NE(r.detail.find("killed after 1 s"), std::string::npos) << r.detail;
  EXPECT_LT(took, std::chrono::seconds(5)) << "the sleeping grandchild must not hold the trigger";
}

TEST(TriggerCommand, MissingOrUnrunnableCommandNeedsAnAdministrator) {
  Scripts s;
  auto r = run_trigger(command("/nonexistent/apply-config {name}"), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin) << r.detail;
  r = run_trigger(command("capf-no-such-command-anywhere {name}"), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin) << r.detail;
  r = run_trigger(command(s.write("noexec.sh", "#!/bin/sh\nexit 0\n", 0644)), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin) << r.detail;
  // Executable bit but not a program: execve itself fails (ENOEXEC).
  r = run_trigger(command(s.write("garbage",
                                  std::string("\x7f"
                                              "ELF\x01\x01 not really",
                                              16),
                                  0755)),
                  sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin) << r.detail;
  // A bare name is looked up in PATH.
  r = run_trigger(command("true"), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::ok) << r.detail;
}

TEST(TriggerCommand, OnlyTheStartOfALoudStderrIsKept) {
  Scripts s;
  const auto loud = s.write("loud.sh", "#!/bin/sh\nhead -c 300000 /dev/zero | tr '\\0' x >&2\nexit 4\n");
  auto r = run_trigger(command(loud), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::permanent);
  EXPECT_LT(r.detail.size(), 1200u);
  EXPECT_NE(r.detail.find("xxxx"), std::string::npos);
}

