// The Online CA worker and a phone's session working the same fresh CSR, as seen under 30 %
// injected faults: work_online takes one caller at a time per CSR (the CA once received one CSR
// twice), and a session that defers its phone after the worker got the certificate still wakes
// the job (two phones once waited for the Online CA forever).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include "capf/core/session_hook.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/server/enrollment.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"
#include "server_fixture.hpp"

namespace capf::server {
namespace {

/// An Online CA that holds every submission until released, counting them.
class HeldCa final : public OnlineCa {
 public:
  std::string name() const override { return "held"; }
  CaOutcome submit(const std::vector<std::uint8_t>&, const std::string&) override {
    std::unique_lock lock(mutex_);
    ++submissions_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    CaOutcome o;
    o.kind = CaOutcome::Kind::rejected;
    o.error_class = CaErrorClass::permanent;
    o.message = "denied by policy";
    return o;
  }
  CaOutcome poll(const std::string&) override { return submit({}, ""); }

  void wait_for_submission() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return submissions_ > 0; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  int submissions() {
    std::lock_guard lock(mutex_);
    return submissions_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int submissions_ = 0;
  bool released_ = false;
};

/// An Online CA that signs every CSR at once with a CA of its own.
class SigningCa final : public OnlineCa {
 public:
  explicit SigningCa(const crypto::CertificateAuthority& ca) : ca_(ca) {}
  std::string name() const override { return "signing"; }
  CaOutcome submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) override {
    auto info = crypto::verify_csr(csr_der);
    auto lsc =
        info ? ca_.issue_lsc(device, info->public_key_der, 30, util::now()) : Result<crypto::Certificate>(info.error());
    if (!lsc) return CaOutcome::rejected(CaErrorClass::permanent, lsc.error().message);
    return CaOutcome::issued(lsc->to_pem(), {}, "1");
  }
  CaOutcome poll(const std::string&) override { return CaOutcome::rejected(CaErrorClass::permanent, "no polls"); }

 private:
  const crypto::CertificateAuthority& ca_;
};

/// What the job engine would be told.
class RecordingHook final : public SessionHook {
 public:
  std::optional<JobDevice> on_session_event(Device&, const SessionEvent& event) override {
    std::lock_guard lock(mutex_);
    said.push_back(event.kind == SessionEvent::Kind::deferred ? "deferred" : "other");
    return std::nullopt;
  }
  void on_certificates_ready(const std::vector<std::string>& devices) override {
    std::lock_guard lock(mutex_);
    for (const auto& d : devices) said.push_back("ready " + d);
  }
  std::vector<std::string> said;

 private:
  std::mutex mutex_;
};

/// A store, the CAPF CA, the service and one phone of a job with a fresh Online CA CSR.
struct Bench {
  std::filesystem::path dir = testing::test_dir("capf-claim");
  std::unique_ptr<store::Store> store;
  std::optional<crypto::CertificateAuthority> ca;
  util::SystemClock clock;
  std::unique_ptr<EnrollmentService> service;
  Device device;
  std::optional<crypto::PrivateKey> key;

  Bench() {
    store = testing::fresh_store(dir);
    ca = testing::ec_ca();
    crypto::TrustStore trust;  // the Online CA's certificates must chain to CAPF-trust
    trust.add(ca->certificate());
    service = std::make_unique<EnrollmentService>(*store, *ca, std::move(trust), 365, clock);
    device = testing::put_armed_device(*store, "SEP00AA00BB00CC");
    key = testing::ec_key();
  }
  ~Bench() {
    service.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }

  Result<CsrRecord> fresh_csr() {
    auto der = crypto::make_csr(*key, device.name);
    if (!der) return der.error();
    return service->accept_csr(device.name, *der, key->public_key_der(), key->spec(), IssuerKind::online_ca);
  }
};

TEST(OnlineClaim, ASecondCallerForTheSameCsrWaitsInsteadOfSendingItAgain) {
  Bench b;
  auto& service = *b.service;
  auto held = std::make_shared<HeldCa>();
  service.set_issuer(IssuerKind::online_ca, held, OnlineCaParams{});
  auto csr = b.fresh_csr();
  ASSERT_TRUE(csr.ok()) << csr.error().message;

  auto first = std::async(std::launch::async, [&] { return service.online().work(csr->id); });
  held->wait_for_submission();
  // The second caller must come back without reaching the CA (which holds every request).
  auto second_call = std::async(std::launch::async, [&] { return service.online().work(csr->id); });
  const bool returned = second_call.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  held->release();
  ASSERT_TRUE(returned) << "the second work_online reached the CA; submissions: " << held->submissions();
  const OnlineStep second = second_call.get();
  EXPECT_TRUE(second.waiting);
  EXPECT_FALSE(second.certificate.has_value());
  EXPECT_EQ(second.reason, "the CSR is already being sent to the Online CA");
  const OnlineStep done = first.get();
  EXPECT_FALSE(done.waiting);
  EXPECT_EQ(done.reason, "denied by policy");
  EXPECT_EQ(held->submissions(), 1);

  // The claim ends with the call: the CSR, now rejected, is read again and left alone.
  const OnlineStep after = service.online().work(csr->id);
  EXPECT_FALSE(after.waiting);
  EXPECT_EQ(held->submissions(), 1);
}

TEST(OnlineClaim, APhoneDeferredAfterTheWorkerGotItsCertificateIsWokenAgain) {
  Bench b;
  RecordingHook hook;
  b.service->set_hook(&hook);
  b.service->set_issuer(IssuerKind::online_ca, std::make_shared<SigningCa>(*b.ca), OnlineCaParams{});

  // Still with the CA: deferring the phone wakes nobody.
  auto waiting = b.fresh_csr();
  ASSERT_TRUE(waiting.ok()) << waiting.error().message;
  b.service->deferred(b.device.name, *waiting);
  EXPECT_EQ(hook.said, (std::vector<std::string>{"deferred"}));

  // The worker sends the next CSR and gets the certificate while the phone's session, which
  // found the CSR busy, is still ending; the job hears "ready" before the phone waits.
  auto csr = b.fresh_csr();
  ASSERT_TRUE(csr.ok()) << csr.error().message;
  hook.said.clear();
  const OnlineStep step = b.service->online().work(csr->id);
  ASSERT_TRUE(step.certificate.has_value()) << step.reason;
  EXPECT_EQ(hook.said, (std::vector<std::string>{"ready " + b.device.name}));
  hook.said.clear();
  b.service->deferred(b.device.name, *csr);
  EXPECT_EQ(hook.said, (std::vector<std::string>{"deferred", "ready " + b.device.name}));
}

TEST(OnlineClaim, ACertificateThatDoesNotChainToCapfTrustIsRefusedWithTheReason) {
  Bench b;
  RecordingHook hook;
  b.service->set_hook(&hook);
  crypto::CaOptions options;
  options.key = KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
  auto stranger = crypto::CertificateAuthority::create(options);
  ASSERT_TRUE(stranger.ok());
  b.service->set_issuer(IssuerKind::online_ca, std::make_shared<SigningCa>(*stranger), OnlineCaParams{});
  auto csr = b.fresh_csr();
  ASSERT_TRUE(csr.ok()) << csr.error().message;

  const OnlineStep step = b.service->online().work(csr->id);
  EXPECT_FALSE(step.certificate.has_value());
  EXPECT_FALSE(step.waiting);
  EXPECT_NE(step.reason.find("does not chain to CAPF-trust"), std::string::npos) << step.reason;
  auto after = b.service->csrs().get(csr->id);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->state, CsrState::rejected);
  EXPECT_NE((*after)->error.find("is refused: "), std::string::npos) << (*after)->error;
  auto certs = b.store->certificates_of(b.device.name);
  ASSERT_TRUE(certs.ok());
  EXPECT_TRUE(certs->empty()) << "a refused certificate was recorded";
}

}  // namespace
}  // namespace capf::server
