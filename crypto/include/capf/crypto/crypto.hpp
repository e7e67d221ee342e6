// The only layer that touches OpenSSL. Keys and certificates are opaque handles here;
// no <openssl/*> header leaks out of crypto/src.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf::crypto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// A private key (RSA or EC). Movable, not copyable.
class PrivateKey {
 public:
  PrivateKey();
  ~PrivateKey();
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;

  /// Generates a new key of the given kind.
  static Result<PrivateKey> generate(const KeySpec& spec);
  /// Reads a PEM private key (PKCS#8 or traditional).
  static Result<PrivateKey> from_pem(const std::string& pem);
  /// PKCS#8 PEM, unencrypted. Write it only to 0600 files.
  std::string to_pem() const;
  /// DER SubjectPublicKeyInfo of the public half.
  Bytes public_key_der() const;
  /// The algorithm, size and curve of this key.
  KeySpec spec() const;

  struct Impl;
  Impl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

/// An X.509 certificate. Cheap to copy (shared, immutable).
class Certificate {
 public:
  Certificate();
  ~Certificate();
  Certificate(const Certificate&);
  Certificate& operator=(const Certificate&);
  Certificate(Certificate&&) noexcept;
  Certificate& operator=(Certificate&&) noexcept;

  /// Parses one DER certificate; trailing bytes are an error.
  static Result<Certificate> from_der(ByteView der);
  /// Parses the first certificate of a PEM text.
  static Result<Certificate> from_pem(const std::string& pem);
  /// Every certificate in a PEM bundle, in order (other PEM blocks, e.g. keys, are skipped).
  /// An error when the text holds no certificate or a certificate block is broken.
  static Result<std::vector<Certificate>> all_from_pem(const std::string& pem);
  /// Every certificate of a PKCS#7 certs-only bundle (.p7b, application/x-pkcs7-certificates),
  /// in the bundle's order. Accepts DER, base64 of the DER, or PEM ("PKCS7" or "CERTIFICATE"
  /// blocks). An error (Errc::crypto) names what is wrong: not PKCS#7, not signedData, no certificates.
  static Result<std::vector<Certificate>> all_from_pkcs7(ByteView data);

  /// DER encoding ({} for an empty handle).
  Bytes to_der() const;
  /// PEM encoding ("" for an empty handle).
  std::string to_pem() const;
  /// Subject Common Name ("" if none).
  std::string subject_cn() const;
  /// One-line RFC 2253 subject and issuer names.
  std::string subject() const;
  std::string issuer() const;
  /// Lower-case hex serial without leading zeros.
  std::string serial_hex() const;
  /// Start of validity, Unix seconds.
  util::UnixTime not_before() const;
  /// End of validity, Unix seconds.
  util::UnixTime not_after() const;
  /// DER SubjectPublicKeyInfo.
  Bytes public_key_der() const;
  /// Key algorithm and size of the subject key (a default KeySpec for keys other than
  /// RSA ≥ 1024 or EC P-256/384/521; use inspect_public_key(public_key_der()) for the reason).
  KeySpec key_spec() const;
  /// basicConstraints CA:TRUE.
  bool is_ca() const;
  /// Lower-case hex SHA-256 of the DER.
  std::string sha256_fingerprint() const;
  /// True when this certificate's key usage has every bit named ("digitalSignature",
  /// "keyEncipherment", "keyCertSign", "cRLSign"; several may be given comma-separated).
  /// False when the certificate has no keyUsage extension.
  bool has_key_usage(const std::string& usage) const;
  /// True when the extended key usage lists serverAuth / clientAuth.
  bool has_ext_key_usage(const std::string& usage) const;
  /// The DNS names of the subjectAltName extension, in order (empty when there is none).
  std::vector<std::string> dns_names() const;

  struct Impl;
  Impl* impl() const { return impl_.get(); }
  /// Wraps an implementation object; only crypto/ can build one (Impl is opaque elsewhere).
  static Certificate from_impl(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

/// What a DER SubjectPublicKeyInfo holds: RSA (≥ 1024 bits) or EC on P-256/384/521. Errors
/// (Errc::crypto) name the problem: not DER, trailing bytes, too small, unsupported curve/algorithm.
Result<KeySpec> inspect_public_key(ByteView spki_der);

/// Settings of the CAPF CA created on first start.
struct CaOptions {
  KeySpec key{KeyAlgorithm::rsa, 2048, EcCurve::p256};  ///< RSA-2048 default; also RSA-3072/4096, EC P-256/P-384
  std::string common_name;                              ///< default "CAPF-" + 8 random hex digits
  std::string organization = "capf";
  int validity_days = 3650;
};

/// The CAPF CA: TLS certificate of the CAPF port and issuer of LSCs.
class CertificateAuthority {
 public:
  /// Loads `dir/capf-ca.pem` + `dir/capf-ca.key`, or creates them (dir 0700, key file 0600,
  /// cert 0644) when both are absent. `options` only matter when creating. Errors: key and
  /// certificate do not match (crypto); only one of the two files exists (not_found; never
  /// overwritten); unsupported options.key or validity (invalid_argument).
  static Result<CertificateAuthority> load_or_create(const std::string& dir, const CaOptions& options);
  /// Creates a CA in memory (used for simulated manufacturer CAs in tests and the simulator).
  static Result<CertificateAuthority> create(const CaOptions& options);
  /// Wraps an existing certificate and key; an error when the key does not match.
  static Result<CertificateAuthority> from_pem(const std::string& cert_pem, const std::string& key_pem);

  const Certificate& certificate() const { return cert_; }
  const PrivateKey& key() const { return *key_; }

  /// Issues an LSC: CN = device name, 128-bit random serial, SHA-256, keyUsage
  /// digitalSignature+keyEncipherment (critical), EKU serverAuth+clientAuth, basicConstraints
  /// CA:false, issuer = this CA's subject, valid from now-5min to now+validity_days.
  /// validity_days outside 1–1825 → invalid_argument. The certificate holds the phone's key
  /// exactly as `spki_der` gives it.
  ///
  /// `admit`, when given, is asked about the key once it is parsed and before anything is
  /// signed; its error is the answer (the key is parsed once for both).
  using KeyAdmission = std::function<Result<void>(const KeySpec&)>;
  Result<Certificate> issue_lsc(const std::string& device_name, ByteView spki_der, int validity_days,
                                util::UnixTime now, const KeyAdmission& admit = {}) const;

  /// Issues a manufacturer-style certificate (MIC) for the simulator: same profile as an LSC,
  /// any validity.
  Result<Certificate> issue_mic(const std::string& common_name, ByteView spki_der, int validity_days,
                                util::UnixTime now) const;

  /// Issues an HTTPS server certificate for `dns_name` (CN and subjectAltName DNS = the name;
  /// EKU serverAuth+clientAuth), for test fixtures that must present a real host name.
  Result<Certificate> issue_server(const std::string& dns_name, ByteView spki_der, int validity_days,
                                   util::UnixTime now) const;

 private:
  Certificate cert_;
  std::shared_ptr<PrivateKey> key_;
};

/// Hash used inside CAPF authentication signatures.
enum class CapfHash : std::uint8_t { sha1 = 1, sha256 = 2, sha512 = 3 };

/// RSA signature block variant: bare digest (what capfc emits) or with DigestInfo.
enum class RsaDigestForm : std::uint8_t { bare_digest, digest_info };

/// Signs `data` the way a phone does in AUTH_RESPONSE (RSA: PKCS#1 v1.5 type-1 block around
/// the digest, bare or DigestInfo; EC: DER ECDSA).
Result<Bytes> sign_capf(const PrivateKey& key, ByteView data, CapfHash hash, RsaDigestForm form);

/// Verifies a phone's signature with the certificate's public key. RSA accepts both the bare
/// digest and the DigestInfo form (a signature shorter than the modulus is left-padded).
/// A mismatch is Errc::crypto "signature does not verify with the certificate's key".
Result<void> verify_capf(const Certificate& cert, ByteView data, ByteView signature, CapfHash hash);

/// A set of trusted CA certificates (CAPF-trust).
class TrustStore {
 public:
  TrustStore();
  ~TrustStore();
  TrustStore(TrustStore&&) noexcept;
  TrustStore& operator=(TrustStore&&) noexcept;

  /// Trusts `ca` (a duplicate is ignored). Not to be called concurrently with verify().
  void add(const Certificate& ca);
  /// Number of distinct certificates trusted.
  std::size_t size() const;

  /// Verifies that `leaf` chains to a certificate here (with `intermediates` as untrusted
  /// helpers) and is within its validity at `now`. Every certificate added is a trust anchor,
  /// so an added intermediate CA suffices without its root. The error (Errc::crypto) names the
  /// subject and OpenSSL's reason, e.g. "certificate CN=SEP…,O=capf does not chain to
  /// CAPF-trust: certificate has expired". Thread-safe for concurrent verify().
  Result<void> verify(const Certificate& leaf, util::UnixTime now,
                      const std::vector<Certificate>& intermediates = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Cryptographically random bytes. Throws std::runtime_error if the OpenSSL DRBG fails.
Bytes random_bytes(std::size_t n);
/// A string of n random decimal digits (authentication strings), unbiased.
std::string random_digits(std::size_t n);
/// Constant-time equality for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

/// PKCS#10 request (CA modes, capf-protocol.md §11).
Result<Bytes> make_csr(const PrivateKey& key, const std::string& common_name);
/// DER X.501 Name "CN=common_name" (CSR_SUBJECT of SIGN_CERTIFICATE_REQUEST).
Result<Bytes> subject_der(const std::string& common_name);
/// Parses and verifies a DER CSR (self-signature, RSA/EC key as in inspect_public_key);
/// returns its SubjectPublicKeyInfo DER and subject CN ("" if none).
struct CsrInfo {
  Bytes public_key_der;
  std::string common_name;
};
Result<CsrInfo> verify_csr(ByteView der);

}  // namespace capf::crypto
