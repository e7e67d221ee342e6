// The dashboard's request checks without sockets: where `next` may lead, the body limit chosen
// from the header, and sessions that end when their user's password changes or the user goes.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "capf/web/request_gate.hpp"

namespace capf::web {
namespace {

namespace http = boost::beast::http;

TEST(WebNext, OnlyAPathOnThisOriginIsAccepted) {
  for (const char* ok : {"/", "/job?id=J0001", "/devices#top", "/a/b/c?x=%20y", "/%C3%A9t%C3%A9", "/a//b"})
    EXPECT_EQ(same_origin_path(ok), std::optional<std::string>(ok)) << ok;
  for (const char* bad : {"", "job", "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
                          "http:/evil.example", "javascript:alert(1)", "/%5Cevil.example", "/%5cevil.example",
                          "/%2F/evil.example", "/%2f%2fevil.example", "/\t/evil.example", "/\n/evil.example",
                          "\t//evil.example", "/\r\n/evil", "/%09/evil.example", "/%0a/evil", "/a\\b", "/a b",
                          "/%", "/%4", "/%zz", "/\x7f", "/\xc3\xa9", "/a\"b", "/<script>"})
    EXPECT_EQ(same_origin_path(bad), std::nullopt) << bad;
  EXPECT_EQ(same_origin_path("/" + std::string(2047, 'a')).has_value(), true);
  EXPECT_EQ(same_origin_path("/" + std::string(2048, 'a')).has_value(), false);
}

std::string make_temp_dir() {
  char tmpl[] = "/tmp/capf-gate-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  return made ? made : "/nonexistent";
}

class GateWithUsers : public ::testing::Test {
 protected:
  void SetUp() override { set_password("alice", "first-password"); }
  void TearDown() override { std::system(("rm -rf " + dir).c_str()); }

  void set_password(const std::string& user, const std::string& password) {
    auto rec = hash_password(password, 1);
    ASSERT_TRUE(rec.ok());
    ASSERT_TRUE(store_user(path, user, *rec).ok());
  }

  HttpRequest request(http::verb method, const std::string& target, const std::string& body = "",
                      const std::string& cookie = "") {
    HttpRequest r{method, target, 11};
    r.set(http::field::host, "127.0.0.1:8443");
    if (method == http::verb::post) {
      r.set(http::field::origin, "https://127.0.0.1:8443");
      r.set(http::field::content_type, "application/json");
    }
    if (!cookie.empty()) r.set(http::field::cookie, std::string(kSessionCookie) + "=" + cookie);
    r.body() = body;
    r.prepare_payload();
    return r;
  }

  /// Logs `user` in from `client`; the session id, or "" when refused.
  std::string login_as(const std::string& user, const std::string& password, const std::string& next = "",
                       Reply* out = nullptr, const std::string& client = "192.0.2.1") {
    nlohmann::json body{{"user", user}, {"password", password}};
    if (!next.empty()) body["next"] = next;
    auto route = gate.route(request(http::verb::post, "/login", body.dump()), client, now);
    auto* pending = std::get_if<PasswordLogin>(&route);
    EXPECT_NE(pending, nullptr);
    if (pending == nullptr) return "";
    Reply r = gate.finish_login(*pending, gate.check_password(*pending), now);
    if (out) *out = r;
    if (r.status != 200) return "";
    const auto& cookie = r.headers.at(0).second;
    return cookie_value(cookie.substr(0, cookie.find(';')), kSessionCookie);
  }
  std::string login(const std::string& password, const std::string& next = "", Reply* out = nullptr) {
    return login_as("alice", password, next, out);
  }
  int status(const std::string& id) {
    auto route = gate.route(request(http::verb::get, "/api/session", "", id), "192.0.2.1", now);
    auto* reply = std::get_if<Reply>(&route);
    return reply ? reply->status : -1;
  }

  std::string dir = make_temp_dir();
  std::string path = users_file(dir);
  std::int64_t now = 1'000'000;
  SessionTable sessions;
  UserDirectory users{path};
  LoginThrottle throttle;
  RequestGate gate{GateConfig{{"127.0.0.1"}, 8443, "the-admin-token", 1}, sessions, users, throttle};
};

TEST_F(GateWithUsers, ASessionEndsWhenItsUsersPasswordIsSetAgain) {
  const auto id = login("first-password");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(status(id), 200);
  set_password("alice", "second-password");
  EXPECT_EQ(status(id), 401);
  EXPECT_FALSE(sessions.valid(id, now)) << "the ended session stays in the table";
  // Even setting the same password again ends the sessions of the earlier record.
  const auto again = login("second-password");
  ASSERT_FALSE(again.empty());
  set_password("alice", "second-password");
  EXPECT_EQ(status(again), 401);
  EXPECT_TRUE(login("first-password").empty());
}

TEST_F(GateWithUsers, ASessionEndsWhenItsUserIsRemovedAndOthersStay) {
  set_password("bob", "bobs-password");
  const auto alice = login("first-password");
  ASSERT_FALSE(alice.empty());
  const auto bob = login_as("bob", "bobs-password");
  ASSERT_FALSE(bob.empty());
  ASSERT_TRUE(remove_user(path, "alice").ok());
  EXPECT_EQ(status(alice), 401);
  EXPECT_EQ(status(bob), 200);
  // Re-adding the name does not bring the old session back.
  set_password("alice", "first-password");
  EXPECT_EQ(status(alice), 401);
}

TEST_F(GateWithUsers, AHostThatIsNotUtf8IsAnsweredNotThrown) {
  // Found by fuzz/web_fuzzer.cpp: the 421 names the Host, and json::dump() threw on its 0xFF.
  auto req = request(http::verb::get, "/api/session");
  req.set(http::field::host, "evil\xff.example:8443");
  Route route;
  ASSERT_NO_THROW(route = gate.route(req, "192.0.2.1", now));
  const auto& reply = std::get<Reply>(route);
  EXPECT_EQ(reply.status, 421);
  EXPECT_TRUE(nlohmann::json::accept(reply.body)) << reply.body;
}

TEST_F(GateWithUsers, TokenSessionsDoNotDependOnTheUsersFile) {
  auto route = gate.route(request(http::verb::post, "/login", R"({"token":"the-admin-token"})"), "192.0.2.1", now);
  auto& reply = std::get<Reply>(route);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto& c = reply.headers.at(0).second;
  const auto id = cookie_value(c.substr(0, c.find(';')), kSessionCookie);
  ASSERT_TRUE(remove_user(path, "alice").ok());
  EXPECT_EQ(status(id), 200);
}

TEST_F(GateWithUsers, NextIsAnsweredOnlyWhenItStaysOnThisOrigin) {
  Reply r;
  ASSERT_FALSE(login("first-password", "/job?id=J1", &r).empty());
  EXPECT_EQ(nlohmann::json::parse(r.body)["next"], "/job?id=J1");
  ASSERT_FALSE(login("first-password", "/\\evil.example", &r).empty());
  EXPECT_EQ(nlohmann::json::parse(r.body)["next"], "/");
  ASSERT_FALSE(login("first-password", "/%5Cevil.example", &r).empty());
  EXPECT_EQ(nlohmann::json::parse(r.body)["next"], "/");
  // A page asked for without a session sends the browser to the login with where it was going.
  auto page = gate.route(request(http::verb::get, "/job?id=J1"), "192.0.2.1", now);
  auto& redirect = std::get<Reply>(page);
  EXPECT_EQ(redirect.status, 303);
  ASSERT_EQ(redirect.headers.at(0).first, "Location");
  EXPECT_EQ(redirect.headers.at(0).second, "/login?next=/job%3Fid%3DJ1");
  auto evil = gate.route(request(http::verb::get, "//evil.example/x"), "192.0.2.1", now);
  EXPECT_EQ(std::get<Reply>(evil).headers.at(0).second, "/login");
}

TEST_F(GateWithUsers, BodyLimitIs64KiBBeforeLoginAndLargerAfter) {
  const auto anonymous = request(http::verb::post, "/login", "");
  ASSERT_TRUE(std::holds_alternative<std::size_t>(gate.admit_header(anonymous, 64 * 1024, now)));
  EXPECT_EQ(std::get<std::size_t>(gate.admit_header(anonymous, 64 * 1024, now)), kAnonymousBodyLimit);
  EXPECT_EQ(std::get<std::size_t>(gate.admit_header(anonymous, std::nullopt, now)), kAnonymousBodyLimit);
  auto refused = gate.admit_header(anonymous, 64 * 1024 + 1, now);
  ASSERT_TRUE(std::holds_alternative<Reply>(refused));
  EXPECT_EQ(std::get<Reply>(refused).status, 413);
  EXPECT_TRUE(std::get<Reply>(refused).close);

  const auto id = login("first-password");
  const auto logged_in = request(http::verb::post, "/api/v1/phones/import", "", id);
  EXPECT_EQ(std::get<std::size_t>(gate.admit_header(logged_in, 10 * 1024 * 1024, now)), kSessionBodyLimit);
  EXPECT_EQ(std::get<Reply>(gate.admit_header(logged_in, kSessionBodyLimit + 1, now)).status, 413);
  // A cookie of an unknown session is no session.
  const auto forged = request(http::verb::post, "/api/v1/phones/import", "", std::string(64, 'a'));
  EXPECT_EQ(std::get<Reply>(gate.admit_header(forged, 64 * 1024 + 1, now)).status, 413);
}

TEST_F(GateWithUsers, LoginAttemptsAreCountedBeforeTheCheck) {
  // Eleven logins read before any is checked: the eleventh is refused without a check.
  std::vector<PasswordLogin> pending;
  int refused = 0;
  for (int i = 0; i < 11; ++i) {
    auto route = gate.route(request(http::verb::post, "/login", R"({"user":"alice","password":"guess"})"), "192.0.2.9", now);
    if (auto* p = std::get_if<PasswordLogin>(&route)) pending.push_back(*p);
    else if (std::get<Reply>(route).status == 429) ++refused;
  }
  EXPECT_EQ(pending.size(), 10u);
  EXPECT_EQ(refused, 1);
  for (const auto& p : pending) EXPECT_EQ(gate.finish_login(p, gate.check_password(p), now).status, 401);
}

}  // namespace
}  // namespace capf::web
