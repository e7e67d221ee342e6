// CfsslCa against a real `cfssl serve` (golang-cfssl) on 127.0.0.1, configured as in
// online-ca.md §2(a) with a CA made at test time, over HTTPS (the default: its certificate,
// issued by that CA to cfssl.test, is checked against the trusted chain) and over plain HTTP
// when chosen explicitly. Skipped only when cfssl is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ca_online_support.hpp"
#include "capf/net/http_client.hpp"
#include "capf/util/loopback.hpp"
#include "capf/util/text.hpp"
#include "ci_required.hpp"

extern char** environ;

namespace capf::test {
namespace {

constexpr const char* kKeyHex = "0123456789abcdef0123456789abcdef";

std::string find_cfssl() {
  const char* path = std::getenv("PATH");
  for (const auto& dir : util::split(path ? path : "/usr/bin", ':')) {
    std::string candidate = dir + "/cfssl";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

int free_port() {
  return capf::util::LoopbackListener(1).port();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

class Cfssl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string binary = find_cfssl();
    if (binary.empty()) return;
    char pattern[] = "/tmp/capf-cfssl-XXXXXX";
    dir_ = mkdtemp(pattern);
    crypto::CaOptions options;
    options.key = KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
    options.common_name = "Test Online CA";
    auto ca = crypto::CertificateAuthority::create(options);
    ASSERT_TRUE(ca);
    ca_pem_ = ca->certificate().to_pem();
    write(dir_ + "/ca.pem", ca_pem_);
    write(dir_ + "/ca.key", ca->key().to_pem());
    const nlohmann::json usages = {"digital signature", "key encipherment", "server auth", "client auth"};
    const nlohmann::json config = {
        {"signing",
         {{"default", {{"expiry", "8760h"}, {"usages", usages}}},
          {"profiles", {{"phone", {{"expiry", "8760h"}, {"usages", usages}, {"auth_key", "k1"}}}}}}},
        {"auth_keys", {{"k1", {{"type", "standard"}, {"key", kKeyHex}}}}}};
    write(dir_ + "/config.json", config.dump(2));
    // cfssl's own HTTPS certificate, for the name capf is told to reach it by.
    auto tls_key = crypto::PrivateKey::generate(KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
    ASSERT_TRUE(tls_key);
    auto tls = ca->issue_server(kHost, tls_key->public_key_der(), 30, util::now());
    ASSERT_TRUE(tls) << tls.error().message;
    write(dir_ + "/tls.pem", tls->to_pem());
    write(dir_ + "/tls.key", tls_key->to_pem());
    port_ = free_port();
    http_port_ = free_port();
    ASSERT_NO_FATAL_FAILURE(start(binary, port_, true, pid_));
    ASSERT_NO_FATAL_FAILURE(start(binary, http_port_, false, http_pid_));
  }
  /// Starts one `cfssl serve` on 127.0.0.1:port and waits until /info answers.
  static void start(const std::string& binary, int port, bool https, pid_t& pid) {
    std::vector<std::string> argv{
        binary, "serve",          "-address", "127.0.0.1",      "-port",   std::to_string(port),
        "-ca",  dir_ + "/ca.pem", "-ca-key",  dir_ + "/ca.key", "-config", dir_ + "/config.json"};
    if (https) argv.insert(argv.end(), {"-tls-cert", dir_ + "/tls.pem", "-tls-key", dir_ + "/tls.key"});
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = dir_ + "/cfssl-" + std::to_string(port) + ".log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    ASSERT_EQ(posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // Ready when /info answers (well under a second here; bounded at 15 s).
    for (int i = 0; i < 300; ++i) {
      net::HttpRequest probe;
      probe.url =
          std::string(https ? "https://" : "http://") + kHost + ":" + std::to_string(port) + "/api/v1/cfssl/info";
      probe.resolve = {std::string(kHost) + ":" + std::to_string(port) + ":127.0.0.1"};
      probe.ca_pem = ca_pem_;
      probe.body = R"({"profile":"phone"})";
      if (auto r = net::http_request(probe); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "cfssl serve did not answer on port " << port << ": " << certsrv::slurp(log);
  }
  static void stop(pid_t& pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
  }
  static void TearDownTestSuite() {
    stop(pid_);
    stop(http_pid_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void SetUp() override {
    if (pid_ <= 0) CAPF_SKIP_UNLESS_CI("cfssl is not installed (apt-get install golang-cfssl; scripts/deps.sh does)");
  }

  /// HTTPS to cfssl.test (resolved to 127.0.0.1), trusting the test CA: the default scheme.
  static OnlineCaParams params() {
    OnlineCaParams p;
    p.type = "cfssl";
    p.host = kHost;
    p.port = port_;
    p.connect_address = "127.0.0.1";
    p.template_name = "phone";
    p.auth_key_hex = kKeyHex;
    p.timeout_s = 5;
    return p;
  }
  static std::unique_ptr<OnlineCa> make(const OnlineCaParams& p, const std::string& trust = ca_pem_) {
    auto ca = ca_online::make_online_ca(p, trust);
    EXPECT_TRUE(ca) << ca.error().message;
    return ca ? std::move(*ca) : nullptr;
  }

  static constexpr const char* kHost = "cfssl.test";
  static inline std::string dir_, ca_pem_;
  static inline int port_ = 0, http_port_ = 0;
  static inline pid_t pid_ = -1, http_pid_ = -1;
};

TEST_F(Cfssl, IssuesACertificateThatChainsToTheCa) {
  auto ca = make(params());
  auto csr = make_csr("SEP001122334455");
  CaOutcome o = ca->submit(csr.der, "SEP001122334455");
  expect_chains(o, ca_pem_, csr);
  ASSERT_EQ(o.chain_pem.size(), 1u);  // the CA certificate from /info
  EXPECT_EQ(o.chain_pem[0], crypto::Certificate::from_pem(ca_pem_)->to_pem());
  auto cert = crypto::Certificate::from_pem(o.certificate_pem);
  EXPECT_EQ(cert->subject_cn(), "SEP001122334455");
  EXPECT_TRUE(cert->has_ext_key_usage("clientAuth"));
  // EC keys are cfssl's business too (only AD CS templates are RSA-only).
  auto ec = make_csr("SEP001122334466", KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
  expect_chains(ca->submit(ec.der, "SEP001122334466"), ca_pem_, ec);
}

TEST_F(Cfssl, WrongAuthKeyNeedsAnAdministrator) {
  auto p = params();
  p.auth_key_hex = "ffffffffffffffffffffffffffffffff";
  CaOutcome o = make(p)->submit(make_csr("SEP0000000000D1").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin) << o.message;
  EXPECT_NE(o.message.find("invalid token"), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find("ffffffff"), std::string::npos) << o.message;
}

TEST_F(Cfssl, UndecodableCsrIsPermanent) {
  CaOutcome o = make(params())->submit({0x30, 0x03, 0x02, 0x01, 0x05}, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::permanent) << o.message;
  EXPECT_NE(o.message.find("(code 900"), std::string::npos) << o.message;  // cfssl's CSR error category
}

TEST_F(Cfssl, PlainHttpOnlyWhenChosenAndStillIssues) {
  auto p = params();
  p.port = http_port_;
  p.https = false;
  auto csr = make_csr("SEP0000000000E1");
  expect_chains(make(p, "")->submit(csr.der, "SEP0000000000E1"), ca_pem_, csr);
  // The HTTPS default does not fall back to HTTP: talking TLS to a plain server fails, retryably.
  p.https = true;
  CaOutcome o = make(p)->submit(make_csr("SEP0000000000E2").der, "d");
  EXPECT_EQ(o.kind, CaOutcome::Kind::rejected) << o.message;
}

TEST_F(Cfssl, AServerCertificateNotFromTheTrustedChainIsRefused) {
  crypto::CaOptions other;
  other.common_name = "Somebody Else";
  auto stranger = crypto::CertificateAuthority::create(other);
  ASSERT_TRUE(stranger);
  CaOutcome o = make(params(), stranger->certificate().to_pem())->submit(make_csr("SEP0000000000E3").der, "d");
  EXPECT_EQ(o.kind, CaOutcome::Kind::rejected);
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin) << o.message;
  // The name must match too: the certificate is for cfssl.test, not for 127.0.0.1.
  auto by_address = params();
  by_address.host = "127.0.0.1";
  by_address.connect_address.clear();
  o = make(by_address)->submit(make_csr("SEP0000000000E4").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin) << o.message;
}

TEST_F(Cfssl, UnreachableServerIsRetryable) {
  auto p = params();
  p.port = free_port();
  CaOutcome o = make(p)->submit(make_csr("SEP0000000000D2").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::retryable) << o.message;
}

}  // namespace
}  // namespace capf::test
