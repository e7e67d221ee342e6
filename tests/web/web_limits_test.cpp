// The dashboard's limits on a real `capf serve --web`, over HTTPS from several loopback
// addresses (127.0.0.2 … are other clients): parallel login guesses are checked only up to the
// limit, a login flood does not stop phones from enrolling, bodies are refused before they are
// read, connections are capped, and sessions end with their user's password.
#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/harness.hpp"
#include "web/raw_https.hpp"

namespace capf::it {
namespace {

namespace http = boost::beast::http;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The dashboard of a daemon whose data directory is `data`.
struct Dashboard {
  explicit Dashboard(const std::string& data) {
    auto info = nlohmann::json::parse(slurp(data + "/daemon.json"));
    std::string base = info["web"].get<std::string>();  // "https://127.0.0.1:PORT/"
    base.pop_back();
    origin = base;
    host = base.substr(8);
    port = static_cast<unsigned short>(std::stoi(host.substr(host.find(':') + 1)));
    ca = slurp(data + "/ca/capf-ca.pem");
    token = slurp(data + "/admin.token");
  }
  /// One request on a fresh connection from `from`; the status (-1: no answer).
  int status(const std::string& request, const std::string& from = "127.0.0.1", std::string* body = nullptr) {
    RawHttps c(port, ca, from);
    if (!c.connected() || !c.send(request)) return -1;
    auto res = c.read();
    if (res && body) *body = res->body();
    return res ? static_cast<int>(res->result_int()) : -1;
  }
  std::string login_request(const std::string& json) {
    return http_text("POST", "/login", host, "Origin: " + origin + "\r\nContent-Type: application/json\r\n", json);
  }
  /// Logs in; the Cookie header value, "" when refused.
  std::string login(const std::string& json, const std::string& from = "127.0.0.1") {
    RawHttps c(port, ca, from);
    if (!c.connected() || !c.send(login_request(json))) return "";
    auto res = c.read();
    if (!res || res->result_int() != 200) return "";
    const std::string set_cookie(res->at(http::field::set_cookie));
    return set_cookie.substr(0, set_cookie.find(';'));
  }
  std::string origin, host, ca, token;
  unsigned short port = 0;
};

void set_password(const std::string& data, const std::string& user, const std::string& password) {
  auto r = shell("printf '" + password + "\\n' | '" + std::string(CAPF_BINARY) + "' web passwd " + user + " --data-dir '" + data + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

/// Sends `count` logins from `from` at once; their statuses as they come back, counted in
/// `answered` (under `m`, with `changed` notified).
std::vector<std::thread> parallel_logins(Dashboard& d, const std::string& from, int count, const std::string& json,
                                         std::vector<int>& statuses, std::mutex& m, std::condition_variable& changed,
                                         int& answered) {
  std::vector<std::thread> threads;
  auto start = std::make_shared<std::barrier<>>(count);
  for (int i = 0; i < count; ++i)
    threads.emplace_back([&d, &statuses, &m, &changed, &answered, from, json, start] {
      RawHttps c(d.port, d.ca, from, std::chrono::seconds(300));
      start->arrive_and_wait();
      int s = -1;
      if (c.connected() && c.send(d.login_request(json)))
        if (auto res = c.read()) s = static_cast<int>(res->result_int());
      std::lock_guard lock(m);
      statuses.push_back(s);
      ++answered;
      changed.notify_all();
    });
  return threads;
}

int count_of(const std::vector<int>& v, int status) { return static_cast<int>(std::count(v.begin(), v.end(), status)); }

class WebLimits : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--web", "127.0.0.1:0"});
    daemon = std::make_unique<Daemon>(dir / "data", extra);
    web = std::make_unique<Dashboard>(dir / "data");
  }
  TempDir dir;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<Dashboard> web;
};

TEST_F(WebLimits, ThirtyParallelGuessesGetExactlyTenPasswordChecks) {
  start();
  set_password(dir / "data", "alice", "right-password");
  std::vector<int> statuses;
  std::mutex m;
  std::condition_variable changed;
  int answered = 0;
  auto threads =
      parallel_logins(*web, "127.0.0.1", 30, R"({"user":"alice","password":"a-guess"})", statuses, m, changed, answered);
  for (auto& t : threads) t.join();
  // 401 = checked and wrong; 429 = refused before any check. Old code: 30 × 401.
  EXPECT_EQ(count_of(statuses, 401), 10);
  EXPECT_EQ(count_of(statuses, 429), 20);
  EXPECT_EQ(statuses.size(), 30u);
  // The address stays refused, even with the right password; another address logs in.
  EXPECT_EQ(web->status(web->login_request(R"({"user":"alice","password":"right-password"})")), 429);
  EXPECT_EQ(web->status(web->login_request(R"({"user":"alice","password":"right-password"})"), "127.0.0.2"), 200);
}

TEST_F(WebLimits, ALoginFloodDoesNotStopEnrollments) {
  // One worker thread: before the password checks had a pool of their own, every enrollment
  // step waited behind every queued PBKDF2 check.
  Fleet f({"--web", "127.0.0.1:0", "--workers", "1"});
  Dashboard d(f.data);
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
                                            "SEP0000000C0B01,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000C0B02,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  // The flood: 11 logins at once from each of three addresses (unknown user: the full PBKDF2).
  const std::array<const char*, 3> addresses{"127.0.0.2", "127.0.0.3", "127.0.0.4"};
  std::map<std::string, std::vector<int>> statuses;
  std::mutex m;
  std::condition_variable changed;
  std::map<std::string, int> answered;
  std::vector<std::thread> threads;
  for (const char* a : addresses) {
    auto t = parallel_logins(d, a, 11, R"({"user":"mallory","password":"guess"})", statuses[a], m, changed, answered[a]);
    for (auto& th : t) threads.push_back(std::move(th));
  }
  // The first answer from each address is its 429: then its other ten are queued for a check.
  {
    std::unique_lock lock(m);
    changed.wait(lock, [&] {
      return std::all_of(addresses.begin(), addresses.end(), [&](const char* a) { return answered[a] > 0; });
    });
  }
  const auto summary = f.sim_csv(csv);
  int answered_when_enrolled = 0;
  {
    std::lock_guard lock(m);
    for (const char* a : addresses) answered_when_enrolled += answered[a];
  }
  EXPECT_EQ(result_of(summary, "SEP0000000C0B01"), "installed") << summary.dump();
  EXPECT_EQ(result_of(summary, "SEP0000000C0B02"), "installed") << summary.dump();
  // The phones were done while most of the 30 password checks were still waiting.
  EXPECT_LT(answered_when_enrolled, 33) << "every login was answered before the phones could enroll";
  for (auto& t : threads) t.join();
  for (const char* a : addresses) {
    EXPECT_EQ(count_of(statuses[a], 401), 10) << a;
    EXPECT_EQ(count_of(statuses[a], 429), 1) << a;
  }
}

TEST_F(WebLimits, ABodyBeyond64KiBIsRefusedBeforeItIsRead) {
  start();
  // Only the header: the answer must come without the 10 MiB (old code waited for them).
  RawHttps c(web->port, web->ca);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(http_text("POST", "/login", web->host,
                               "Origin: " + web->origin + "\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n")));
  auto res = c.read();
  ASSERT_TRUE(res) << "no answer before the body was sent";
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_NE(res->body().find("at most 64 KiB before logging in"), std::string::npos) << res->body();
  EXPECT_TRUE(c.closed_by_server());

  // Chunked, so the size is not announced: cut off at 64 KiB.
  RawHttps chunked(web->port, web->ca);
  ASSERT_TRUE(chunked.connected());
  std::string body;
  for (int i = 0; i < 70; ++i) body += "400\r\n" + std::string(1024, ' ') + "\r\n";
  ASSERT_TRUE(chunked.send(http_text("POST", "/login", web->host,
                                     "Origin: " + web->origin + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                                     body + "0\r\n\r\n")));
  auto cut = chunked.read();
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->result_int(), 413u);

  // A logged-in user may send more: 100 KiB reach the admin API.
  const auto cookie = web->login(nlohmann::json{{"token", web->token}}.dump());
  ASSERT_FALSE(cookie.empty());
  RawHttps s(web->port, web->ca);
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.send(http_text("GET", "/api/session", web->host, "Cookie: " + cookie + "\r\n")));
  auto session = s.read();
  ASSERT_TRUE(session);
  const auto csrf = nlohmann::json::parse(session->body())["csrf"].get<std::string>();
  const std::string big = R"({"where": "device_pool = NOWHERE", "operation": "install", "dry_run": true, "pad": ")" +
                          std::string(100 * 1024, 'x') + "\"}";
  ASSERT_TRUE(s.send(http_text("POST", "/api/v1/jobs", web->host,
                               "Cookie: " + cookie + "\r\nOrigin: " + web->origin + "\r\nX-CSRF-Token: " + csrf +
                                   "\r\nContent-Type: application/json\r\n",
                               big)));
  auto answered = s.read();
  ASSERT_TRUE(answered);
  EXPECT_NE(answered->result_int(), 413u) << answered->body();
}

TEST_F(WebLimits, ConnectionsBeyondTheCapsAreClosed) {
  start({"--web-max-connections", "3", "--web-max-connections-per-address", "2"});
  RawHttps a(web->port, web->ca), b(web->port, web->ca);
  ASSERT_TRUE(a.connected() && b.connected());
  RawHttps third(web->port, web->ca, "127.0.0.1", std::chrono::seconds(10));
  EXPECT_FALSE(third.connected()) << "a third connection from 127.0.0.1 was served";
  // Another address still gets in, up to the total of 3.
  RawHttps other(web->port, web->ca, "127.0.0.2");
  ASSERT_TRUE(other.connected());
  ASSERT_TRUE(other.send(http_text("GET", "/login", web->host)));
  auto page = other.read();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->result_int(), 200u);
  RawHttps fourth(web->port, web->ca, "127.0.0.3", std::chrono::seconds(10));
  EXPECT_FALSE(fourth.connected()) << "a fourth connection was served beyond the total cap";
}

TEST_F(WebLimits, RemovingAUserOrSettingItsPasswordEndsItsSessionsAtOnce) {
  start();
  const std::string data = dir / "data";
  set_password(data, "alice", "first-password");
  set_password(data, "bob", "bobs-password");
  const auto session = [&](const std::string& cookie) {
    return web->status(http_text("GET", "/api/session", web->host, "Cookie: " + cookie + "\r\n"));
  };
  auto alice = web->login(R"({"user":"alice","password":"first-password"})");
  const auto bob = web->login(R"({"user":"bob","password":"bobs-password"})");
  ASSERT_FALSE(alice.empty());
  ASSERT_FALSE(bob.empty());
  EXPECT_EQ(session(alice), 200);

  // A live update stream of alice's is ended too.
  RawHttps events(web->port, web->ca);
  ASSERT_TRUE(events.connected());
  ASSERT_TRUE(events.send(http_text("GET", "/api/events", web->host, "Cookie: " + alice + "\r\n")));
  set_password(data, "alice", "second-password");
  EXPECT_EQ(session(alice), 401);
  EXPECT_TRUE(events.ends_before_deadline()) << "the event stream went on after the password changed";
  EXPECT_EQ(session(bob), 200);

  alice = web->login(R"({"user":"alice","password":"second-password"})");
  ASSERT_FALSE(alice.empty());
  EXPECT_EQ(session(alice), 200);
  auto removed = cli({"web", "remove", "alice", "--data-dir", data});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(session(alice), 401);
  EXPECT_EQ(session(bob), 200);
}

}  // namespace
}  // namespace capf::it
