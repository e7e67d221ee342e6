// The admin API's job spec reader: JSON into a JobSpec, type errors named by the option, numbers
// narrowed only after they are checked, and every rule left to JobSpec::validate.
#include <gtest/gtest.h>

#include <filesystem>

#include "capf/admin/admin_service.hpp"

using namespace capf;

namespace {

std::string error_of(const std::string& body) {
  auto r = admin::read_job_spec(nlohmann::json::parse(body), "UTC");
  return r.ok() ? "(accepted)" : r.error().message;
}

}  // namespace

TEST(JobSpecJson, ASubmissionBecomesItsSpec) {
  auto r = admin::read_job_spec(nlohmann::json::parse(R"({
      "operation": "install", "auth_mode": "string", "auth_string": "13579", "string_length": "6",
      "key_size": "3072", "ec_key_size": 384, "key_order": "ec-rsa", "start_at": "2027-01-02T03:04:05Z",
      "completes_by": "2027-02-01T00:00:00Z", "windows": ["0 1 * * 6 4h Europe/Berlin"],
      "blackouts": ["2026-12-24T00:00Z/2026-12-27T00:00Z"], "rate": 120, "burst": 4, "max_in_flight": 7.9,
      "max_attempts": 5, "description": "lobby", "hold": true, "where": "all", "dry_run": true})"),
                                "UTC");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Job& j = r->job;
  EXPECT_EQ(j.operation, CertificateOperation::install_upgrade);
  EXPECT_EQ(j.auth_mode, AuthMode::auth_string);
  EXPECT_EQ(j.string_policy, StringPolicy::shared) << "a shared string without a policy means policy shared";
  EXPECT_EQ(r->shared_string, "13579");
  EXPECT_EQ(r->string_length, 6);
  EXPECT_EQ(j.rsa_key_bits, 3072);
  EXPECT_EQ(j.ec_key_bits, 384);
  EXPECT_EQ(j.key_order, KeyOrder::ec_preferred_rsa_backup);
  EXPECT_EQ(j.start_at, util::parse_iso8601("2027-01-02T03:04:05Z").value());
  EXPECT_EQ(j.completes_by, util::parse_iso8601("2027-02-01T00:00:00Z").value());
  EXPECT_EQ(j.windows, std::vector<std::string>{"0 1 * * 6 4h Europe/Berlin"});
  EXPECT_EQ(j.blackouts.size(), 1u);
  EXPECT_EQ(j.rate_per_minute, 120);
  EXPECT_EQ(j.burst, 4);
  EXPECT_EQ(j.max_in_flight, 7);
  EXPECT_EQ(j.max_attempts, 5);
  EXPECT_EQ(j.description, "lobby");
  EXPECT_EQ(j.state, JobState::held);
  EXPECT_TRUE(r->default_canary) << "no canary given: the default fills it in";
  EXPECT_TRUE(r->default_max_fail_pct);

  r = admin::read_job_spec(nlohmann::json::parse(R"({"operation":"delete","canary":0,"max_fail_pct":null})"), "UTC");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->default_canary);
  EXPECT_TRUE(r->default_max_fail_pct) << "null is left out";
  EXPECT_EQ(r->job.state, JobState::active);
}

TEST(JobSpecJson, TypeErrorsNameTheOption) {
  const std::pair<const char*, const char*> rows[] = {
      {R"([1, 2])", "a job submission must be a JSON object"},
      {R"({"operation":"renew"})", "--operation must be install, delete or troubleshoot"},
      {R"({"operation":"install","auth_mode":"password"})",
       "unknown Authentication Mode \"password\" (string, null, lsc, mic)"},
      {R"({"operation":"install","string_policy":"random"})",
       "unknown --string-policy \"random\" (keep, unique, shared, csv)"},
      {R"({"operation":"install","key_order":"rsa-first"})",
       "unknown --key-order \"rsa-first\" (rsa, ec, ec-rsa, rsa-ec)"},
      {R"({"operation":"install","auth_string":""})",
       "--auth-string is empty (leave it out to generate a shared string)"},
      {R"({"operation":"install","rate":"fast"})", "--rate must be a number"},
      {R"({"operation":"install","burst":[1]})", "--burst must be a number"},
      {R"({"operation":"install","max_in_flight":"4"})", "--max-in-flight must be a number"},
      {R"({"operation":"install","canary":true})", "--canary must be a number"},
      {R"({"operation":"install","max_fail_pct":"20%"})", "--max-fail-pct must be a number"},
      {R"({"operation":"install","max_attempts":{}})", "--max-attempts must be a number"},
      {R"({"operation":"install","key_size":"big"})", "--key-size must be a whole number"},
      {R"({"operation":"install","ec_key_size":256.5})", "--ec-key-size must be a whole number"},
      {R"({"operation":"install","string_length":"eight"})", "--string-length must be a whole number"},
      {R"({"operation":"install","windows":"0 1 * * 6 4h UTC"})", "--window must be a list of texts"},
      {R"({"operation":"install","blackouts":[5]})", "--blackout must be a list of texts"},
      {R"({"operation":"install","hold":"yes"})", "hold must be true or false"},
      {R"({"operation":"install","start_at":"soon"})",
       "--start-at \"soon\" is not a date/time (YYYY-MM-DD[THH:MM[:SS]][Z])"},
  };
  for (const auto& [body, error] : rows) EXPECT_EQ(error_of(body), error) << body;
  EXPECT_EQ(error_of(R"({"operation":"install","completes_by":"24.12.2031"})").rfind("--completes-by: ", 0), 0u);
}

TEST(JobSpecJson, NumbersBeyondTheirFieldAreRefusedInTheRulesWordsNotWrapped) {
  // 2^32 + 2048 once wrapped to a valid 2048-bit key size; 2^32 + 5 to a 5-digit string length.
  const std::pair<const char*, const char*> rows[] = {
      {R"({"operation":"install","key_size":"4294969344"})", "--key-size must be 1024, 2048, 3072 or 4096"},
      {R"({"operation":"install","key_size":4294969344})", "--key-size must be 1024, 2048, 3072 or 4096"},
      {R"({"operation":"install","ec_key_size":-4294966912})", "--ec-key-size must be 256, 384 or 521"},
      {R"({"operation":"install","string_length":4294967301})", "--string-length must be 4–10 digits"},
      {R"({"operation":"install","string_length":99999999999999999999})", "--string-length must be 4–10 digits"},
      {R"({"operation":"install","canary":1e300})", "--canary must be between 0 and 1e+06"},
      {R"({"operation":"install","max_in_flight":4294967297})", "--max-in-flight must be between 0 and 1e+06"},
      {R"({"operation":"install","max_attempts":-1e300})", "--max-attempts must be between 1 and 100"},
  };
  for (const auto& [body, error] : rows) EXPECT_EQ(error_of(body), error) << body;
}

TEST(JobSpecJson, TheRulesAreJobSpecValidates) {
  EXPECT_EQ(error_of(R"({"where":"all"})"), "a job needs a Certificate Operation: install, delete or troubleshoot");
  EXPECT_EQ(error_of(R"({"operation":"none"})"),
            "a job needs a Certificate Operation: install, delete or troubleshoot");
  EXPECT_EQ(error_of(R"({"operation":"install","max_attempts":0})"), "--max-attempts must be between 1 and 100");
  EXPECT_EQ(error_of(R"({"operation":"install","auth_string":"12ab"})"), "--auth-string must be 4–10 digits");
  EXPECT_EQ(error_of(R"({"operation":"install","windows":["0 1 * * 6 4h"]})").rfind("window \"0 1 * * 6 4h\": ", 0),
            0u);
  EXPECT_EQ(error_of(R"({"operation":"install","burst":0})"), "(accepted)") << "0 is the automatic burst";
}

namespace {

class NoTrigger : public engine::TriggerRunner {
 public:
  void trigger(const std::string&, const Device&, std::function<void(engine::TriggerResult)> done) override {
    done(engine::TriggerResult{});
  }
};

}  // namespace

TEST(JobSpecJson, ASpecErrorIsAnsweredBeforeTheCsvIsImported) {
  char tmpl[] = "/tmp/capf-jobspec-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    util::ManualClock clock{1'800'000'000};
    NoTrigger runner;
    auto store = std::move(store::Store::open(dir + "/store").value());
    engine::Engine engine(*store, clock, runner, engine::EngineConfig{});
    admin::AdminService service(*store, admin::CaInfo{}, clock, &engine);
    const nlohmann::json body = {{"operation", "install"},
                                 {"csv", "Device Name\nSEP0000000A0001\n"},
                                 {"csv_name", "site.csv"},
                                 {"windows", {"0 1 * * 6 4h"}}};
    auto r = service.handle(admin::Request{"POST", "/v1/jobs", body.dump(), "test"});
    EXPECT_EQ(r.status, 400) << r.body.dump();
    EXPECT_EQ(r.body["error"].get<std::string>().rfind("window \"0 1 * * 6 4h\": ", 0), 0u) << r.body.dump();
    EXPECT_FALSE(store->get_device("SEP0000000A0001").value().has_value()) << "nothing is imported for a bad spec";
  }
  std::filesystem::remove_all(dir);
}
