// A policy's two JSON forms (policy.hpp's stored record, policy_routes.hpp's admin API form) from one
// list of fields (policy/src/policy_json.hpp): a round trip of every field, what each form
// adds, and stored records capf would never write.
#include <gtest/gtest.h>

#include <string>

#include "capf/policy/policy.hpp"
#include "capf/policy/policy_routes.hpp"

namespace capf::policy {
namespace {

Policy full_policy() {
  Policy p;
  p.name = "nightly";
  p.where = "device_pool = \"DP-HQ\"";
  p.template_name = "rsa-4096";
  p.windows = {"0 22 * * * 6h UTC"};
  p.blackouts = {"2026-12-24T00:00Z/2026-12-27T00:00Z"};
  p.rate_per_minute = 120;
  p.max_in_flight = 40;
  p.renew_at_fraction = 0.5;
  p.renew_days_before = 30;
  p.install_missing = true;
  p.reenroll_retired_ca = true;
  p.reenroll_revoked = true;
  p.jitter_nights = 3;
  p.paused = true;
  p.created_at = 1'700'000'000;
  p.created_by = "admin";
  return p;
}

TEST(PolicyCodec, StoredRecordKeepsEveryField) {
  const auto p = full_policy();
  auto back = decode_policy(encode_policy(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->name, p.name);
  EXPECT_EQ(back->where, p.where);
  EXPECT_EQ(back->template_name, p.template_name);
  EXPECT_EQ(back->windows, p.windows);
  EXPECT_EQ(back->blackouts, p.blackouts);
  EXPECT_EQ(back->rate_per_minute, p.rate_per_minute);
  EXPECT_EQ(back->max_in_flight, p.max_in_flight);
  EXPECT_EQ(back->renew_at_fraction, p.renew_at_fraction);
  EXPECT_EQ(back->renew_days_before, p.renew_days_before);
  EXPECT_EQ(back->install_missing, p.install_missing);
  EXPECT_EQ(back->reenroll_retired_ca, p.reenroll_retired_ca);
  EXPECT_EQ(back->reenroll_revoked, p.reenroll_revoked);
  EXPECT_EQ(back->jitter_nights, p.jitter_nights);
  EXPECT_EQ(back->paused, p.paused);
  EXPECT_EQ(back->created_at, p.created_at);
  EXPECT_EQ(back->created_by, p.created_by);
}

TEST(PolicyCodec, ApiFormNamesTheStateAndShowsTheRuleInForce) {
  auto p = full_policy();
  auto j = policy_json(p);
  EXPECT_EQ(j.at("state"), "paused");
  EXPECT_TRUE(j.at("created_at").is_string());
  EXPECT_EQ(j.at("renew_days_before"), 30);
  EXPECT_FALSE(j.contains("renew_at_fraction"));
  EXPECT_EQ(j.at("rate_per_minute"), 120);
  EXPECT_EQ(j.at("windows"), nlohmann::json(p.windows));
  EXPECT_EQ(j.at("created_by"), "admin");
  p.paused = false;
  p.renew_days_before = 0;
  j = policy_json(p);
  EXPECT_EQ(j.at("state"), "active");
  EXPECT_EQ(j.at("renew_at_fraction"), 0.5);
  EXPECT_FALSE(j.contains("renew_days_before"));
  EXPECT_FALSE(j.contains("paused"));
}

TEST(PolicyCodec, MissingOptionalFieldsTakeThePolicyDefaults) {
  auto p = decode_policy(R"({"name": "n", "template": "t", "created_at": 5})");
  ASSERT_TRUE(p) << p.error().message;
  const Policy defaults;
  EXPECT_EQ(p->renew_at_fraction, defaults.renew_at_fraction);
  EXPECT_EQ(p->jitter_nights, defaults.jitter_nights);
  EXPECT_TRUE(p->windows.empty());
  EXPECT_FALSE(p->paused);
}

TEST(PolicyCodec, StoredRecordsThatAreNotPoliciesAreErrors) {
  const std::string hostile[] = {
      "",
      "null",
      "[]",
      "\"policy\"",
      "{\"name\": \"n\"",                                               // cut short
      "{\"template\": \"t\", \"created_at\": 5}",                       // no name
      "{\"name\": 7, \"template\": \"t\", \"created_at\": 5}",          // name of the wrong type
      "{\"name\": \"n\", \"template\": \"t\", \"created_at\": \"x\"}",  // time of the wrong type
      "{\"name\": \"n\", \"template\": \"t\", \"created_at\": 5, \"windows\": \"0 22 * * *\"}",
      "{\"name\": \"n\", \"template\": \"t\", \"created_at\": 5, \"jitter_nights\": 1e999}",
      "{\"name\": \"n\", \"template\": \"t\", \"created_at\": 5, \"max_in_flight\": [1]}",
      std::string(10'000, '{'),
  };
  for (const auto& text : hostile) {
    SCOPED_TRACE(text.substr(0, 80));
    auto p = decode_policy(text);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, Errc::io);
    EXPECT_NE(p.error().message.find("policy record"), std::string::npos) << p.error().message;
  }
}

}  // namespace
}  // namespace capf::policy
