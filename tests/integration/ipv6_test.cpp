// The seed's IPv6 table ("How IPv6 or IPv4 Phone Connects to CAPF") as a test matrix: CAPF
// IPv4-only (Enable IPv6 False), dual stack, IPv6-only × phones that are IPv4-only, IPv6-only
// or dual stack (IPv6 first, then IPv4), whose IP mode comes from the CSV's address columns.
#include <iostream>
#include <map>

#include <gtest/gtest.h>

#include "lifecycle_support.hpp"

using namespace capf::it;

namespace {

struct ServerMode {
  const char* name;
  std::vector<std::string> listen;
  bool enable_ipv6;
  bool phones_know_ipv4;  ///< CAPF has an IPv4 address the phones are given
};

struct Cell {
  std::string result, via, detail;
};

const char* const kPhones[] = {"SEP0000000006A4", "SEP0000000006A6", "SEP0000000006AD"};
const char* const kPhoneModes[] = {"IPv4 only", "IPv6 only", "dual stack"};

std::map<std::string, Cell> run_mode(const ServerMode& mode) {
  Fleet f({"--listen", mode.listen.front()});
  if (!mode.enable_ipv6) {
    EXPECT_EQ(f.daemon->stop(), 0);
    set_service_params(f.data, [](capf::ServiceParams& p) { p.enable_ipv6 = false; });
    f.daemon->restart();
    EXPECT_NE(f.daemon->log().find("Enable IPv6 is False: listening on 0.0.0.0:"), std::string::npos) << f.daemon->log();
  }
  // The phones' IP mode comes from the address columns: only IPv4, only IPv6, both.
  const auto csv = f.write_csv("p.csv",
      "Device Name,Certificate Operation,Authentication Mode,IPv4 Address,IPv6 Address\n"
      "SEP0000000006A4,Install/Upgrade,By Null String,10.1.0.4,\n"
      "SEP0000000006A6,Install/Upgrade,By Null String,,2001:db8::6\n"
      "SEP0000000006AD,Install/Upgrade,By Null String,10.1.0.13,2001:db8::13\n");
  EXPECT_EQ(f.import(csv).exit_code, 0);
  const std::string port = std::to_string(f.daemon->port());
  std::vector<std::string> args{"sim", "--ca", f.ca_file, "--csv", csv, "--state", f.sim_state, "--summary-json",
                                f.dir / "summary.json", "--timeout", "30"};
  if (mode.phones_know_ipv4) args.insert(args.end(), {"--server", "127.0.0.1:" + port});
  args.insert(args.end(), {"--server", "[::1]:" + port});
  cli(args);
  std::ifstream in(f.dir / "summary.json");
  auto summary = nlohmann::json::parse(in, nullptr, false);
  std::map<std::string, Cell> out;
  if (summary.is_discarded()) return out;
  for (const auto& p : summary["phones"])
    out[p["device"]] = {p["result"], p.value("connected_via", ""), p.value("detail", "")};
  return out;
}

}  // namespace

TEST(Ipv6Matrix, PhonesConnectAsTheSeedsTableSays) {
  const ServerMode modes[] = {
      {"CAPF IPv4 only (Enable IPv6 False)", {"[::]:0"}, false, true},
      {"CAPF dual stack (Enable IPv6 True)", {"[::]:0"}, true, true},
      {"CAPF IPv6 only (listens on [::1])", {"[::1]:0"}, true, false},
  };
  // Expected: result and the family used, per server mode × phone mode.
  const char* const expected[3][3][2] = {
      {{"installed", "IPv4"}, {"no-connection", ""}, {"installed", "IPv4"}},
      {{"installed", "IPv4"}, {"installed", "IPv6"}, {"installed", "IPv6"}},
      {{"no-connection", ""}, {"installed", "IPv6"}, {"installed", "IPv6"}},
  };
  std::string table = "\nIPv6 matrix (server × phone → outcome)\n";
  for (int s = 0; s < 3; ++s) {
    auto cells = run_mode(modes[s]);
    for (int p = 0; p < 3; ++p) {
      const Cell& c = cells[kPhones[p]];
      table += std::string("  ") + modes[s].name + " | phone " + kPhoneModes[p] + " | " + c.result +
               (c.via.empty() ? "" : " via " + c.via) + (c.result == "installed" ? "" : " — " + c.detail) + "\n";
      EXPECT_EQ(c.result, expected[s][p][0]) << modes[s].name << " / " << kPhoneModes[p] << ": " << c.detail;
      EXPECT_EQ(c.via.substr(0, 4), expected[s][p][1]) << modes[s].name << " / " << kPhoneModes[p] << ": " << c.via;
    }
    // The reasons the mismatched phones report.
    if (s == 0) {
      EXPECT_NE(cells[kPhones[1]].detail.find("IPv6-only phone cannot connect to CAPF: IPv6 [::1]:"), std::string::npos)
          << cells[kPhones[1]].detail;
      EXPECT_NE(cells[kPhones[1]].detail.find("refused"), std::string::npos) << cells[kPhones[1]].detail;
    }
    if (s == 2) {
      EXPECT_NE(cells[kPhones[0]].detail.find("IPv4-only phone: CAPF has no IPv4 address"), std::string::npos)
          << cells[kPhones[0]].detail;
    }
  }
  std::cout << table << std::flush;
}

TEST(Ipv6Matrix, IpModeFlagOverridesTheCsvAndEveryIpv6ListenAddressIsRefusedWhenIpv6IsOff) {
  Fleet f({"--listen", "[::]:0"});
  const auto csv = f.write_csv("p.csv",
      "Device Name,Certificate Operation,Authentication Mode,IPv4 Address,IPv6 Address\n"
      "SEP0000000006B1,Install/Upgrade,By Null String,10.1.0.4,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  const std::string port = std::to_string(f.daemon->port());
  auto r = cli({"sim", "--ca", f.ca_file, "--csv", csv, "--state", f.sim_state, "--server", "[::1]:" + port,
                "--ip-mode", "ipv6", "--table", "--expect", "installed"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("IPv6 [::1]:" + port), std::string::npos) << r.out;
  EXPECT_EQ(cli({"sim", "--ca", f.ca_file, "--csv", csv, "--state", f.sim_state, "--server", "[::1]:" + port, "--ip-mode", "ipv5"}).exit_code, 2);

  ASSERT_EQ(f.daemon->stop(), 0);
  set_service_params(f.data, [](capf::ServiceParams& p) { p.enable_ipv6 = false; });
  const int pid = spawn_capf({"serve", "--data-dir", f.data, "--listen", "[::1]:0"}, f.dir / "out", f.dir / "err");
  EXPECT_EQ(wait_process(pid), 1);
  std::ifstream err(f.dir / "err");
  std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Enable IPv6 is False and every --listen address is IPv6"), std::string::npos) << text;
  f.daemon->restart();  // [::]:0 → 0.0.0.0, so the fixture's daemon still starts
}
