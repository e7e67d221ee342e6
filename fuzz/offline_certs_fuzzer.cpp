// libFuzzer target for the offline import's certificate reader: crypto::certificates_from_bytes
// (PEM, DER X.509, DER or PEM PKCS#7) and every fact the import then reads from each certificate.
// Built by scripts/fuzz.sh offline_certs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "capf/crypto/bundle.hpp"
#include "capf/crypto/crypto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto certs = capf::crypto::certificates_from_bytes(capf::crypto::ByteView(data, size));
  if (!certs) {
    if (certs.error().message.empty()) {
      std::fprintf(stderr, "offline_certs_fuzzer: an error without a message\n");
      std::abort();
    }
    return 0;
  }
  for (const auto& c : *certs) {
    (void)c.is_ca();
    (void)c.subject();
    (void)c.subject_cn();
    (void)c.issuer();
    (void)c.serial_hex();
    (void)c.not_before();
    (void)c.not_after();
    (void)c.key_spec();
    (void)c.public_key_der();
    (void)c.has_key_usage("digitalSignature");
    (void)c.has_key_usage("keyEncipherment");
    (void)c.dns_names();
    (void)c.sha256_fingerprint();
    // What the import keeps must read back as the same certificate.
    auto again = capf::crypto::Certificate::from_der(c.to_der());
    if (!again || again->sha256_fingerprint() != c.sha256_fingerprint()) {
      std::fprintf(stderr, "offline_certs_fuzzer: a certificate does not survive to_der/from_der\n");
      std::abort();
    }
  }
  return 0;
}
