// One owner per device, against a real `capf serve` over real TLS sessions: many phones (or
// one attacker) answering for the same device at once get exactly kMaxAuthFailures wrong
// strings checked, the device ends locked and no late writer unlocks it; an administrator's
// `phone set` made while sessions run for the device is never lost.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "capf/core/vocabulary.hpp"
#include "harness.hpp"
#include "raw_phone.hpp"

namespace capf::it {
namespace {

std::string read_file(const std::string& path) { return shell("cat '" + path + "'").out; }

/// AUTH_RESPONSE for `device` with `password` (none for the null string), in this phone's session.
void send_auth(RawPhone& p, std::uint32_t sid, const std::string& device, std::optional<std::string> password) {
  protocol::AuthResponse a;
  a.device_name = device;
  a.password = std::move(password);
  send_message(p, protocol::build(a, sid));
}

/// Audit entries of `device` with `action`.
int audit_count(const Fleet& f, const std::string& device, const std::string& action) {
  auto r = cli({"audit", "list", "--action", action, "--json", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto list = nlohmann::json::parse(r.out, nullptr, false);
  int n = 0;
  if (list.is_array())
    for (const auto& a : list) n += a.value("subject", "") == device && a.value("action", "") == action;
  return n;
}

void concurrent_wrong_strings(int phones) {
  Fleet f;
  const std::string device = "SEP00000000C0" + std::to_string(phones);
  ASSERT_EQ(f.import(f.write_csv("p.csv", std::string(kCsvHeader) + device +
                                              ",DP-HQ,Install/Upgrade,By Authentication String,13572468,2048,RSA Only,\n"))
                .exit_code,
            0);
  const std::string ca = read_file(f.ca_file);

  // Every phone has its TLS session and AUTH_REQUEST before any of them answers.
  std::vector<std::unique_ptr<RawPhone>> conns;
  std::vector<std::uint32_t> sids;
  for (int i = 0; i < phones; ++i) {
    conns.push_back(std::make_unique<RawPhone>(f.daemon->port(), ca));
    auto first = conns.back()->read();
    ASSERT_EQ(first.command, 1);
    sids.push_back(first.session_id);
  }
  std::barrier start(phones);
  std::vector<int> reasons(phones, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < phones; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      try {
        send_auth(*conns[i], sids[i], device, "99999999");
        auto end = conns[i]->read();
        reasons[i] = end.command == 15 ? end.u8(protocol::Tag::reason).value_or(255) : 254;
      } catch (const std::exception&) {
        reasons[i] = -1;
      }
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < phones; ++i) EXPECT_EQ(reasons[i], 7) << "phone " << i;

  // Exactly the limit checked and counted; every other attempt refused without a look.
  auto p = f.phone(device);
  EXPECT_EQ(p["status"], "locked");
  EXPECT_EQ(p["auth_failures"], kMaxAuthFailures);
  EXPECT_EQ(audit_count(f, device, "auth.failed"), kMaxAuthFailures);
  EXPECT_EQ(audit_count(f, device, "auth.refused"), phones - kMaxAuthFailures);
  std::cout << phones << " concurrent wrong strings: " << audit_count(f, device, "auth.failed") << " checked, "
            << audit_count(f, device, "auth.refused") << " refused as locked, auth_failures "
            << p["auth_failures"].dump() << ", status " << p["status"].dump() << "\n";

  // The right string afterwards is refused too, and the lock survives a restart.
  {
    RawPhone late(f.daemon->port(), ca);
    auto first = late.read();
    send_auth(late, first.session_id, device, "13572468");
    EXPECT_EQ(late.read().u8(protocol::Tag::reason).value_or(255), 7);
  }
  f.daemon->kill();
  f.daemon->restart();
  EXPECT_EQ(f.phone(device)["status"], "locked");
  EXPECT_EQ(f.phone(device)["auth_failures"], kMaxAuthFailures);
}

TEST(Concurrency, FortyConcurrentWrongStringsCheckExactlyTheLimit) { concurrent_wrong_strings(40); }

TEST(Concurrency, EightyConcurrentWrongStringsCheckExactlyTheLimit) { concurrent_wrong_strings(80); }

// Sessions that authenticate and then break off (each writes the whole device record twice)
// race `phone set --key-size`; every value the administrator set is what the device holds
// until the next set.
TEST(Concurrency, PhoneSetRacingSessionsIsNeverLost) {
  Fleet f;
  const std::string device = "SEP00000000C0AA";
  ASSERT_EQ(f.import(f.write_csv("p.csv", std::string(kCsvHeader) + device +
                                              ",DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"))
                .exit_code,
            0);
  const std::string ca = read_file(f.ca_file);
  std::atomic<bool> stop{false};
  std::atomic<int> sessions{0};
  std::vector<std::thread> phones;
  for (int t = 0; t < 3; ++t)
    phones.emplace_back([&] {
      while (!stop) {
        try {
          RawPhone p(f.daemon->port(), ca);
          auto first = p.read();
          send_auth(p, first.session_id, device, std::nullopt);
          p.read();  // KEY_GENERATE_REQUEST, or END_SESSION when another session holds the device
          ++sessions;
        } catch (const std::exception&) {
        }
      }
    });
  const int sizes[] = {1024, 3072, 4096, 2048};
  int last = 2048;
  for (int round = 0; round < 12; ++round) {
    last = sizes[round % 4];
    auto r = f.phone_set(device, {"--key-size", std::to_string(last)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(f.phone(device)["key_size"], last) << "round " << round << ": a session wrote back an older copy";
  }
  stop = true;
  for (auto& t : phones) t.join();
  EXPECT_GT(sessions.load(), 0);
  EXPECT_EQ(f.phone(device)["key_size"], last);
}

}  // namespace
}  // namespace capf::it
