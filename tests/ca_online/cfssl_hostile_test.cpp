// CfsslCa against a scripted server on loopback that answers as a broken or hostile cfssl (or
// a proxy in front of one) would: mistyped JSON fields, lying error codes, 5xx pages, absurd
// Retry-After and Content-Length values. Every answer ends as a classified outcome; nothing
// throws, and a 5xx that does not prove the request unprocessed is not retried.
#include <gtest/gtest.h>

#include "ca_online_support.hpp"
#include "capf/ca_online/cfssl_answer.hpp"
#include "capf/util/time.hpp"
#include "scripted_http.hpp"

namespace capf::test {
namespace {

using Answer = ScriptedHttp::Answer;

CaOutcome submit_to(ScriptedHttp& server) {
  OnlineCaParams p;
  p.type = "cfssl";
  p.host = "127.0.0.1";
  p.port = server.port();
  p.https = false;  // the scripted peer speaks plain HTTP
  p.template_name = "phone";
  p.auth_key_hex = "00112233445566778899aabbccddeeff";
  p.timeout_s = 5;
  auto ca = ca_online::make_online_ca(p, "");
  EXPECT_TRUE(ca) << ca.error().message;
  static const Csr csr = make_csr("SEP0000000000F1");
  return (*ca)->submit(csr.der, "SEP0000000000F1");
}

CaOutcome answered(Answer a) {
  ScriptedHttp server({std::move(a)});
  return submit_to(server);
}

TEST(CfsslHostile, AnErrorCodeThatIsAStringIsClassifiedNotThrown) {
  // The answer that used to end the daemon (std::terminate on the Online CA's pool).
  CaOutcome o = answered(ScriptedHttp::json(400, R"({"success":false,"errors":[{"code":"9001","message":"bad"}]})"));
  ASSERT_EQ(o.kind, CaOutcome::Kind::rejected);
  EXPECT_EQ(o.error_class, CaErrorClass::needs_admin) << o.message;
  EXPECT_NE(o.message.find("bad (code not a number)"), std::string::npos) << o.message;
}

TEST(CfsslHostile, MistypedFieldsNeverThrow) {
  for (const std::string body :
       {R"({"success":"yes","result":{"certificate":42}})", R"({"success":true,"result":[1,2]})",
        R"({"success":false,"errors":[{"code":1e300,"message":{"x":1}}]})",
        R"({"success":false,"errors":[{"code":-1000,"message":"neg"}]})",
        R"({"success":false,"errors":[{"code":18446744073709551615,"message":"huge"}]})",
        R"({"success":false,"errors":{"code":1000}})", R"({"success":false,"errors":[null,7,"x",[]]})", R"([])",
        R"("just a string")", R"({"success":true})"}) {
    CaOutcome o = answered(ScriptedHttp::json(200, body));
    EXPECT_EQ(o.kind, CaOutcome::Kind::rejected) << body;
    EXPECT_NE(o.error_class, CaErrorClass::none) << body;
    EXPECT_FALSE(o.message.empty()) << body;
  }
}

TEST(CfsslHostile, TheReaderBoundsWhatItKeeps) {
  auto a = ca_online::read_cfssl_answer(R"({"success":false,"errors":[{"code":2000000,"message":"m"},{"code":1003}]})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 1003);  // the out-of-range code is not a code; the next one is
  std::string many = R"({"errors":[)";
  for (int i = 0; i < 2000; ++i) many += std::string(i ? "," : "") + R"({"code":1,"message":"0123456789"})";
  a = ca_online::read_cfssl_answer(many + "]}");
  ASSERT_TRUE(a);
  EXPECT_LT(a->errors.size(), 1200u);
  EXPECT_FALSE(ca_online::read_cfssl_answer("{\"a\":" + std::string(100000, '[')));
}

TEST(CfsslHostile, A5xxWithoutCfsslsOwnAnswerIsNotSentAgain) {
  // A proxy's page: cfssl may have signed before the proxy failed, so the CSR is not resent.
  for (int status : {500, 502, 504}) {
    CaOutcome o = answered(Answer{status, {{"Content-Type", "text/html"}}, "<title>Bad Gateway</title>", false, {}});
    EXPECT_EQ(o.error_class, CaErrorClass::needs_admin) << status << ": " << o.message;
    EXPECT_NE(o.message.find("does not send it again"), std::string::npos) << o.message;
  }
  // cfssl's own error answer says it signed nothing: safe to send again.
  CaOutcome own =
      answered(ScriptedHttp::json(500, R"({"success":false,"errors":[{"code":5200,"message":"signer down"}]})"));
  EXPECT_EQ(own.error_class, CaErrorClass::retryable) << own.message;
  // 429 (refused before processing) may be retried, after the bounded Retry-After.
  CaOutcome busy = answered(Answer{429, {{"Retry-After", "99999999999999999999999"}}, "", false, {}});
  EXPECT_EQ(busy.error_class, CaErrorClass::retryable) << busy.message;
  EXPECT_EQ(busy.retry_after_s, util::kMaxRetryAfterS);
  busy = answered(Answer{429, {{"Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"}}, "", false, {}});
  EXPECT_EQ(busy.retry_after_s, util::kMaxRetryAfterS);
  busy = answered(Answer{429, {{"Retry-After", "-3"}}, "", false, {}});
  EXPECT_FALSE(busy.retry_after_s);
}

TEST(CfsslHostile, AbsurdContentLengthsEndAsClassifiedFailures) {
  for (const std::string length : {"99999999999999999999999", "-1", "18446744073709551616", "2000000"}) {
    CaOutcome o = answered(Answer{0, {}, "", false, "HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n\r\n{}"});
    EXPECT_EQ(o.kind, CaOutcome::Kind::rejected) << length;
    // The request left in full and no usable answer came back: it is not sent again.
    EXPECT_NE(o.error_class, CaErrorClass::retryable) << length << ": " << o.message;
  }
}

}  // namespace
}  // namespace capf::test
