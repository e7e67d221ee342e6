// The CAPF CA's files over its life (load without creating, regenerate, retired CAs) and the
// CRL it signs.
#include "capf/crypto/ca_lifecycle.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "capf/util/files.hpp"
#include "ossl.hpp"

namespace capf::crypto {

namespace {

constexpr const char* kCertFile = "capf-ca.pem";
constexpr const char* kKeyFile = "capf-ca.key";

Error in_file(const std::string& path, const Error& e) {
  return make_error(e.code, path + ": " + e.message);
}

bool is_hex_serial(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

using CrlPtr = std::unique_ptr<X509_CRL, ossl::Free<X509_CRL_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, ossl::Free<X509_REVOKED_free>>;
using TimePtr = std::unique_ptr<ASN1_TIME, ossl::Free<ASN1_TIME_free>>;
using EnumPtr = std::unique_ptr<ASN1_ENUMERATED, ossl::Free<ASN1_ENUMERATED_free>>;

}  // namespace

Result<CertificateAuthority> load_ca(const std::string& dir) {
  const std::string cert_path = dir + "/" + kCertFile;
  const std::string key_path = dir + "/" + kKeyFile;
  if (!util::exists(cert_path) || !util::exists(key_path))
    return make_error(Errc::not_found, "no CAPF CA in " + dir + " (start `capf serve` once to create it)");
  auto cert_pem = util::read_file(cert_path);
  if (!cert_pem) return in_file(cert_path, cert_pem.error());
  auto key_pem = util::read_file(key_path);
  if (!key_pem) return in_file(key_path, key_pem.error());
  auto ca = CertificateAuthority::from_pem(*cert_pem, *key_pem);
  if (!ca) return in_file(dir, ca.error());
  return ca;
}

Result<Regenerated> regenerate_ca(const std::string& dir, const CaOptions& options) {
  auto old_ca = load_ca(dir);
  if (!old_ca) return old_ca.error();
  // Create first: an unsupported key must not leave anything changed on disk.
  auto new_ca = CertificateAuthority::create(options);
  if (!new_ca) return new_ca.error();
  const std::string retired = dir + "/retired";
  if (auto r = util::make_dirs(retired, 0700); !r) return in_file(retired, r.error());
  const std::string base = retired + "/" + old_ca->certificate().serial_hex();
  if (auto r = util::write_file_atomic(base + ".key", old_ca->key().to_pem(), 0600); !r)
    return in_file(base + ".key", r.error());
  if (auto r = util::write_file_atomic(base + ".pem", old_ca->certificate().to_pem(), 0644); !r)
    return in_file(base + ".pem", r.error());
  // Key first, as on creation. A crash between the two writes leaves a key that does not match
  // the certificate; load then names both files and the old pair is safe in retired/.
  const std::string key_path = dir + "/" + kKeyFile;
  const std::string cert_path = dir + "/" + kCertFile;
  if (auto r = util::write_file_atomic(key_path, new_ca->key().to_pem(), 0600); !r) return in_file(key_path, r.error());
  if (auto r = util::write_file_atomic(cert_path, new_ca->certificate().to_pem(), 0644); !r)
    return in_file(cert_path, r.error());
  return Regenerated{std::move(*old_ca), std::move(*new_ca), base + ".pem"};
}

Result<std::vector<RetiredCa>> retired_cas(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<RetiredCa> out;
  const fs::path retired = fs::path(dir) / "retired";
  std::error_code ec;
  if (!fs::is_directory(retired, ec)) return out;
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(retired, ec))
    if (e.path().extension() == ".pem") paths.push_back(e.path().string());
  if (ec) return make_error(Errc::io, retired.string() + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    auto pem = util::read_file(p);
    if (!pem) return in_file(p, pem.error());
    auto cert = Certificate::from_pem(*pem);
    if (!cert) return in_file(p, cert.error());
    out.push_back({std::move(*cert), p});
  }
  return out;
}

Result<void> delete_retired_ca(const std::string& dir, const std::string& serial_hex) {
  if (!is_hex_serial(serial_hex))
    return make_error(Errc::invalid_argument, "\"" + serial_hex + "\" is not a hex serial");
  const std::string base = dir + "/retired/" + serial_hex;
  if (!util::exists(base + ".pem")) return make_error(Errc::not_found, "no retired CAPF CA with serial " + serial_hex);
  std::error_code ec;
  std::filesystem::remove(base + ".key", ec);
  if (ec) return make_error(Errc::io, base + ".key: " + ec.message());
  std::filesystem::remove(base + ".pem", ec);
  if (ec) return make_error(Errc::io, base + ".pem: " + ec.message());
  return ok();
}

namespace {

struct ReasonName {
  RevocationReason reason;
  const char* name;
};
constexpr ReasonName kReasons[] = {
    {RevocationReason::unspecified, "unspecified"},
    {RevocationReason::key_compromise, "keyCompromise"},
    {RevocationReason::ca_compromise, "CACompromise"},
    {RevocationReason::affiliation_changed, "affiliationChanged"},
    {RevocationReason::superseded, "superseded"},
    {RevocationReason::cessation_of_operation, "cessationOfOperation"},
    {RevocationReason::certificate_hold, "certificateHold"},
    {RevocationReason::privilege_withdrawn, "privilegeWithdrawn"},
};

// "keyCompromise" and "key-compromise" both become "keycompromise".
std::string folded(std::string_view s) {
  std::string out;
  for (unsigned char c : s)
    if (c != '-' && c != '_') out.push_back(static_cast<char>(std::tolower(c)));
  return out;
}

}  // namespace

std::string_view to_string(RevocationReason r) {
  for (const auto& n : kReasons)
    if (n.reason == r) return n.name;
  return "unspecified";
}

std::optional<RevocationReason> parse_revocation_reason(std::string_view text) {
  const std::string f = folded(text);
  for (const auto& n : kReasons)
    if (folded(n.name) == f) return n.reason;
  return std::nullopt;
}

std::string revocation_reason_names() {
  std::string out;
  for (const auto& n : kReasons) out += (out.empty() ? "" : ", ") + std::string(n.name);
  return out;
}

Result<Bytes> make_crl(const CertificateAuthority& ca, const std::vector<RevokedEntry>& revoked,
                       std::uint64_t crl_number, util::UnixTime this_update, util::UnixTime next_update) {
  ossl::ErrorQueueScope scope;
  if (!ca.certificate().impl() || !ca.key().impl()) return make_error(Errc::internal, "the CA is not loaded");
  if (next_update <= this_update)
    return make_error(Errc::invalid_argument, "the CRL's nextUpdate must follow thisUpdate");
  X509* issuer = ca.certificate().impl()->with_key();
  CrlPtr crl(X509_CRL_new());
  if (!crl) return ossl::error("allocating a CRL failed");
  TimePtr last(ASN1_TIME_set(nullptr, static_cast<time_t>(this_update)));
  TimePtr next(ASN1_TIME_set(nullptr, static_cast<time_t>(next_update)));
  if (!last || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 || X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1)
    return ossl::error("filling in the CRL failed");

  for (const auto& e : revoked) {
    if (!is_hex_serial(e.serial_hex))
      return make_error(Errc::invalid_argument, "\"" + e.serial_hex + "\" is not a hex serial");
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, e.serial_hex.c_str()) == 0) return ossl::error("reading serial " + e.serial_hex + " failed");
    ossl::BnPtr bn(raw);
    ossl::Asn1IntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    TimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(e.revoked_at)));
    RevokedPtr entry(X509_REVOKED_new());
    if (!serial || !when || !entry || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1)
      return ossl::error("adding serial " + e.serial_hex + " to the CRL failed");
    if (e.reason != RevocationReason::unspecified) {
      EnumPtr code(ASN1_ENUMERATED_new());
      if (!code || ASN1_ENUMERATED_set(code.get(), static_cast<long>(e.reason)) != 1 ||
          X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, code.get(), 0, 0) != 1)
        return ossl::error("adding the reason code of serial " + e.serial_hex + " failed");
    }
    if (X509_CRL_add0_revoked(crl.get(), entry.get()) != 1)
      return ossl::error("adding serial " + e.serial_hex + " failed");
    static_cast<void>(entry.release());  // owned by the CRL now
  }

  ossl::Asn1IntPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_uint64(number.get(), crl_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    return ossl::error("adding the cRLNumber failed");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, crl.get(), 0);
  ossl::X509ExtPtr aki(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1)
    return ossl::error("adding the authorityKeyIdentifier failed");
  if (X509_CRL_sort(crl.get()) != 1) return ossl::error("sorting the CRL failed");
  if (X509_CRL_sign(crl.get(), ca.key().impl()->pkey.get(), EVP_sha256()) <= 0)
    return ossl::error("signing the CRL failed");

  const int len = i2d_X509_CRL(crl.get(), nullptr);
  if (len <= 0) return ossl::error("encoding the CRL failed");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_CRL(crl.get(), &p) != len) return ossl::error("encoding the CRL failed");
  return der;
}

std::string crl_pem(ByteView der) {
  ossl::ErrorQueueScope scope;
  auto bio = ossl::mem_bio();
  if (!bio || PEM_write_bio(bio.get(), "X509 CRL", "", der.data(), static_cast<long>(der.size())) <= 0) return "";
  return ossl::bio_text(bio.get());
}

}  // namespace capf::crypto
