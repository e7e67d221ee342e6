// The service parameters: table, ranges with clear errors, secrets never shown, load/save in
// the store, and the admin routes (audit without secrets, the change callback).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "capf/config/admin_routes.hpp"
#include "capf/config/params.hpp"

namespace capf::config {
namespace {

class FixedClock : public util::Clock {
 public:
  util::UnixTime now() const override { return 1'800'000'000; }
};

struct TempStore {
  TempStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "capf-config-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir = tmpl;
    auto s = store::Store::open(dir + "/db");
    EXPECT_TRUE(s.ok());
    store = std::move(*s);
  }
  ~TempStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  std::unique_ptr<store::Store> store;
};

TEST(Params, TableNamesTheSeedParametersWithTheirRanges) {
  for (const char* name : {"issuer", "validity-days", "key-size", "keygen-timeout", "keygen-attempts", "keep-alive",
                           "enable-ipv6", "expiry-notice-days", "notify-email", "smtp-url", "smtp-from", "online-ca-type",
                           "online-ca-host", "online-ca-port", "online-ca-template", "online-ca-username",
                           "online-ca-password", "online-ca-auth-key", "online-ca-connect-address", "online-ca-timeout",
                           "online-ca-poll-interval"})
    EXPECT_NE(find_parameter(name), nullptr) << name;
  const auto* ka = find_parameter("keep-alive");
  ASSERT_NE(ka, nullptr);
  EXPECT_EQ(ka->min, 5);
  EXPECT_EQ(ka->max, 60);
  EXPECT_EQ(shown_default(*ka), "15");
  EXPECT_EQ(ka->unit, "minutes");
  EXPECT_EQ(shown_range(*find_parameter("validity-days")), "1–1825");
  EXPECT_EQ(shown_default(*find_parameter("validity-days")), "1825");
  EXPECT_TRUE(find_parameter("online-ca-password")->secret);
  EXPECT_TRUE(find_parameter("online-ca-auth-key")->secret);
  EXPECT_FALSE(find_parameter("online-ca-username")->secret);
  EXPECT_NE(find_parameter("keep_alive"), nullptr) << "underscores are accepted";
  EXPECT_EQ(find_parameter("nonsense"), nullptr);
}

TEST(Params, OutOfRangeGivesOneClearLine) {
  ServiceParams p;
  auto r = set_parameter(p, "keep-alive", "61");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "keep-alive must be 5–60 minutes, got 61");
  EXPECT_EQ(p.keep_alive_min, 15) << "a refused value changes nothing";
  EXPECT_FALSE(set_parameter(p, "keep-alive", "4").ok());
  EXPECT_FALSE(set_parameter(p, "keep-alive", "ten").ok());
  EXPECT_EQ(set_parameter(p, "validity-days", "0").error().message,
            "validity-days must be 1–1825 days, got 0");
  EXPECT_EQ(set_parameter(p, "key-size", "1000").error().message,
            "key-size must be one of 1024, 2048, 3072, 4096, got \"1000\"");
  EXPECT_FALSE(set_parameter(p, "online-ca-port", "70000").ok());
  EXPECT_FALSE(set_parameter(p, "smtp-url", "http://x").ok());
  EXPECT_FALSE(set_parameter(p, "notify-email", "not-an-address").ok());
  EXPECT_FALSE(set_parameter(p, "online-ca-auth-key", "xyz").ok());
  EXPECT_EQ(set_parameter(p, "frobnicate", "1").error().code, Errc::not_found);
}

TEST(Params, SetParsesAndNormalises) {
  ServiceParams p;
  ASSERT_TRUE(set_parameter(p, "keep-alive", " 60 ").ok());
  EXPECT_EQ(p.keep_alive_min, 60);
  ASSERT_TRUE(set_parameter(p, "issuer", "online-ca").ok());
  EXPECT_EQ(p.issuer, IssuerKind::online_ca);
  EXPECT_EQ(shown_value(p, *find_parameter("issuer")), "Online CA");
  ASSERT_TRUE(set_parameter(p, "enable-ipv6", "no").ok());
  EXPECT_FALSE(p.enable_ipv6);
  ASSERT_TRUE(set_parameter(p, "online-ca-type", "Microsoft CA").ok());
  EXPECT_EQ(p.online_ca.type, "microsoft");
  ASSERT_TRUE(set_parameter(p, "online-ca-password", " pass word ").ok());
  EXPECT_EQ(p.online_ca.password, " pass word ") << "secrets keep their exact bytes";
  ASSERT_TRUE(reset_parameter(p, "keep-alive").ok());
  EXPECT_EQ(p.keep_alive_min, 15);
}

TEST(Params, SecretsAreNeverShownOrAudited) {
  ServiceParams before;
  ServiceParams after = before;
  const auto* pw = find_parameter("online-ca-password");
  EXPECT_EQ(shown_value(after, *pw), "(not set)");
  ASSERT_TRUE(set_parameter(after, "online-ca-password", "hunter2-secret").ok());
  EXPECT_EQ(shown_value(after, *pw), "(set)");
  EXPECT_EQ(change_detail(*pw, before, after), "online-ca-password set");
  auto bad = set_parameter(after, "online-ca-password", std::string("bad\x01secret"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("secret"), std::string::npos) << "the value is never repeated";
  const auto* ka = find_parameter("keep-alive");
  ServiceParams k = before;
  ASSERT_TRUE(set_parameter(k, "keep-alive", "20").ok());
  EXPECT_EQ(change_detail(*ka, before, k), "keep-alive: 15 -> 20");
}

TEST(Params, RetryBaseMayNotExceedCeiling) {
  ServiceParams p;
  ASSERT_TRUE(set_parameter(p, "online-ca-retry-ceiling", "60").ok());
  auto r = set_parameter(p, "online-ca-retry-base", "120");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("must not exceed online-ca-retry-ceiling"), std::string::npos);
}

TEST(Params, LoadGivesDefaultsThenWhatWasSaved) {
  TempStore ts;
  auto p = load(*ts.store);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->keep_alive_min, 15);
  p->keep_alive_min = 30;
  p->online_ca.password = "s3cret";
  ASSERT_TRUE(save(*ts.store, *p, {}).ok());
  auto again = load(*ts.store);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->keep_alive_min, 30);
  EXPECT_EQ(again->online_ca.password, "s3cret");
  p->keep_alive_min = 61;
  EXPECT_FALSE(save(*ts.store, *p, {}).ok()) << "save validates";
}

TEST(Params, SmtpCredentialsAreSecretsAndNeverRideInTheUrl) {
  EXPECT_TRUE(find_parameter("smtp-user")->secret);
  EXPECT_TRUE(find_parameter("smtp-password")->secret);
  EXPECT_FALSE(find_parameter("smtp-allow-plain")->secret);
  ServiceParams p;
  auto r = set_parameter(p, "smtp-url", "smtp://notices:Mail-Pa55@mail.example:587");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("must not hold credentials"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("Mail-Pa55"), std::string::npos) << r.error().message;
  ASSERT_TRUE(set_parameter(p, "smtp-url", "smtp://mail.example:587"));
  ASSERT_TRUE(set_parameter(p, "smtp-user", "notices"));
  ASSERT_TRUE(set_parameter(p, "smtp-password", " Mail Pa55 "));
  EXPECT_EQ(p.smtp_password, " Mail Pa55 ");
  EXPECT_EQ(shown_value(p, *find_parameter("smtp-user")), "(set)");
  EXPECT_EQ(shown_value(p, *find_parameter("smtp-password")), "(set)");
  auto bad = set_parameter(p, "smtp-user", "no tices");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("no tices"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(warnings(p).empty());
  ASSERT_TRUE(set_parameter(p, "smtp-allow-plain", "yes"));
  ASSERT_EQ(warnings(p).size(), 1u);
  EXPECT_NE(warnings(p)[0].find("smtp-allow-plain"), std::string::npos);
  // The Online CA host refuses credentials the same way.
  r = set_parameter(p, "online-ca-host", "admin:Ca-Pa55@ca.example");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("Ca-Pa55"), std::string::npos) << r.error().message;
}

TEST(Params, CredentialsStoredInAnOldSmtpUrlMoveToTheSecrets) {
  ServiceParams old;
  old.smtp_url = "smtp://notices:Mail%3APa55@mail.example:587";  // what an older capf accepted and stored
  auto back = decode_params(encode_params(old));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->smtp_url, "smtp://mail.example:587");
  EXPECT_EQ(back->smtp_user, "notices");
  EXPECT_EQ(back->smtp_password, "Mail:Pa55");
  EXPECT_EQ(shown_value(*back, *find_parameter("smtp-url")), "smtp://mail.example:587");
}

TEST(Params, OnlineCaSchemeIsHttpsUnlessHttpIsChosen) {
  ServiceParams p;
  EXPECT_TRUE(p.online_ca.https);
  EXPECT_EQ(shown_value(p, *find_parameter("online-ca-scheme")), "https");
  // Stored parameters of an older capf carried "https": false without anyone choosing it.
  auto old = decode_params(R"({"online_ca":{"type":"cfssl","https":false}})");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->online_ca.https);
  ASSERT_TRUE(set_parameter(p, "online-ca-type", "cfssl"));
  ASSERT_TRUE(set_parameter(p, "online-ca-scheme", "HTTP"));
  EXPECT_FALSE(p.online_ca.https);
  EXPECT_FALSE(decode_params(encode_params(p))->online_ca.https);
  ASSERT_EQ(warnings(p).size(), 1u);
  EXPECT_NE(warnings(p)[0].find("whoever is on the path can issue LSCs"), std::string::npos) << warnings(p)[0];
  EXPECT_FALSE(set_parameter(p, "online-ca-scheme", "ftp"));
}

TEST(Routes, SetStoresAuditsWithoutSecretsAndCallsBack) {
  TempStore ts;
  FixedClock clock;
  std::vector<ServiceParams> seen;
  AdminRoutes routes(*ts.store, clock, [&](const ServiceParams& p) { seen.push_back(p); });
  admin::Request set{"POST", "/v1/config/keep-alive", R"({"value":"20"})", "alice"};
  auto r = routes.handle(set, "/v1/config/keep-alive", "");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200) << r->body.dump();
  EXPECT_EQ(r->body["value"], "20");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].keep_alive_min, 20);

  admin::Request bad{"POST", "/v1/config/keep-alive", R"({"value":"61"})", "alice"};
  r = routes.handle(bad, "/v1/config/keep-alive", "");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body["error"], "keep-alive must be 5–60 minutes, got 61");
  EXPECT_EQ(seen.size(), 1u);

  admin::Request pw{"POST", "/v1/config/online-ca-password", R"({"value":"hunter2-secret"})", "bob"};
  r = routes.handle(pw, "/v1/config/online-ca-password", "");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.dump().find("hunter2"), std::string::npos);
  auto list = routes.handle({"GET", "/v1/config", "", "bob"}, "/v1/config", "");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->body.dump().find("hunter2"), std::string::npos);

  auto audit = ts.store->list_audit();
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].actor, "alice");
  EXPECT_EQ((*audit)[0].action, "config.set");
  EXPECT_EQ((*audit)[0].subject, "keep-alive");
  EXPECT_EQ((*audit)[0].detail, "keep-alive: 15 -> 20");
  EXPECT_EQ((*audit)[1].detail, "online-ca-password set");
  for (const auto& a : *audit) EXPECT_EQ(a.detail.find("hunter2"), std::string::npos);

  auto reset = routes.handle({"POST", "/v1/config/keep-alive", R"({"reset":true})", "alice"}, "/v1/config/keep-alive", "");
  EXPECT_EQ(reset->body["value"], "15");
  EXPECT_EQ(routes.handle({"GET", "/v1/config/nope", "", "a"}, "/v1/config/nope", "")->status, 404);
  EXPECT_FALSE(routes.handle({"GET", "/v1/other", "", "a"}, "/v1/other", "").has_value());
}

}  // namespace
}  // namespace capf::config
