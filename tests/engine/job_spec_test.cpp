// JobSpec::validate, the one place a job spec's rules live: one row per rule (a spec that breaks
// it and the words it gets), a spec that passes, and the engine refusing a bad spec from a caller
// that never went through the admin API.
#include <cmath>
#include <functional>

#include "engine_fixture.hpp"

using namespace capf::engine_test;

namespace {

/// A spec every rule accepts: what `capf job submit --operation install` sends, with each
/// optional setting given a valid value.
JobSpec good_spec() {
  JobSpec s;
  s.job = install_job();
  s.job.auth_mode = AuthMode::auth_string;
  s.job.string_policy = StringPolicy::shared;
  s.shared_string = "1234567890";
  s.string_length = 10;
  s.job.rsa_key_bits = 4096;
  s.job.ec_key_bits = 521;
  s.job.key_order = KeyOrder::ec_preferred_rsa_backup;
  s.job.rate_per_minute = 1e6;
  s.job.burst = 1;
  s.job.max_in_flight = 1'000'000;
  s.job.canary = 0;
  s.job.max_fail_pct = 100;
  s.job.max_attempts = 100;
  s.job.windows = {"0 1 * * 6 4h Europe/Berlin"};
  s.job.blackouts = {"2026-12-24T00:00Z/2026-12-27T00:00Z", "0 0 1 1 * 1d UTC"};
  return s;
}

struct Row {
  const char* rule;
  std::function<void(JobSpec&)> breaks;
  std::string error;  ///< the whole message, or its start where the parser's words follow
};

const std::vector<Row>& rows() {
  static const std::vector<Row> all = {
      {"an operation", [](JobSpec& s) { s.job.operation = CertificateOperation::none; },
       "a job needs a Certificate Operation: install, delete or troubleshoot"},
      {"shared string digits", [](JobSpec& s) { s.shared_string = "12a4"; }, "--auth-string must be 4–10 digits"},
      {"shared string length", [](JobSpec& s) { s.shared_string = "123"; }, "--auth-string must be 4–10 digits"},
      {"shared string under any policy",
       [](JobSpec& s) {
         s.job.string_policy = StringPolicy::unique;
         s.shared_string = "12345678901";
       },
       "--auth-string must be 4–10 digits"},
      {"generated strings short", [](JobSpec& s) { s.string_length = 3; }, "--string-length must be 4–10 digits"},
      {"generated strings long", [](JobSpec& s) { s.string_length = 11; }, "--string-length must be 4–10 digits"},
      {"RSA key size", [](JobSpec& s) { s.job.rsa_key_bits = 2000; }, "--key-size must be 1024, 2048, 3072 or 4096"},
      {"EC key size", [](JobSpec& s) { s.job.ec_key_bits = 512; }, "--ec-key-size must be 256, 384 or 521"},
      {"rate below 0", [](JobSpec& s) { s.job.rate_per_minute = -1; }, "--rate must be between 0 and 1e+06"},
      {"rate above 1e6", [](JobSpec& s) { s.job.rate_per_minute = 1e6 + 1; }, "--rate must be between 0 and 1e+06"},
      {"rate not a number", [](JobSpec& s) { s.job.rate_per_minute = std::nan(""); },
       "--rate must be between 0 and 1e+06"},
      {"burst below 1", [](JobSpec& s) { s.job.burst = 0.5; }, "--burst must be between 1 and 1e+06"},
      {"burst negative", [](JobSpec& s) { s.job.burst = -3; }, "--burst must be between 1 and 1e+06"},
      {"burst above 1e6", [](JobSpec& s) { s.job.burst = 2e6; }, "--burst must be between 1 and 1e+06"},
      {"max in flight", [](JobSpec& s) { s.job.max_in_flight = -1; }, "--max-in-flight must be between 0 and 1e+06"},
      {"canary below 0", [](JobSpec& s) { s.job.canary = -1; }, "--canary must be between 0 and 1e+06"},
      {"canary above 1e6", [](JobSpec& s) { s.job.canary = 1'000'001; }, "--canary must be between 0 and 1e+06"},
      {"failure share below 0", [](JobSpec& s) { s.job.max_fail_pct = -0.5; },
       "--max-fail-pct must be between 0 and 100"},
      {"failure share above 100", [](JobSpec& s) { s.job.max_fail_pct = 100.5; },
       "--max-fail-pct must be between 0 and 100"},
      {"attempts at least 1", [](JobSpec& s) { s.job.max_attempts = 0; }, "--max-attempts must be between 1 and 100"},
      {"attempts at most 100", [](JobSpec& s) { s.job.max_attempts = 101; },
       "--max-attempts must be between 1 and 100"},
      {"windows parse", [](JobSpec& s) { s.job.windows.push_back("0 1 * * 6 4h"); },
       "window \"0 1 * * 6 4h\": window '0 1 * * 6 4h' needs 'MIN HOUR DOM MON DOW DURATION TZ'"},
      {"window durations", [](JobSpec& s) { s.job.windows = {"0 1 * * 6 40d UTC"}; }, "window \"0 1 * * 6 40d UTC\": "},
      {"blackouts parse", [](JobSpec& s) { s.job.blackouts = {"christmas"}; },
       "blackout \"christmas\": blackout 'christmas' is neither START/END"},
      {"blackouts end after they start", [](JobSpec& s) { s.job.blackouts = {"2026-12-27T00:00Z/2026-12-24T00:00Z"}; },
       "blackout \"2026-12-27T00:00Z/2026-12-24T00:00Z\": blackout '2026-12-27T00:00Z/2026-12-24T00:00Z' ends before "
       "it starts"},
  };
  return all;
}

}  // namespace

TEST(JobSpec, AGoodSpecPasses) {
  auto r = good_spec().validate();
  EXPECT_TRUE(r.ok()) << r.error().message;
  // The lower ends of every range, the automatic burst and no windows pass too.
  JobSpec low;
  low.job = install_job();
  low.string_length = 4;
  low.shared_string = "1234";
  low.job.rsa_key_bits = 1024;
  low.job.ec_key_bits = 256;
  low.job.burst = 0;
  low.job.max_attempts = 1;
  low.job.max_fail_pct = 0;
  r = low.validate();
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(JobSpec, EachRuleRefusesASpecThatBreaksItInItsOwnWords) {
  for (const auto& row : rows()) {
    JobSpec s = good_spec();
    row.breaks(s);
    auto r = s.validate();
    ASSERT_FALSE(r.ok()) << row.rule;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << row.rule;
    EXPECT_EQ(r.error().message.substr(0, row.error.size()), row.error) << row.rule;
  }
}

TEST_F(EngineTest, TheEngineRefusesABadSpecFromAnyCallerAndWritesNothing) {
  add_devices(3);
  start_engine();
  for (const auto& row : rows()) {
    SubmitRequest r;
    static_cast<JobSpec&>(r) = good_spec();
    r.job.auth_mode = AuthMode::null_string;
    r.job.windows.clear();
    r.job.blackouts.clear();
    row.breaks(r);
    r.devices = names;
    auto res = engine->submit(r);
    ASSERT_FALSE(res.ok()) << row.rule;
    EXPECT_EQ(res.error().message.substr(0, row.error.size()), row.error) << row.rule;
  }
  EXPECT_TRUE(engine->list().empty());
  for (const auto& name : names) EXPECT_TRUE(store->get_device(name).value()->job_id.empty()) << name;
}
