// EnrollmentService::work_online takes one caller at a time per CSR: the Online CA worker and a
// phone's session once both sent a fresh CSR to the CA (seen under 30 % injected faults).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include "capf/crypto/crypto.hpp"
#include "capf/server/enrollment.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

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

TEST(OnlineClaim, ASecondCallerForTheSameCsrWaitsInsteadOfSendingItAgain) {
  const auto dir = std::filesystem::temp_directory_path() / ("capf-claim-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = store::Store::open((dir / "db").string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  crypto::CaOptions options;
  options.key = KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
  auto ca = crypto::CertificateAuthority::create(options);
  ASSERT_TRUE(ca.ok());
  util::SystemClock clock;
  EnrollmentService service(**store, *ca, crypto::TrustStore{}, 365, clock);
  auto held = std::make_shared<HeldCa>();
  service.set_issuer(IssuerKind::online_ca, held, OnlineCaParams{});

  Device d;
  d.name = "SEP00AA00BB00CC";
  d.operation = CertificateOperation::install_upgrade;
  store::Transition t;
  t.put_devices.push_back(d);
  ASSERT_TRUE((*store)->apply(t, store::Sync::yes).ok());

  auto key = crypto::PrivateKey::generate(KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
  ASSERT_TRUE(key.ok());
  auto csr_der = crypto::make_csr(*key, d.name);
  ASSERT_TRUE(csr_der.ok());
  auto csr = service.accept_csr(d.name, *csr_der, key->public_key_der(), key->spec(), IssuerKind::online_ca);
  ASSERT_TRUE(csr.ok()) << csr.error().message;

  auto first = std::async(std::launch::async, [&] { return service.work_online(csr->id); });
  held->wait_for_submission();
  // The second caller must come back without reaching the CA (which holds every request).
  auto second_call = std::async(std::launch::async, [&] { return service.work_online(csr->id); });
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
  const OnlineStep after = service.work_online(csr->id);
  EXPECT_FALSE(after.waiting);
  EXPECT_EQ(held->submissions(), 1);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace capf::server
