// AdcsCa against capf-certsrv-emu: the outcomes of online-ca.md §3 (issue, pending, deny,
// parse errors, credentials, TLS names and trust, language, key type, User-Agent).
#include <gtest/gtest.h>

#include "ca_online_support.hpp"
#include "capf/ca_online/online_ca.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/util/text.hpp"

namespace capf::test {
namespace {

using certsrv::EmuProcess;

TEST(AdcsCa, IssuedWithChainFromARenewedCa) {
  EmuProcess emu(emu_args({"--template", "Phone=issue", "--renewals", "2"}));
  auto ca = adcs(emu, adcs_params(emu));
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->name(), "adcs");
  EXPECT_TRUE(ca->can_pend());
  auto csr = make_csr("SEP001122334455");
  CaOutcome o = ca->submit(csr.der, "SEP001122334455");
  expect_chains(o, emu.ca_pem(), csr);
  EXPECT_EQ(o.handle, "1");
  ASSERT_EQ(o.chain_pem.size(), 1u);  // the issuing CA from certnew.p7b
  EXPECT_EQ(crypto::Certificate::from_pem(o.chain_pem[0])->sha256_fingerprint(),
            crypto::Certificate::from_pem(emu.ca_pem())->sha256_fingerprint());
  // The renewed CA (k=2) signed it, not the first key: the renewal-0 certificate does not verify it.
  crypto::TrustStore first;
  first.add(*crypto::Certificate::from_pem(certsrv::slurp(emu.dir() + "/ca-0.pem")));
  EXPECT_FALSE(first.verify(*crypto::Certificate::from_pem(o.certificate_pem), util::now()));
  // Every submission took the next ReqID; the CSR went exactly once.
  auto second = make_csr("SEP001122334466");
  EXPECT_EQ(ca->submit(second.der, "SEP001122334466").handle, "2");
  auto stats = emu.stats();
  EXPECT_EQ(stats["submissions"][crypto::sha256_hex(csr.der)], 1);
  EXPECT_EQ(stats["last_req_id"], 2);
}

TEST(AdcsCa, PendingThenApprovedByPolling) {
  EmuProcess emu(emu_args({"--template", "Phone=pending"}));
  auto ca = adcs(emu, adcs_params(emu));
  auto csr = make_csr("SEP0000000000A1");
  CaOutcome o = ca->submit(csr.der, "SEP0000000000A1");
  ASSERT_EQ(o.kind, CaOutcome::Kind::pending) << o.message;
  EXPECT_EQ(o.handle, "1");
  EXPECT_EQ(o.retry_after_s, 60);  // poll_interval_s
  EXPECT_EQ(ca->poll(o.handle).kind, CaOutcome::Kind::pending);
  ASSERT_TRUE(emu.approve(o.handle));
  CaOutcome issued = ca->poll(o.handle);
  expect_chains(issued, emu.ca_pem(), csr);
  EXPECT_EQ(issued.handle, "1");
  EXPECT_EQ(emu.stats()["submissions"][crypto::sha256_hex(csr.der)], 1);
}

TEST(AdcsCa, PendingThenDeniedByAnAdministrator) {
  EmuProcess emu(emu_args({"--template", "Phone=pending"}));
  auto ca = adcs(emu, adcs_params(emu));
  auto csr = make_csr("SEP0000000000A2");
  CaOutcome o = ca->submit(csr.der, "SEP0000000000A2");
  ASSERT_EQ(o.kind, CaOutcome::Kind::pending);
  ASSERT_TRUE(emu.deny(o.handle));
  CaOutcome denied = ca->poll(o.handle);
  ASSERT_EQ(denied.kind, CaOutcome::Kind::rejected);
  EXPECT_EQ(denied.error_class, CaErrorClass::permanent);
  EXPECT_NE(denied.message.find("Denied by"), std::string::npos) << denied.message;
  EXPECT_NE(denied.message.find("0x80094014"), std::string::npos) << denied.message;
}

TEST(AdcsCa, DeniedTemplatesAndBadRequestsArePermanent) {
  EmuProcess emu(emu_args({"--template", "Phone=issue", "--template", "Locked=deny"}));
  auto csr = make_csr("SEP0000000000A3");

  auto unknown = adcs(emu, adcs_params(emu, "NoSuchTemplate"))->submit(csr.der, "d");
  EXPECT_EQ(unknown.error_class, CaErrorClass::permanent);
  EXPECT_NE(unknown.message.find("0x80094800"), std::string::npos) << unknown.message;
  EXPECT_NE(unknown.message.find("NoSuchTemplate"), std::string::npos) << unknown.message;
  EXPECT_EQ(unknown.handle, "1");

  auto locked = adcs(emu, adcs_params(emu, "Locked"))->submit(csr.der, "d");
  EXPECT_EQ(locked.error_class, CaErrorClass::permanent);
  EXPECT_NE(locked.message.find("0x80094012"), std::string::npos) << locked.message;

  std::vector<std::uint8_t> garbage{0x30, 0x03, 0x02, 0x01, 0x05};
  auto parse = adcs(emu, adcs_params(emu))->submit(garbage, "d");
  EXPECT_EQ(parse.error_class, CaErrorClass::permanent);
  EXPECT_NE(parse.message.find("Error Parsing Request"), std::string::npos) << parse.message;
  EXPECT_EQ(emu.stats()["last_req_id"], 3);  // denied requests take ReqIDs too
}

TEST(AdcsCa, WrongCredentialsNeedAnAdministratorAndAreNotRetried) {
  EmuProcess emu(emu_args({"--template", "Phone=issue"}));
  auto p = adcs_params(emu);
  p.password = "wrong-password-xyz";
  auto ca = adcs(emu, p);
  CaOutcome o = ca->submit(make_csr("SEP0000000000A4").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin);
  EXPECT_NE(o.message.find("HTTP 401; it offers: Negotiate, NTLM, Basic"), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find("wrong-password-xyz"), std::string::npos);
  EXPECT_EQ(emu.stats()["requests"]["/certsrv/certfnsh.asp"], 1);
  auto ok = adcs(emu, adcs_params(emu));
  EXPECT_EQ(static_cast<ca_online::AdcsCa*>(ok.get())->check_credentials().kind, CaOutcome::Kind::issued);
  EXPECT_EQ(static_cast<ca_online::AdcsCa*>(ca.get())->check_credentials().error_class, CaErrorClass::needs_admin);
}

TEST(AdcsCa, BasicNotEnabledIsNamed) {
  EmuProcess emu(emu_args({"--template", "Phone=issue", "--auth-schemes", "Negotiate,NTLM"}));
  CaOutcome o = adcs(emu, adcs_params(emu))->submit(make_csr("SEP0000000000A5").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin);
  EXPECT_NE(o.message.find("it offers: Negotiate, NTLM)"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("Basic, which is not enabled"), std::string::npos) << o.message;
}

TEST(AdcsCa, HostNameMustMatchTheHttpsCertificate) {
  EmuProcess emu(emu_args({"--template", "Phone=issue"}));
  auto p = adcs_params(emu);
  p.host = "ca.other.test";  // resolves to the emulator, whose certificate says certsrv.test
  CaOutcome o = adcs(emu, p)->submit(make_csr("SEP0000000000A6").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin);
  EXPECT_NE(o.message.find("ca.other.test"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("certsrv.test"), std::string::npos) << o.message;
  EXPECT_EQ(emu.stats()["requests"].count("/certsrv/certfnsh.asp"), 0u);  // nothing sent to the wrong name
}

TEST(AdcsCa, UntrustedChainIsRefused) {
  EmuProcess emu(emu_args({"--template", "Phone=issue"}));
  auto other = crypto::CertificateAuthority::create(crypto::CaOptions{});
  ASSERT_TRUE(other);
  auto ca = ca_online::make_online_ca(adcs_params(emu), other->certificate().to_pem());
  ASSERT_TRUE(ca);
  CaOutcome o = (*ca)->submit(make_csr("SEP0000000000A7").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin);
  EXPECT_NE(o.message.find("not trusted"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("EMU-Issuing-CA"), std::string::npos) << o.message;
  EXPECT_EQ(emu.stats()["requests"].count("/certsrv/certfnsh.asp"), 0u);
}

TEST(AdcsCa, NonEnglishCaIsNamedAsTheProblem) {
  EmuProcess emu(emu_args({"--template", "Phone=pending", "--template", "Now=issue", "--language", "ja"}));
  CaOutcome o = adcs(emu, adcs_params(emu))->submit(make_csr("SEP0000000000A8").der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin);
  EXPECT_NE(o.message.find("the Online CA must answer in English"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("not in English"), std::string::npos) << o.message;
  // The issued page's links are not translated: issuing still works on a Japanese CA.
  auto csr = make_csr("SEP0000000000A9");
  expect_chains(adcs(emu, adcs_params(emu, "Now"))->submit(csr.der, "d"), emu.ca_pem(), csr);
}

TEST(AdcsCa, EcKeysAreRefusedOnTheRsaOnlyTemplate) {
  EmuProcess emu(emu_args({"--template", "CAPF-compatible=issue", "--refuse-ec", "CAPF-compatible"}));
  auto ca = adcs(emu, adcs_params(emu, "CAPF-compatible"));
  auto ec = make_csr("SEP0000000000B1", KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
  CaOutcome o = ca->submit(ec.der, "d");
  EXPECT_EQ(o.error_class, CaErrorClass::permanent);
  EXPECT_NE(o.message.find("0x80094811"), std::string::npos) << o.message;
  auto rsa = make_csr("SEP0000000000B2");
  expect_chains(ca->submit(rsa.der, "d"), emu.ca_pem(), rsa);
}

TEST(AdcsCa, BrowserUserAgentAndContentTypeBranching) {
  EmuProcess emu(emu_args({"--template", "Phone=issue", "--require-mozilla", "--renewals", "1"}));
  auto csr = make_csr("SEP0000000000B3");
  expect_chains(adcs(emu, adcs_params(emu))->submit(csr.der, "d"), emu.ca_pem(), csr);
  auto stats = emu.stats();
  EXPECT_EQ(stats["requests_without_mozilla"], 0);
  EXPECT_EQ(stats["requests"]["/certsrv/certnew.cer"], 1);
  EXPECT_EQ(stats["requests"]["/certsrv/certnew.p7b"], 1);
  // What a client without a browser UA gets: 200 and HTML, not the certificate.
  auto plain = emu.call("GET", "/certsrv/certnew.cer?ReqID=1&Enc=b64", "capf-test", "capf", "s3cret-pass");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->content_type, "text/html");
  // Parameter names are case-insensitive; bin is DER; the CA chain endpoints know renewals.
  auto der = emu.call("GET", "/certsrv/certnew.cer?reqid=1&ENC=bin", "Mozilla/5.0", "capf", "s3cret-pass");
  ASSERT_TRUE(der);
  EXPECT_EQ(der->content_type, "application/pkix-cert");
  EXPECT_TRUE(crypto::Certificate::from_der(
      crypto::ByteView(reinterpret_cast<const std::uint8_t*>(der->body.data()), der->body.size())));
  auto carc = emu.call("GET", "/certsrv/certcarc.asp", "Mozilla/5.0", "capf", "s3cret-pass");
  EXPECT_NE(carc->body.find("var nRenewals=1;"), std::string::npos);
  auto cacert =
      emu.call("GET", "/certsrv/certnew.cer?ReqID=CACert&Renewal=1&Enc=b64", "Mozilla/5.0", "capf", "s3cret-pass");
  EXPECT_EQ(crypto::Certificate::from_pem(cacert->body)->sha256_fingerprint(),
            crypto::Certificate::from_pem(emu.ca_pem())->sha256_fingerprint());
}

TEST(CertsrvEmulator, AcceptsBareBase64AndLfAttributesAndNeedsNewreq) {
  EmuProcess emu(emu_args({"--template", "Phone=issue"}));
  auto csr = make_csr("SEP0000000000B4");
  const std::string form = "Mode=newreq&CertRequest=" + util::percent_encode(crypto::base64_encode(csr.der)) +
                           "&CertAttrib=" + util::percent_encode("CertificateTemplate:Phone\n") + "&ThumbPrint=";
  auto r = emu.call("POST", "/certsrv/certfnsh.asp", "Mozilla/5.0", "capf", "s3cret-pass", form);
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("certnew.cer?ReqID=1&"), std::string::npos) << r->body;
  auto bad = emu.call("POST", "/certsrv/certfnsh.asp", "Mozilla/5.0", "capf", "s3cret-pass", "Mode=bogus");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 200);
  EXPECT_NE(bad->body.find("Error Parsing Request"), std::string::npos);
  EXPECT_EQ(emu.stats()["last_req_id"], 1);
}

TEST(AdcsCa, PollingAnUnknownRequestNeedsAnAdministrator) {
  EmuProcess emu(emu_args({"--template", "Phone=issue"}));
  auto ca = adcs(emu, adcs_params(emu));
  CaOutcome o = ca->poll("4711");
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin);
  EXPECT_NE(o.message.find("0x80092004"), std::string::npos) << o.message;
  EXPECT_EQ(ca->poll("not-a-number").error_class, CaErrorClass::internal);
}

}  // namespace
}  // namespace capf::test
