// Bad inputs (issue 7): the corpus in tests/badinput/corpus.tsv (CSV rows and files, service
// parameters, serve configuration files, files that are not certificates, protocol messages)
// and the cases made at test time (certificates and CSRs, which need keys, and authentication
// strings) each get a clear error naming what and where, against a real daemon; after every
// case the stored phones, parameters, trust entries, CSRs and certificates are as they were.
#include <fstream>
#include <map>
#include <thread>
#include <tuple>
#include <sstream>

#include <gtest/gtest.h>

#include "capf/admin/http.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/text.hpp"
#include "harness.hpp"
#include "raw_phone.hpp"

using namespace capf::it;
namespace protocol = capf::protocol;

namespace {

struct Case {
  std::string id, kind, input, expected;
};

/// Undoes the corpus escapes: \n \t \\ \xNN.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'n') out += '\n';
    else if (c == 't') out += '\t';
    else if (c == 'x' && i + 2 < s.size() + 1) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else out += c;
  }
  return out;
}

std::vector<Case> corpus() {
  std::ifstream in(CAPF_BADINPUT_DIR "/corpus.tsv");
  std::vector<Case> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string part; std::getline(ss, part, '\t');) f.push_back(part);
    while (f.size() < 4) f.emplace_back();
    cases.push_back({f[0], f[1], unescape(f[2]), f[3]});
  }
  return cases;
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  auto b = capf::util::from_hex(hex);
  return b ? *b : std::vector<std::uint8_t>{};
}

const char* const kRowHeader =
    "Device Name,Description,Certificate Operation,Authentication Mode,Authentication String,Key Size (Bits),"
    "Key Order,EC Key Size (Bits),Operation Completes By,IPv4 Address,IPv6 Address\n";

/// What must survive every bad input: phones (without their session status), parameters,
/// trust entries, CSRs and certificates.
std::string snapshot(const Fleet& f) {
  auto phones = nlohmann::json::parse(cli({"phones", "list", "--json", "--data-dir", f.data}).out, nullptr, false);
  if (phones.is_object())
    for (auto& p : phones["phones"])
      for (const char* volatile_field : {"status", "status_reason", "auth_failures", "last_seen"}) p.erase(volatile_field);
  auto token = shell("cat '" + f.data + "/admin.token'").out;
  auto certs = capf::admin::call_daemon(f.data + "/admin.sock", token, {"GET", "/v1/certificates", "", "test"});
  return phones.dump() + cli({"config", "list", "--json", "--data-dir", f.data}).out +
         cli({"trust", "list", "--json", "--data-dir", f.data}).out +
         cli({"csr", "list", "--state", "all", "--json", "--data-dir", f.data}).out +
         (certs.ok() && certs->has_value() ? (*certs)->body.dump() : std::string("no certificates answer"));
}

/// "" when equal, else where they first differ, with some context.
std::string difference(const std::string& a, const std::string& b) {
  if (a == b) return "";
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const std::size_t from = i > 120 ? i - 120 : 0;
  return "before: ..." + a.substr(from, 240) + "\nafter:  ..." + b.substr(from, 240);
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f.import(f.write_csv("good.csv", std::string(kCsvHeader) +
                                                   "SEP0BAD00000001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                                   "SEP0BAD00000002,DP-HQ,Install/Upgrade,By Authentication String,2468,2048,RSA Only,\n"))
                  .exit_code,
              0);
    // Another team's root in CAPF-trust, so certificate files get as far as matching.
    ASSERT_EQ(shell("cd '" + f.dir.path() + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-keyout other.key -out other.pem -days 30 -subj '/CN=Other Team Root' 2>/dev/null")
                  .exit_code,
              0);
    ASSERT_EQ(cli({"trust", "upload", "--store", "capf-trust", f.dir / "other.pem", "--description", "other team",
                   "--data-dir", f.data})
                  .exit_code,
              0);
    // Phones' CSRs go to the Offline CA; keygen-attempts at its maximum keeps the test
    // independent of how failed sessions count against a phone's operation.
    for (auto [name, value] : {std::pair{"issuer", "offline-ca"}, std::pair{"keygen-attempts", "100"}})
      ASSERT_EQ(cli({"config", "set", name, value, "--data-dir", f.data}).exit_code, 0);
    before = snapshot(f);
  }

  /// Checks the case's error and that nothing stored changed.
  void expect_clear_error(const std::string& id, const capf::it::Run& r, const std::string& expected, const std::string& where) {
    ++checked;
    const std::string all = r.out + r.err;
    EXPECT_NE(r.exit_code, 0) << id << ": a bad input was accepted\n" << all;
    EXPECT_NE(all.find(expected), std::string::npos) << id << ": expected \"" << expected << "\" in\n" << all;
    if (!where.empty()) {
      EXPECT_NE(all.find(where), std::string::npos) << id << ": the error does not say where (" << where << ")\n" << all;
    }
    EXPECT_EQ(difference(before, snapshot(f)), "") << id << ": stored state changed";
  }

  /// The daemon's log since `from` holds `expected`, within a few seconds.
  void expect_logged(const std::string& id, std::size_t from, const std::string& expected) {
    ++checked;
    std::string log;
    for (int i = 0; i < 50; ++i) {
      log = f.daemon->log().substr(from);
      if (log.find(expected) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(log.find(expected), std::string::npos) << id << ": expected \"" << expected << "\" in the daemon log\n" << log;
    EXPECT_EQ(difference(before, snapshot(f)), "") << id << ": stored state changed";
  }

  /// A phone session up to the CSR: AUTH_RESPONSE for `device` (null string), the key request
  /// answered with `public_key`; when the daemon asks for a CSR, `csr` answers it. Returns the
  /// END_SESSION reason (-1 when the connection just ended).
  int csr_session(const std::string& device, const std::vector<std::uint8_t>& public_key, const std::vector<std::uint8_t>& csr) {
    RawPhone p(f.daemon->port(), shell("cat '" + f.ca_file + "'").out);
    auto first = p.read();
    protocol::AuthResponse a;
    a.device_name = device;
    send_message(p, protocol::build(a, first.session_id));
    try {
      for (int step = 0; step < 6; ++step) {
        auto m = p.read();
        if (m.command == static_cast<std::uint8_t>(protocol::Command::end_session))
          return m.u8(protocol::Tag::reason).value_or(255);
        if (m.command == static_cast<std::uint8_t>(protocol::Command::key_generate_request)) {
          protocol::KeyGenerateResponse k;
          k.public_key = public_key;
          send_message(p, protocol::build(k, first.session_id));
        } else if (m.command == static_cast<std::uint8_t>(protocol::Command::sign_certificate_request)) {
          protocol::SignResponse s;
          s.reason = 1;
          s.csr_der = csr;
          send_message(p, protocol::build(s, first.session_id));
        }
      }
    } catch (const std::exception&) {
      return -1;
    }
    return -2;
  }

  Fleet f;
  std::string before;
  int checked = 0;
};

capf::crypto::PrivateKey key(bool ec) {
  return capf::crypto::PrivateKey::generate(ec ? capf::KeySpec{capf::KeyAlgorithm::ec, 0, capf::EcCurve::p256}
                                                : capf::KeySpec{capf::KeyAlgorithm::rsa, 2048, capf::EcCurve::p256})
      .value();
}

TEST_F(BadInput, EveryInputOfTheCorpusGetsAClearErrorAndNothingStoredChanges) {
  const auto cases = corpus();
  ASSERT_GE(cases.size(), 50u);
  std::map<std::string, int> by_kind;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    ++by_kind[c.kind];
    if (c.kind == "csv-row" || c.kind == "csv-file") {
      const auto path = f.write_csv(c.id + ".csv", c.kind == "csv-row" ? std::string(kRowHeader) + c.input + "\n" : c.input);
      expect_clear_error(c.id, f.import(path), c.expected, c.id + ".csv:");
    } else if (c.kind == "config") {
      const auto space = c.input.find(' ');
      expect_clear_error(c.id, cli({"config", "set", c.input.substr(0, space), c.input.substr(space + 1), "--data-dir", f.data}),
                         c.expected, "");
    } else if (c.kind == "serve-conf") {
      const auto path = f.dir / (c.id + ".conf");
      std::ofstream(path) << c.input;
      expect_clear_error(c.id, cli({"serve", "--check-config", "--config", path, "--data-dir", f.data}), c.expected, "");
    } else if (c.kind == "cert") {
      const auto path = f.dir / (c.id + ".pem");
      std::ofstream(path, std::ios::binary) << c.input;
      expect_clear_error(c.id, cli({"offline", "import", path, "--data-dir", f.data}), c.expected, c.id + ".pem");
    } else if (c.kind == "protocol" || c.kind == "protocol-raw-sid") {
      const std::size_t from = f.daemon->log().size();
      const int reason = send_raw(f.daemon->port(), shell("cat '" + f.ca_file + "'").out, from_hex(c.input),
                                  c.kind == "protocol", true);
      EXPECT_TRUE(reason == 7 || reason == -1) << c.id << ": END_SESSION reason " << reason;
      expect_logged(c.id, from, c.expected);
    } else {
      ADD_FAILURE() << c.id << ": unknown kind " << c.kind;
    }
  }
  for (const auto& [kind, n] : by_kind) std::printf("bad input corpus: %d %s\n", n, kind.c_str());
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
  EXPECT_TRUE(f.daemon->running());
}

TEST_F(BadInput, CertificatesAndCsrsMadeAtTestTimeAndAWrongAuthenticationString) {
  using capf::crypto::make_csr;
  const std::string device = "SEP0BAD00000001";
  const auto ca_pem = shell("cat '" + f.ca_file + "'").out;
  auto phone_key = key(false), other_key = key(false), ec_key = key(true);

  // A certificate the other team signed for a key no phone asked for.
  ASSERT_EQ(shell("cd '" + f.dir.path() + "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout s.key "
                  "-subj /CN=SEP0BAD00000009 2>/dev/null | openssl x509 -req -CA other.pem -CAkey other.key -days 5 "
                  "-out stray.pem 2>/dev/null")
                .exit_code,
            0);
  expect_clear_error("cert-no-pending-csr", cli({"offline", "import", f.dir / "stray.pem", "--data-dir", f.data}),
                     "no pending CSR has this certificate's public key", "stray.pem");
  // A certificate of the CAPF CA's own making is not from the Offline CA's chain either.
  expect_clear_error("cert-capf-ca-itself", cli({"offline", "import", f.ca_file, "--data-dir", f.data}),
                     "the file holds only CA certificates, no phone certificate", "capf-ca.pem");

  // CSRs from a phone that lies or breaks (the daemon asks for RSA-2048 under the phone's CN).
  struct CsrCase {
    std::string id;
    std::vector<std::uint8_t> public_key, csr;
    std::string expected;
  };
  auto good_csr = make_csr(phone_key, device).value();
  auto bad_signature = good_csr;
  bad_signature[bad_signature.size() - 3] ^= 0x5a;
  const std::vector<CsrCase> csr_cases{
      {"csr-garbage", phone_key.public_key_der(), {0x30, 0x03, 0x02, 0x01, 0x00}, "the phone's CSR is not valid"},
      {"csr-truncated", phone_key.public_key_der(), {good_csr.begin(), good_csr.begin() + good_csr.size() / 2},
       "the phone's CSR is not valid"},
      {"csr-bad-signature", phone_key.public_key_der(), bad_signature, "the phone's CSR is not valid"},
      {"csr-wrong-cn", phone_key.public_key_der(), make_csr(phone_key, "SEP0BAD00000099").value(),
       "the phone's CSR names CN=SEP0BAD00000099, expected " + device},
      {"csr-other-key", phone_key.public_key_der(), make_csr(other_key, device).value(),
       "the phone's CSR carries another key than the PUBLIC_KEY it sent"},
      {"csr-wrong-key-type", make_csr(ec_key, device).value(), {}, "the phone's CSR has a"},
  };
  for (const auto& c : csr_cases) {
    SCOPED_TRACE(c.id);
    const std::size_t from = f.daemon->log().size();
    const int reason = csr_session(device, c.public_key, c.csr);
    EXPECT_TRUE(reason == 7 || reason == -1) << c.id << ": END_SESSION reason " << reason;
    expect_logged(c.id, from, c.expected);
  }

  // A user typed the wrong Authentication String; a phone capf does not know.
  for (auto [id, name, password, expected] :
       {std::tuple{"auth-wrong-string", "SEP0BAD00000002", "97531864", "wrong authentication string"},
        std::tuple{"auth-unknown-device", "SEP0BAD0000FFFF", "", "unknown device"}}) {
    SCOPED_TRACE(id);
    const std::size_t from = f.daemon->log().size();
    RawPhone p(f.daemon->port(), ca_pem);
    auto first = p.read();
    protocol::AuthResponse a;
    a.device_name = name;
    if (*password) a.password = std::string(password);
    send_message(p, protocol::build(a, first.session_id));
    int reason = -1;
    try {
      auto end = p.read();
      reason = end.u8(protocol::Tag::reason).value_or(255);
    } catch (const std::exception&) {
    }
    EXPECT_NE(reason, 1) << id;
    expect_logged(id, from, expected);
  }
  EXPECT_EQ(checked, 10);
  EXPECT_EQ(f.daemon->log().find("97531864"), std::string::npos) << "a typed Authentication String was logged";
}

}  // namespace
