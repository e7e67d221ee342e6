// Limits against hostile peers on a real daemon: one address cannot hold the CAPF listener's
// session slots (max-sessions-per-address) while phones at other addresses still enroll, and
// the data directory is the daemon's alone (0700) however it was made.
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "raw_phone.hpp"

namespace capf::it {
namespace {

double metric(const std::string& data, const std::string& sample) {
  std::istringstream in(cli({"metrics", "--data-dir", data}).out);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  return -1;
}

std::string slurp_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Opens a TLS connection to the CAPF port from 127.0.0.1 and reads its AUTH_REQUEST: a session
/// that then waits for the phone. nullptr when the daemon closed the connection instead.
std::unique_ptr<RawPhone> idle_session(int port, const std::string& ca_pem) {
  try {
    auto p = std::make_unique<RawPhone>(port, ca_pem);
    p->read();
    return p;
  } catch (const std::exception&) {
    return nullptr;
  }
}

TEST(ListenerCaps, OneAddressCannotHoldMoreSessionsThanItsCapWhileOthersEnroll) {
  Fleet f({"--max-sessions-per-address", "2"});
  const auto list = cli({"config", "list", "--data-dir", f.data});
  EXPECT_NE(list.out.find("max-sessions-per-address"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("1–20000"), std::string::npos) << list.out;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
                                            "SEP0000000C0A01,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000C0A02,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  const std::string ca = slurp_file(f.ca_file);

  // 127.0.0.1 holds its two sessions; its third connection is closed at once.
  auto first = idle_session(f.daemon->port(), ca);
  auto second = idle_session(f.daemon->port(), ca);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(idle_session(f.daemon->port(), ca), nullptr) << "a third session from 127.0.0.1 was served";
  EXPECT_EQ(metric(f.data, "capf_session_failures_total{reason=\"address_cap\"}"), 1);

  // A phone at another address enrolls meanwhile (from 127.0.0.1 it would be closed like the third).
  const auto elsewhere = f.write_csv("a.csv", std::string(kCsvHeader) +
                                                  "SEP0000000C0A01,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  auto summary = f.sim_csv(elsewhere, {"--source-address", "127.0.0.2"});
  EXPECT_EQ(result_of(summary, "SEP0000000C0A01"), "installed") << summary.dump();

  // Once 127.0.0.1's sessions end, its slots are given back.
  first.reset();
  second.reset();
  for (int i = 0; i < 200 && metric(f.data, "capf_sessions_open") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto here = f.write_csv("h.csv", std::string(kCsvHeader) +
                                             "SEP0000000C0A02,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  EXPECT_EQ(result_of(f.sim_csv(here), "SEP0000000C0A02"), "installed");
  EXPECT_NE(f.daemon->log().find("CAPF connection from 127.0.0.1 closed: it has its maximum of sessions open"),
            std::string::npos);
}

TEST(ListenerCaps, ThePerAddressCapIsAServiceParameterWithARange) {
  TempDir dir;
  auto bad = cli({"serve", "--data-dir", dir / "data", "--listen", "127.0.0.1:0", "--max-sessions-per-address", "0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("max-sessions-per-address must be 1–20000"), std::string::npos) << bad.err;
  auto set = cli({"config", "set", "max-sessions-per-address", "20001", "--data-dir", dir / "data"});
  EXPECT_NE(set.exit_code, 0);
}

TEST(DataDirectory, AnExisting0755DirectoryIsMade0700AtStart) {
  TempDir dir;
  const std::string data = dir / "data";
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(data.c_str(), 0755), 0);
  Daemon daemon(data);
  struct stat st {};
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(DataDirectory, StartRefusesWithTheReasonWhenItCannotBeMadePrivate) {
  // procfs refuses every chmod, even root's.
  auto r = cli({"serve", "--data-dir", "/proc/1/fdinfo", "--listen", "127.0.0.1:0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("data directory: /proc/1/fdinfo has mode 0555 and cannot be made 0700"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace capf::it
