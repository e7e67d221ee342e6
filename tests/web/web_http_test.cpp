// The dashboard of a real `capf serve --web 127.0.0.1:0`, over HTTPS on loopback: its
// certificate chains to the CAPF CA, unauthenticated and cross-site requests are refused, and
// a logged-in request reaches the same admin API the CLI uses.
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "capf/net/http_client.hpp"
#include "capf/util/text.hpp"
#include "integration/harness.hpp"

namespace capf::it {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class WebDashboard : public ::testing::Test {
 protected:
  void SetUp() override {
    data = dir / "data";
    daemon = std::make_unique<Daemon>(data, std::vector<std::string>{"--web", "127.0.0.1:0"});
    auto info = nlohmann::json::parse(slurp(data + "/daemon.json"));
    base = info["web"].get<std::string>();  // "https://127.0.0.1:PORT/"
    ASSERT_EQ(base.rfind("https://127.0.0.1:", 0), 0u) << base;
    base.pop_back();
    host = base.substr(8);
    ca = slurp(data + "/ca/capf-ca.pem");
    token = slurp(data + "/admin.token");
  }

  net::HttpResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                         std::vector<std::pair<std::string, std::string>> headers = {},
                         const std::string& content_type = "application/json") {
    net::HttpRequest r;
    r.method = method;
    r.url = base + path;
    r.body = body;
    r.content_type = content_type;
    r.headers = std::move(headers);
    r.ca_pem = ca;  // verified against the CAPF CA, host name included
    auto res = net::http_request(r);
    EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().message);
    return res.ok() ? *res : net::HttpResponse{};
  }

  /// Logs in with the admin token; returns {cookie header value, csrf token}.
  std::pair<std::string, std::string> login() {
    auto res = call("POST", "/login", nlohmann::json{{"token", token}}.dump(), {{"Origin", base}});
    EXPECT_EQ(res.status, 200) << res.body;
    const auto set_cookie = res.header("Set-Cookie");
    const auto value = set_cookie.substr(0, set_cookie.find(';'));
    return {value, nlohmann::json::parse(res.body).value("csrf", "")};
  }

  TempDir dir;
  std::string data, base, host, ca, token;
  std::unique_ptr<Daemon> daemon;
};

TEST_F(WebDashboard, CertificateChainsToTheCapfCaAndTheLoginPageNeedsNoSession) {
  auto res = call("GET", "/login");  // a verification failure would be a transport error
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("Log in to the dashboard"), std::string::npos);
  EXPECT_NE(res.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(res.header("X-Frame-Options"), "DENY");
}

TEST_F(WebDashboard, UnauthenticatedRequestsAreRefused) {
  EXPECT_EQ(call("GET", "/api/v1/jobs").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/phones").status, 401);
  EXPECT_EQ(call("GET", "/api/session").status, 401);
  EXPECT_EQ(call("GET", "/api/events").status, 401);
  auto page = call("GET", "/");
  EXPECT_EQ(page.status, 303);
  EXPECT_EQ(page.header("Location"), "/login");
  EXPECT_EQ(call("POST", "/api/v1/phones/import?file=x.csv", std::string(kCsvHeader), {{"Origin", base}}).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/jobs", "", {{"Cookie", "__Host-capf_session=" + std::string(64, 'a')}}).status, 401);
}

TEST_F(WebDashboard, WrongCredentialsAreRefusedAndTokenLoginSetsAStrictCookie) {
  EXPECT_EQ(call("POST", "/login", R"({"token":"nope"})", {{"Origin", base}}).status, 401);
  EXPECT_EQ(call("POST", "/login", R"({"user":"alice","password":"x"})", {{"Origin", base}}).status, 401);
  auto res = call("POST", "/login", nlohmann::json{{"token", token}}.dump(), {{"Origin", base}});
  ASSERT_EQ(res.status, 200) << res.body;
  const auto cookie = res.header("Set-Cookie");
  EXPECT_EQ(cookie.rfind("__Host-capf_session=", 0), 0u) << cookie;
  for (const char* attr : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"})
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr << " missing in " << cookie;
  EXPECT_EQ(nlohmann::json::parse(res.body)["csrf"].get<std::string>().size(), 64u);
  // Login itself is a state change: a cross-site login form is refused.
  EXPECT_EQ(call("POST", "/login", nlohmann::json{{"token", token}}.dump(), {{"Origin", "https://evil.example"}}).status, 403);
}

TEST_F(WebDashboard, CrossSiteAndTokenlessStateChangesAreRefused) {
  auto [cookie, csrf] = login();
  const std::string csv = std::string(kCsvHeader) + "SEP00000000A001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n";
  const std::string target = "/api/v1/phones/import?file=web.csv";
  // Logged in, but no CSRF token.
  EXPECT_EQ(call("POST", target, csv, {{"Cookie", cookie}, {"Origin", base}}).status, 403);
  // Wrong CSRF token.
  EXPECT_EQ(call("POST", target, csv, {{"Cookie", cookie}, {"Origin", base}, {"X-CSRF-Token", std::string(64, '0')}}).status, 403);
  // Right token, other site.
  EXPECT_EQ(call("POST", target, csv, {{"Cookie", cookie}, {"Origin", "https://evil.example"}, {"X-CSRF-Token", csrf}}).status, 403);
  // Right token, no Origin and no Referer.
  EXPECT_EQ(call("POST", target, csv, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status, 403);
  // Right token and origin, but a form's content type.
  EXPECT_EQ(call("POST", target, csv, {{"Cookie", cookie}, {"Origin", base}, {"X-CSRF-Token", csrf}}, "text/plain").status, 415);
  // A Host this server is not (DNS rebinding).
  EXPECT_EQ(call("GET", "/api/v1/phones", "", {{"Cookie", cookie}, {"Host", "rebind.example:" + host.substr(host.find(':') + 1)}}).status, 421);
  // A Host that is not UTF-8 is answered with the same refusal; the dashboard stays up.
  EXPECT_EQ(call("GET", "/api/v1/phones", "", {{"Cookie", cookie}, {"Host", "\xff\xfe.example"}}).status, 421);
  EXPECT_EQ(call("GET", "/login").status, 200);
  EXPECT_EQ(cli({"phones", "list", "--json", "--data-dir", data}).out.find("SEP00000000A001"), std::string::npos)
      << "a refused request changed the inventory";
  // Same-origin by Referer, with the token: accepted, and the device is in the inventory.
  auto ok = call("POST", target, csv, {{"Cookie", cookie}, {"Referer", base + "/submit"}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(nlohmann::json::parse(ok.body)["added"], 1);
  EXPECT_NE(cli({"phones", "list", "--json", "--data-dir", data}).out.find("SEP00000000A001"), std::string::npos);
}

TEST_F(WebDashboard, ApiAnswersWhatTheCliGetsAndAuditsTheWebUser) {
  auto set = shell("printf 'long-enough-pw\\n' | '" + std::string(CAPF_BINARY) + "' web passwd alice --data-dir '" + data + "'");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  struct stat st {};
  ASSERT_EQ(::stat((data + "/web-users.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(slurp(data + "/web-users.json").find("long-enough-pw"), std::string::npos);
  EXPECT_EQ(call("POST", "/login", R"({"user":"alice","password":"wrong-password"})", {{"Origin", base}}).status, 401);
  auto res = call("POST", "/login", R"({"user":"alice","password":"long-enough-pw"})", {{"Origin", base}});
  ASSERT_EQ(res.status, 200) << res.body;
  const auto cookie = res.header("Set-Cookie").substr(0, res.header("Set-Cookie").find(';'));
  const auto csrf = nlohmann::json::parse(res.body)["csrf"].get<std::string>();
  auto session = call("GET", "/api/session", "", {{"Cookie", cookie}});
  EXPECT_EQ(nlohmann::json::parse(session.body)["user"], "alice");

  const std::string csv = std::string(kCsvHeader) + "SEP00000000B001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n";
  ASSERT_EQ(call("POST", "/api/v1/phones/import?file=alice.csv", csv, {{"Cookie", cookie}, {"Origin", base}, {"X-CSRF-Token", csrf}}).status, 200);
  auto web = nlohmann::json::parse(call("GET", "/api/v1/phones/SEP00000000B001", "", {{"Cookie", cookie}}).body);
  auto cli_view = nlohmann::json::parse(cli({"phone", "show", "SEP00000000B001", "--json", "--data-dir", data}).out);
  EXPECT_EQ(web["device_pool"], cli_view["device_pool"]);
  EXPECT_EQ(web["status"], cli_view["status"]);
  auto audit = nlohmann::json::parse(call("GET", "/api/v1/audit?limit=10", "", {{"Cookie", cookie}}).body);
  bool by_alice = false;
  for (const auto& a : audit["audit"]) by_alice |= a["actor"] == "web:alice" && a["action"] == "phones.import";
  EXPECT_TRUE(by_alice) << audit.dump();

  // After logout the cookie is worthless.
  EXPECT_EQ(call("POST", "/logout", "{}", {{"Cookie", cookie}, {"Origin", base}, {"X-CSRF-Token", csrf}}).status, 200);
  EXPECT_EQ(call("GET", "/api/session", "", {{"Cookie", cookie}}).status, 401);
}

// Issue 19 item 9: what the CLI does for one phone, the trust stores and stale LSCs, the
// dashboard does through the same admin routes, each write refused without the CSRF token and
// audited as web:USER.
TEST_F(WebDashboard, PhoneTrustAndStaleLscEditsAreProtectedAndAuditedAsTheWebUser) {
  // Two stale LSCs (phones 7 and 1007 of a planted fleet), planted while the daemon is down.
  ASSERT_EQ(daemon->stop(), 0);
  auto planted = cli({"bench", "paging", "--devices", "1100", "--runs", "1", "--data-dir", data});
  ASSERT_EQ(planted.exit_code, 0) << planted.err;
  daemon->restart();
  base = nlohmann::json::parse(slurp(data + "/daemon.json"))["web"].get<std::string>();
  base.pop_back();
  auto set = shell("printf 'long-enough-pw\\n' | '" + std::string(CAPF_BINARY) + "' web passwd bob --data-dir '" + data + "'");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto res = call("POST", "/login", R"({"user":"bob","password":"long-enough-pw"})", {{"Origin", base}});
  ASSERT_EQ(res.status, 200) << res.body;
  const auto cookie = res.header("Set-Cookie").substr(0, res.header("Set-Cookie").find(';'));
  const auto csrf = nlohmann::json::parse(res.body)["csrf"].get<std::string>();
  const std::vector<std::pair<std::string, std::string>> with_token{{"Cookie", cookie}, {"Origin", base}, {"X-CSRF-Token", csrf}};
  const std::vector<std::pair<std::string, std::string>> without_token{{"Cookie", cookie}, {"Origin", base}};

  // One phone's CAPF settings.
  const std::string phone = "/api/v1/phones/SEP000000000001";
  const std::string edit = R"({"operation":"Install/Upgrade","auth_mode":"By Authentication String","auth_string":"482913"})";
  EXPECT_EQ(call("POST", phone, edit, without_token).status, 403);
  auto edited = call("POST", phone, edit, with_token);
  ASSERT_EQ(edited.status, 200) << edited.body;
  auto shown = nlohmann::json::parse(cli({"phone", "show", "SEP000000000001", "--json", "--data-dir", data}).out);
  EXPECT_EQ(shown["operation"], "Install/Upgrade");
  EXPECT_EQ(shown["auth_mode"], "By Authentication String");
  EXPECT_EQ(edited.body.find("482913"), std::string::npos) << "the string is never answered";

  // A CallManager-trust entry uploaded, then deleted: a root CA made here for the test.
  const std::string root = dir / "root.pem";
  auto made = shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '" + dir / "root.key" +
                    "' -out '" + root + "' -subj '/CN=Dashboard Test Root' -days 30 -addext basicConstraints=critical,CA:TRUE "
                    "-addext keyUsage=critical,keyCertSign,cRLSign 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const auto encoded = shell("base64 -w0 '" + root + "'");
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  const std::string base64 = encoded.out;
  const std::string upload = nlohmann::json{{"store", "callmanager-trust"}, {"file", "root.pem"}, {"description", "from the web"},
                                            {"data", base64}}.dump();
  EXPECT_EQ(call("POST", "/api/v1/trust", upload, without_token).status, 403);
  auto uploaded = call("POST", "/api/v1/trust", upload, with_token);
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  const auto added = nlohmann::json::parse(uploaded.body)["added"];
  ASSERT_EQ(added.size(), 1u) << uploaded.body;
  const std::string id = added[0]["id"];
  EXPECT_NE(cli({"trust", "list", "--store", "callmanager-trust", "--data-dir", data}).out.find(id), std::string::npos);
  const std::string remove = "/api/v1/trust/" + id + "/delete?store=callmanager-trust";
  EXPECT_EQ(call("POST", remove, "{}", without_token).status, 403);
  ASSERT_EQ(call("POST", remove, "{}", with_token).status, 200);
  EXPECT_EQ(cli({"trust", "list", "--store", "callmanager-trust", "--data-dir", data}).out.find(id), std::string::npos);

  // The stale LSCs, deleted all at once.
  EXPECT_EQ(call("POST", "/api/v1/stale-lscs/delete", R"({"all":true})", without_token).status, 403);
  auto stale = call("POST", "/api/v1/stale-lscs/delete", R"({"all":true})", with_token);
  ASSERT_EQ(stale.status, 200) << stale.body;
  EXPECT_EQ(nlohmann::json::parse(stale.body)["deleted"], 2);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/stale-lscs", "", {{"Cookie", cookie}}).body)["lscs"].size(), 0u);

  auto audit = nlohmann::json::parse(call("GET", "/api/v1/audit?limit=20", "", {{"Cookie", cookie}}).body)["audit"];
  std::multiset<std::string> by_bob;
  for (const auto& a : audit)
    if (a["actor"] == "web:bob") by_bob.insert(a["action"].get<std::string>());
  EXPECT_EQ(by_bob, (std::multiset<std::string>{"phone.set", "trust.upload", "trust.delete", "stale-lsc.delete", "stale-lsc.delete"}))
      << audit.dump();
}

TEST(WebDashboardStart, NonLoopbackAddressNeedsTheExplicitFlag) {
  TempDir dir;
  auto r = cli({"serve", "--data-dir", dir / "data", "--listen", "127.0.0.1:0", "--web", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--web-allow-remote"), std::string::npos) << r.err;
  auto bad = cli({"serve", "--data-dir", dir / "data", "--listen", "127.0.0.1:0", "--web", "nowhere"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

}  // namespace
}  // namespace capf::it
