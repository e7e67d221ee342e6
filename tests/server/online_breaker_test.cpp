// The Online CA down, then back: a run of retryable failures across devices opens the Online
// CA's breaker; while it is open only one CSR at a time (the probe) reaches the CA, the others
// wait with no try counted, and the first answer of a probe closes it so that every CSR is
// issued and none is given up.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "capf/core/breaker.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/server/enrollment.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"
#include "server_fixture.hpp"

namespace capf::server {
namespace {

/// An Online CA that refuses connections while down and signs every CSR once back.
class FlakyCa final : public OnlineCa {
 public:
  explicit FlakyCa(const crypto::CertificateAuthority& ca) : ca_(ca) {}
  std::string name() const override { return "flaky"; }
  CaOutcome submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) override {
    {
      std::lock_guard lock(mutex_);
      ++calls_;
      if (down_) return CaOutcome::rejected(CaErrorClass::retryable, "connect 127.0.0.1:1: connection refused");
    }
    auto info = crypto::verify_csr(csr_der);
    auto lsc =
        info ? ca_.issue_lsc(device, info->public_key_der, 30, util::now()) : Result<crypto::Certificate>(info.error());
    if (!lsc) return CaOutcome::rejected(CaErrorClass::permanent, lsc.error().message);
    return CaOutcome::issued(lsc->to_pem(), {}, "1");
  }
  CaOutcome poll(const std::string&) override { return CaOutcome::rejected(CaErrorClass::permanent, "no polls"); }

  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  const crypto::CertificateAuthority& ca_;
  std::mutex mutex_;
  bool down_ = true;
  int calls_ = 0;
};

struct Fleet {
  std::filesystem::path dir = testing::test_dir("capf-ca-breaker");
  std::unique_ptr<store::Store> store;
  std::optional<crypto::CertificateAuthority> capf_ca, online_ca;
  util::ManualClock clock{util::now()};
  std::unique_ptr<EnrollmentService> service;
  std::vector<std::string> csrs;

  explicit Fleet(int phones) {
    store = testing::fresh_store(dir);
    capf_ca = testing::ec_ca();
    online_ca = testing::ec_ca();
    crypto::TrustStore trust;
    trust.add(online_ca->certificate());
    service = std::make_unique<EnrollmentService>(*store, *capf_ca, std::move(trust), 365, clock);
    for (int i = 0; i < phones; ++i) {
      const Device d = testing::put_armed_device(*store, "SEP00AA00BB00" + std::to_string(10 + i));
      auto key = testing::ec_key();
      auto der = crypto::make_csr(*key, d.name);
      EXPECT_TRUE(der.ok());
      auto csr = service->accept_csr(d.name, *der, key->public_key_der(), key->spec(), IssuerKind::online_ca);
      EXPECT_TRUE(csr.ok()) << csr.error().message;
      csrs.push_back(csr->id);
    }
  }
  ~Fleet() {
    service.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }

  CsrRecord csr(std::size_t i) {
    auto c = service->csrs().get(csrs[i]);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? **c : CsrRecord{};
  }
  /// One round of the CA worker: every CSR worked once; how many came back issued.
  int round() {
    int issued = 0;
    for (const auto& id : csrs) issued += service->online().work(id).certificate.has_value();
    return issued;
  }
};

TEST(OnlineCaBreaker, TheOnlineCaDownThenBackIssuesEveryCsrWithNoTrySpentOnTheOutage) {
  Fleet f(5);
  auto ca = std::make_shared<FlakyCa>(*f.online_ca);
  auto breakers = std::make_shared<Breakers>();
  BreakerSettings settings;  // 3 failures in a row from 2 devices open it
  settings.probe_base_s = 5;
  settings.probe_ceiling_s = 60;
  f.service->online().set_breakers(breakers, settings);
  f.service->set_issuer(IssuerKind::online_ca, ca, OnlineCaParams{});

  // Down: three CSRs of three devices fail, which opens the breaker; the other two never go.
  EXPECT_EQ(f.round(), 0);
  EXPECT_EQ(ca->calls(), 3);
  auto status = breakers->status(Dependency::online_ca);
  ASSERT_FALSE(status.closed());
  EXPECT_NE(status.describe().find("connection refused"), std::string::npos) << status.describe();
  EXPECT_EQ(f.csr(2).attempts, 0) << "the failure that opened the breaker is the outage's";
  EXPECT_EQ(f.csr(3).attempts, 0);
  EXPECT_EQ(f.csr(4).attempts, 0);
  const OnlineStep held = f.service->online().work(f.csrs[4]);
  EXPECT_TRUE(held.waiting);
  EXPECT_NE(held.reason.find("Online CA flaky unreachable since"), std::string::npos) << held.reason;

  // Rounds before the probe is due send nothing; a due probe sends exactly one CSR.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(f.round(), 0);
  EXPECT_EQ(ca->calls(), 3);
  f.clock.set(breakers->status(Dependency::online_ca).next_probe);
  EXPECT_EQ(f.round(), 0);
  EXPECT_EQ(ca->calls(), 4) << "one probe, not a flood";
  EXPECT_EQ(breakers->status(Dependency::online_ca).probes_failed, 1);

  // Back: the next probe is answered, the breaker closes and every CSR is issued in that round.
  ca->set_down(false);
  f.clock.set(breakers->status(Dependency::online_ca).next_probe);
  EXPECT_EQ(f.round(), 5);
  EXPECT_TRUE(breakers->status(Dependency::online_ca).closed());
  EXPECT_EQ(ca->calls(), 9);
  for (std::size_t i = 0; i < 5; ++i) {
    const CsrRecord c = f.csr(i);
    EXPECT_EQ(c.state, CsrState::issued) << c.device << ": " << c.error;
    EXPECT_LE(c.attempts, 1) << c.device << " spent tries on the outage";
  }
}

}  // namespace
}  // namespace capf::server
