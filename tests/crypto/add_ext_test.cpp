// ossl::add_ext (crypto/src/ossl.hpp): the one way crypto/ puts a configuration-text extension
// on a certificate it builds (the CA, LSCs, the dashboard's server certificate, bundles).
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <string>

#include "ossl.hpp"

namespace capf::crypto {
namespace {

struct Case {
  int nid;
  std::string value;
  bool ok;
  bool critical;  // when ok
};

TEST(AddExt, TableOfValues) {
  const Case cases[] = {
      {NID_basic_constraints, "critical,CA:FALSE", true, true},
      {NID_basic_constraints, "critical,CA:TRUE,pathlen:0", true, true},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment", true, true},
      {NID_ext_key_usage, "serverAuth,clientAuth", true, false},
      {NID_subject_key_identifier, "hash", true, false},
      {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1", true, false},
      // Mistaken and hostile values: each is an error naming the extension, nothing is added.
      {NID_basic_constraints, "critical,CA:MAYBE", false, false},
      {NID_basic_constraints, "", false, false},
      {NID_key_usage, "critical,launchMissiles", false, false},
      {NID_subject_alt_name, "IP:999.1.1.1", false, false},
      {NID_subject_alt_name, "@section", false, false},  // no configuration to look a section up in
      {NID_key_usage, "critical,digital\nSignature\x01", false, false},
      {NID_ext_key_usage, std::string(100'000, 'x'), false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.substr(0, 60));
    ossl::X509Ptr cert(X509_new());
    ossl::PkeyPtr key(EVP_EC_gen("P-256"));
    ASSERT_TRUE(cert && key);
    ASSERT_EQ(X509_set_pubkey(cert.get(), key.get()), 1);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const auto r = ossl::add_ext(cert.get(), &ctx, c.nid, c.value);
    ERR_clear_error();
    ASSERT_EQ(r.ok(), c.ok) << (r ? "" : r.error().message);
    const int at = X509_get_ext_by_NID(cert.get(), c.nid, -1);
    if (c.ok) {
      ASSERT_GE(at, 0);
      EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), at)) == 1, c.critical);
    } else {
      EXPECT_LT(at, 0) << "a refused extension was added";
      EXPECT_EQ(r.error().code, Errc::crypto);
      EXPECT_NE(r.error().message.find(std::string("adding the ") + OBJ_nid2ln(c.nid) + " extension"), std::string::npos)
          << r.error().message;
      EXPECT_EQ(r.error().message.find_first_of("\n\x01"), std::string::npos) << "a control character reached the message";
    }
  }
}

}  // namespace
}  // namespace capf::crypto
