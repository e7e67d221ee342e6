// The dashboard's login and request checks without sockets: password records, the users file,
// sessions, cookies, same-origin and Host checks, the login throttle, and the embedded pages.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "capf/crypto/crypto.hpp"
#include "capf/crypto/web.hpp"
#include "capf/util/text.hpp"
#include "capf/web/auth.hpp"
#include "capf/web/web_server.hpp"

namespace capf::web {
namespace {

TEST(WebPassword, VerifiesOnlyTheRightPasswordAndSaltsEveryRecord) {
  auto a = hash_password("correct horse", 1000);
  auto b = hash_password("correct horse", 1000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->iterations, 1000);
  EXPECT_EQ(a->salt_hex.size(), 32u);
  EXPECT_EQ(a->hash_hex.size(), 64u);
  EXPECT_NE(a->salt_hex, b->salt_hex);
  EXPECT_NE(a->hash_hex, b->hash_hex);
  EXPECT_TRUE(verify_password("correct horse", *a));
  EXPECT_FALSE(verify_password("correct horsE", *a));
  EXPECT_FALSE(verify_password("", *a));
  PasswordRecord other = *a;
  other.algorithm = "md5";
  EXPECT_FALSE(verify_password("correct horse", other));
  EXPECT_FALSE(hash_password("").ok());
}

TEST(WebPassword, Pbkdf2MatchesTheRfc7914Vector) {
  // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64).
  const std::string salt = "salt";
  auto key = crypto::pbkdf2_sha256("passwd", {reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()}, 1, 64);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(util::to_hex(*key).substr(0, 32), "55ac046e56e3089fec1691c22544b605");
}

TEST(WebUsers, FileIsWrittenWithMode0600AndReadBack) {
  char tmpl[] = "/tmp/capf-web-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = users_file(tmpl);
  auto none = load_users(path);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto rec = hash_password("s3cret-pass", 1000);
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(store_user(path, "alice", *rec).ok());
  ASSERT_TRUE(store_user(path, "bob", *rec).ok());
  EXPECT_FALSE(store_user(path, "bad name", *rec).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto users = load_users(path);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_TRUE(verify_password("s3cret-pass", users->at("alice")));
  ASSERT_TRUE(remove_user(path, "bob").ok());
  EXPECT_EQ(remove_user(path, "bob").error().code, Errc::not_found);
  EXPECT_EQ(load_users(path)->size(), 1u);
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

TEST(WebSessions, ExpireWhenIdleAndCarryTheirOwnCsrfToken) {
  SessionTable table(std::chrono::seconds(60));
  const std::int64_t t0 = 1'000'000;
  const auto a = table.create("alice", "", t0);
  const auto b = table.create("bob", "", t0);
  EXPECT_EQ(a.size(), 64u);
  auto sa = table.find(a, t0 + 1000);
  auto sb = table.find(b, t0 + 1000);
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ(sa->user, "alice");
  EXPECT_NE(sa->csrf, sb->csrf);
  EXPECT_FALSE(table.find("nope", t0));
  // find() extends; valid() does not.
  EXPECT_TRUE(table.find(a, t0 + 50'000));
  EXPECT_TRUE(table.valid(a, t0 + 100'000));
  EXPECT_FALSE(table.valid(b, t0 + 100'000));
  EXPECT_FALSE(table.find(b, t0 + 100'000));
  table.remove(a);
  EXPECT_FALSE(table.find(a, t0 + 100'000));
}

TEST(WebRequests, CookieValueFindsTheNamedCookieOnly) {
  EXPECT_EQ(cookie_value("a=1; __Host-capf_session=abc; b=2", "__Host-capf_session"), "abc");
  EXPECT_EQ(cookie_value("x__Host-capf_session=abc", "__Host-capf_session"), "");
  EXPECT_EQ(cookie_value("", "__Host-capf_session"), "");
}

TEST(WebRequests, SameOriginNeedsTheExactHttpsOrigin) {
  const std::string host = "127.0.0.1:8443";
  EXPECT_TRUE(same_origin("https://127.0.0.1:8443", "", host));
  EXPECT_FALSE(same_origin("http://127.0.0.1:8443", "", host));
  EXPECT_FALSE(same_origin("https://evil.example", "https://127.0.0.1:8443/", host));
  EXPECT_FALSE(same_origin("https://127.0.0.1:84430", "", host));
  EXPECT_FALSE(same_origin("null", "", host));
  EXPECT_TRUE(same_origin("", "https://127.0.0.1:8443/job?id=J0001", host));
  EXPECT_FALSE(same_origin("", "https://127.0.0.1:8443.evil.example/", host));
  EXPECT_FALSE(same_origin("", "", host));
  EXPECT_FALSE(same_origin("https://", "", ""));
}

TEST(WebRequests, HostMustNameThisServer) {
  const std::vector<std::string> names{"localhost", "127.0.0.1", "[::1]"};
  EXPECT_TRUE(host_allowed("localhost:8443", names, 8443));
  EXPECT_TRUE(host_allowed("LOCALHOST:8443", names, 8443));
  EXPECT_TRUE(host_allowed("[::1]:8443", names, 8443));
  EXPECT_FALSE(host_allowed("localhost:8444", names, 8443));
  EXPECT_FALSE(host_allowed("rebind.example:8443", names, 8443));
  EXPECT_FALSE(host_allowed("localhost", names, 8443));
  EXPECT_FALSE(host_allowed("", names, 8443));
}

TEST(WebAssets, EveryPageIsBuiltInAndLoadsNothingFromElsewhere) {
  std::vector<std::string> paths;
  for (const auto& a : assets()) {
    paths.emplace_back(a.path);
    EXPECT_FALSE(a.data.empty()) << a.path;
    // No CDN, no remote fonts or scripts: every reference stays on this server (the SVG
    // namespace name is an identifier, never fetched).
    std::string text(a.data);
    for (auto at = text.find("http://www.w3.org/2000/svg"); at != std::string::npos; at = text.find("http://www.w3.org/2000/svg"))
      text.erase(at, 26);
    EXPECT_EQ(text.find("http://"), std::string::npos) << a.path;
    EXPECT_EQ(text.find("https://"), std::string::npos) << a.path;
    EXPECT_EQ(text.find("//cdn"), std::string::npos) << a.path;
    if (a.path.ends_with(".html")) {
      EXPECT_EQ(a.content_type, "text/html; charset=utf-8");
      EXPECT_EQ(a.data.find("<script>"), std::string_view::npos) << a.path << ": inline script breaks the CSP";
      EXPECT_EQ(a.data.find(" style=\""), std::string_view::npos) << a.path << ": inline style breaks the CSP";
    }
  }
  for (const char* p : {"/index.html", "/login.html", "/job.html", "/jobs.html", "/submit.html", "/devices.html", "/trust.html",
                        "/csrs.html", "/policies.html", "/stale-lscs.html", "/audit.html", "/app.js", "/app.css", "/charts.js",
                        "/overview.js"})
    EXPECT_NE(std::find(paths.begin(), paths.end(), p), paths.end()) << p;
}

TEST(WebCertificate, IssuedByTheCapfCaForLoopbackNames) {
  auto ca = crypto::CertificateAuthority::create({});
  ASSERT_TRUE(ca.ok());
  auto id = crypto::issue_tls_server_identity(*ca, {"localhost"}, {"127.0.0.1", "::1"}, 90, util::now());
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto leaf = crypto::Certificate::from_pem(id->cert_pem);
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(leaf->subject_cn(), "localhost");
  EXPECT_TRUE(leaf->has_ext_key_usage("serverAuth"));
  EXPECT_FALSE(leaf->is_ca());
  crypto::TrustStore trust;
  trust.add(ca->certificate());
  EXPECT_TRUE(trust.verify(*leaf, util::now()).ok());
  EXPECT_FALSE(crypto::issue_tls_server_identity(*ca, {"bad,DNS:evil.example"}, {}, 90, util::now()).ok());
  EXPECT_FALSE(crypto::issue_tls_server_identity(*ca, {}, {"1.2.3.4,DNS:x"}, 90, util::now()).ok());
}

}  // namespace
}  // namespace capf::web
