// AdcsCa under injected faults (online-ca.md §3 item 11): a failure that provably kept the
// request from the CA (HTTP.sys's own 503, RPC unavailable, refused) is retryable; a submission
// that left in full and got no trustworthy answer (an IIS 500, a timeout, a dropped connection)
// may be held by the CA, so it is not sent again and needs an administrator; a CSR the CA
// processed is never submitted again.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "ca_online_support.hpp"
#include "capf/ca_online/retry_delay.hpp"
#include "capf/crypto/codec.hpp"

namespace capf::test {
namespace {

using certsrv::EmuProcess;

struct FaultCase {
  std::string kind;
  std::string expect;  // a word of the message
  CaErrorClass cls = CaErrorClass::retryable;
};

class AdcsFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(AdcsFault, IsClassifiedAndTheCsrWasNotProcessed) {
  const auto& c = GetParam();
  EmuProcess emu(
      emu_args({"--template", "Phone=issue", "--fault-rate", "1", "--fault-kinds", c.kind, "--slow-ms", "1500"}));
  auto p = adcs_params(emu);
  p.timeout_s = 1;
  auto csr = make_csr("SEP0000000000C1");
  CaOutcome o = adcs(emu, p)->submit(csr.der, "SEP0000000000C1");
  ASSERT_EQ(o.kind, CaOutcome::Kind::rejected);
  EXPECT_EQ(o.error_class, c.cls) << o.message;
  EXPECT_NE(o.message.find(c.expect), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find("s3cret-pass"), std::string::npos);
  auto stats = emu.stats();
  EXPECT_EQ(stats["faults"][c.kind], 1);
  EXPECT_EQ(stats["submissions"].count(crypto::sha256_hex(csr.der)), 0u);
}

INSTANTIATE_TEST_SUITE_P(Kinds, AdcsFault,
                         ::testing::Values(FaultCase{"500", "does not send it again", CaErrorClass::needs_admin},
                                           FaultCase{"503", "HTTP 503"},
                                           FaultCase{"timeout", "does not send it again", CaErrorClass::needs_admin},
                                           FaultCase{"drop", "does not send it again", CaErrorClass::needs_admin},
                                           FaultCase{"rpc", "0x800706ba"}),
                         [](const auto& info) { return "fault_" + info.param.kind; });

TEST(AdcsCa, RefusedConnectionIsRetryable) {
  OnlineCaParams p;
  p.host = "certsrv.test";
  p.port = 9;  // discard: nothing listens on loopback
  p.connect_address = "127.0.0.1";
  p.template_name = "Phone";
  p.username = "capf";
  p.password = "x";
  auto ca = crypto::CertificateAuthority::create(crypto::CaOptions{});
  auto adapter = ca_online::make_online_ca(p, ca->certificate().to_pem());
  ASSERT_TRUE(adapter);
  CaOutcome o = (*adapter)->submit(make_csr("SEP0000000000C2").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::retryable) << o.message;
  EXPECT_EQ((*adapter)->poll("7").error_class, CaErrorClass::retryable);
}

TEST(AdcsCa, MixedFaultsEndClassifiedWithOneSubmissionPerCsr) {
  EmuProcess emu(
      emu_args({"--template", "Phone=issue", "--fault-rate", "0.3", "--fault-seed", "42", "--fault-kinds",
                "500,503,timeout,drop,rpc,pending,deny", "--slow-ms", "1200", "--approve-after-polls", "2"}));
  auto p = adcs_params(emu);
  p.timeout_s = 1;
  auto ca = adcs(emu, p);
  std::map<std::string, int> finals;
  int retries = 0;
  std::int64_t waited_s = 0;  // what the backoff would have waited (not slept here)
  std::vector<std::string> hashes;
  for (int d = 0; d < 20; ++d) {
    const std::string device = "SEP0000000010" + std::to_string(10 + d);
    auto csr = make_csr(device);
    hashes.push_back(crypto::sha256_hex(csr.der));
    CaOutcome o = ca->submit(csr.der, device);
    for (int attempt = 1; attempt < 12; ++attempt) {
      if (o.kind == CaOutcome::Kind::rejected && o.error_class == CaErrorClass::retryable) {
        ++retries;
        waited_s += ca_online::backoff_delay_s(p, attempt, 0.5, 0);
        o = ca->submit(csr.der, device);  // nothing was processed: submitting again is safe
      } else if (o.kind == CaOutcome::Kind::pending) {
        const std::string handle = o.handle;
        o = ca->poll(handle);
        // A poll that fails transiently keeps the request: poll again, never resubmit.
        while (o.kind == CaOutcome::Kind::rejected && o.error_class == CaErrorClass::retryable && attempt++ < 12) {
          ++retries;
          o = ca->poll(handle);
        }
      } else {
        break;
      }
    }
    if (o.kind == CaOutcome::Kind::issued) {
      expect_chains(o, emu.ca_pem(), csr);
      ++finals["issued"];
    } else {
      ASSERT_EQ(o.kind, CaOutcome::Kind::rejected) << device << " still pending";
      // Denied, or a submission that got no answer and is therefore not sent again.
      EXPECT_TRUE(o.error_class == CaErrorClass::permanent || o.error_class == CaErrorClass::needs_admin) << o.message;
      ++finals[std::string(to_string(o.error_class))];
    }
  }
  auto stats = emu.stats();
  // Processed by the CA at most once; a CSR given up after a lost answer may not have reached it.
  for (const auto& h : hashes) EXPECT_LE(stats["submissions"].value(h, 0), 1) << h;
  EXPECT_GT(finals["issued"], 0);
  std::cout << "faults injected: " << stats["faults"].dump() << "; retries: " << retries << "; backoff would wait "
            << waited_s << " s; final states:";
  for (const auto& [state, n] : finals) std::cout << " " << state << "=" << n;
  std::cout << std::endl;
}

}  // namespace
}  // namespace capf::test
