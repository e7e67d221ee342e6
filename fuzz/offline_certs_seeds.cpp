// Seeds of offline_certs_fuzzer, made at run time (no test PKI is committed): a CA and a phone
// certificate it issued, as PEM, DER, a PEM chain, and PKCS#7 bundles in DER and PEM.
#include <cstdio>
#include <fstream>
#include <string>

#include "capf/crypto/bundle.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/time.hpp"

using namespace capf;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: offline_certs_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  crypto::CaOptions options;
  options.key = KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
  options.common_name = "Fuzz Issuing CA";
  auto ca = crypto::CertificateAuthority::create(options);
  auto key = crypto::PrivateKey::generate(KeySpec{KeyAlgorithm::rsa, 1024, EcCurve::p256});
  if (!ca || !key) return 1;
  const auto spki = key->public_key_der();
  crypto::IssueRequest leaf_request;
  leaf_request.common_name = "SEP001122334455";
  leaf_request.subject_public_key = spki;
  leaf_request.not_before = util::now() - 60;
  leaf_request.not_after = util::now() + 86400;
  leaf_request.key_usage = "critical,digitalSignature,keyEncipherment";
  leaf_request.ext_key_usage = "serverAuth,clientAuth";
  auto leaf = crypto::issue_certificate(leaf_request, &*ca);
  if (!leaf) return 1;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  };
  auto text = [](const crypto::Bytes& b) { return std::string(b.begin(), b.end()); };
  write("leaf.pem", leaf->to_pem());
  write("leaf.der", text(leaf->to_der()));
  write("chain.pem", leaf->to_pem() + ca->certificate().to_pem());
  auto p7 = crypto::pkcs7_der({*leaf, ca->certificate()});
  if (!p7) return 1;
  write("chain.p7b", text(*p7));
  write("chain.p7b.pem", crypto::pem_encode("PKCS7", *p7));
  return 0;
}
