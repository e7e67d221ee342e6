#include "capf/core/vocabulary.hpp"

#include <array>
#include <utility>

#include "capf/util/text.hpp"

namespace capf {

namespace {

template <class E, size_t N>
std::optional<E> lookup(std::string_view text, const std::array<std::pair<std::string_view, E>, N>& table) {
  const auto t = util::trim(text);
  for (const auto& [name, value] : table)
    if (util::iequals(name, t)) return value;
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, CertificateOperation>, 10> kOperations{{
    {"No Pending Operation", CertificateOperation::none},
    {"none", CertificateOperation::none},
    {"Install/Upgrade", CertificateOperation::install_upgrade},
    {"install", CertificateOperation::install_upgrade},
    {"upgrade", CertificateOperation::install_upgrade},
    {"Delete", CertificateOperation::delete_lsc},
    {"Troubleshoot", CertificateOperation::troubleshoot},
    {"fetch", CertificateOperation::troubleshoot},
    {"Install", CertificateOperation::install_upgrade},
    {"No Operation", CertificateOperation::none},
}};

constexpr std::array<std::pair<std::string_view, AuthMode>, 8> kAuthModes{{
    {"By Authentication String", AuthMode::auth_string},
    {"string", AuthMode::auth_string},
    {"By Null String", AuthMode::null_string},
    {"null", AuthMode::null_string},
    {"By Existing Certificate (Precedence to LSC)", AuthMode::existing_cert_lsc},
    {"lsc", AuthMode::existing_cert_lsc},
    {"By Existing Certificate (Precedence to MIC)", AuthMode::existing_cert_mic},
    {"mic", AuthMode::existing_cert_mic},
}};

constexpr std::array<std::pair<std::string_view, KeyOrder>, 10> kKeyOrders{{
    {"RSA Only", KeyOrder::rsa_only},
    {"rsa", KeyOrder::rsa_only},
    {"EC Only", KeyOrder::ec_only},
    {"ec", KeyOrder::ec_only},
    {"EC Preferred, RSA Backup", KeyOrder::ec_preferred_rsa_backup},
    {"EC Preferred RSA Backup", KeyOrder::ec_preferred_rsa_backup},
    {"ec-rsa", KeyOrder::ec_preferred_rsa_backup},
    {"RSA Preferred, EC Backup", KeyOrder::rsa_preferred_ec_backup},
    {"RSA Preferred EC Backup", KeyOrder::rsa_preferred_ec_backup},
    {"rsa-ec", KeyOrder::rsa_preferred_ec_backup},
}};

constexpr std::array<std::pair<std::string_view, IssuerKind>, 6> kIssuers{{
    {"CAPF", IssuerKind::capf},
    {"Online CA", IssuerKind::online_ca},
    {"online", IssuerKind::online_ca},
    {"Offline CA", IssuerKind::offline_ca},
    {"offline", IssuerKind::offline_ca},
    {"Cisco Certificate Authority Proxy Function", IssuerKind::capf},
}};

constexpr std::array<std::pair<std::string_view, OperationStatus>, 7> kStatuses{{
    {"none", OperationStatus::none},
    {"pending", OperationStatus::pending},
    {"in-progress", OperationStatus::in_progress},
    {"success", OperationStatus::success},
    {"failed", OperationStatus::failed},
    {"locked", OperationStatus::locked},
    {"expired", OperationStatus::expired},
}};

constexpr std::array<std::pair<std::string_view, SecurityMode>, 9> kSecurityModes{{
    {"Non Secure", SecurityMode::non_secure},
    {"Non-Secure", SecurityMode::non_secure},
    {"Nonsecure", SecurityMode::non_secure},
    {"none", SecurityMode::non_secure},
    {"Authenticated", SecurityMode::authenticated},
    {"auth", SecurityMode::authenticated},
    {"Encrypted", SecurityMode::encrypted},
    {"encrypt", SecurityMode::encrypted},
    {"Non_Secure", SecurityMode::non_secure},
}};

}  // namespace

std::string_view to_string(CertificateOperation v) {
  switch (v) {
    case CertificateOperation::none: return "No Pending Operation";
    case CertificateOperation::install_upgrade: return "Install/Upgrade";
    case CertificateOperation::delete_lsc: return "Delete";
    case CertificateOperation::troubleshoot: return "Troubleshoot";
  }
  return "?";
}

std::string_view to_string(AuthMode v) {
  switch (v) {
    case AuthMode::auth_string: return "By Authentication String";
    case AuthMode::null_string: return "By Null String";
    case AuthMode::existing_cert_lsc: return "By Existing Certificate (Precedence to LSC)";
    case AuthMode::existing_cert_mic: return "By Existing Certificate (Precedence to MIC)";
  }
  return "?";
}

std::string_view to_string(KeyAlgorithm v) { return v == KeyAlgorithm::rsa ? "RSA" : "EC"; }

std::string_view to_string(EcCurve v) {
  switch (v) {
    case EcCurve::p256: return "P-256";
    case EcCurve::p384: return "P-384";
    case EcCurve::p521: return "P-521";
  }
  return "?";
}

std::string_view to_string(KeyOrder v) {
  switch (v) {
    case KeyOrder::rsa_only: return "RSA Only";
    case KeyOrder::ec_only: return "EC Only";
    case KeyOrder::ec_preferred_rsa_backup: return "EC Preferred, RSA Backup";
    case KeyOrder::rsa_preferred_ec_backup: return "RSA Preferred, EC Backup";
  }
  return "?";
}

std::string_view to_string(IssuerKind v) {
  switch (v) {
    case IssuerKind::capf: return "CAPF";
    case IssuerKind::online_ca: return "Online CA";
    case IssuerKind::offline_ca: return "Offline CA";
  }
  return "?";
}

std::string_view to_string(OperationStatus v) {
  for (const auto& [name, value] : kStatuses)
    if (value == v) return name;
  return "?";
}

std::string_view to_string(SecurityMode v) {
  switch (v) {
    case SecurityMode::non_secure: return "Non Secure";
    case SecurityMode::authenticated: return "Authenticated";
    case SecurityMode::encrypted: return "Encrypted";
  }
  return "?";
}

std::string to_string(const KeySpec& v) {
  if (v.algorithm == KeyAlgorithm::rsa) return "RSA-" + std::to_string(v.rsa_bits);
  return "EC-P" + std::to_string(curve_bits(v.curve));
}

std::optional<CertificateOperation> parse_operation(std::string_view t) { return lookup(t, kOperations); }
std::optional<AuthMode> parse_auth_mode(std::string_view t) { return lookup(t, kAuthModes); }
std::optional<KeyOrder> parse_key_order(std::string_view t) { return lookup(t, kKeyOrders); }
std::optional<IssuerKind> parse_issuer(std::string_view t) { return lookup(t, kIssuers); }
std::optional<OperationStatus> parse_status(std::string_view t) { return lookup(t, kStatuses); }
std::optional<SecurityMode> parse_security_mode(std::string_view t) { return lookup(t, kSecurityModes); }

SecurityMode security_mode_from_profile(std::string_view profile) {
  const std::string p = util::to_lower(profile);
  auto has = [&](std::string_view w) { return p.find(w) != std::string::npos; };
  if (has("non-secure") || has("nonsecure") || has("non secure")) return SecurityMode::non_secure;
  if (has("encrypt")) return SecurityMode::encrypted;
  if (has("authenticat")) return SecurityMode::authenticated;
  if (has("secure")) return SecurityMode::encrypted;
  return SecurityMode::non_secure;
}

std::optional<std::string> auth_string_refusal(SecurityMode mode) {
  if (mode == SecurityMode::non_secure) return std::nullopt;
  return "By Authentication String cannot work with Device Security Mode " + std::string(to_string(mode)) +
         ": the phone does not register until the CAPF session ends, so nobody can enter the string on it "
         "(use By Null String or By Existing Certificate, or a Non Secure profile until the LSC is installed)";
}

std::optional<EcCurve> curve_from_bits(int bits) {
  switch (bits) {
    case 256: return EcCurve::p256;
    case 384: return EcCurve::p384;
    case 521: return EcCurve::p521;
    default: return std::nullopt;
  }
}

int curve_bits(EcCurve c) {
  switch (c) {
    case EcCurve::p256: return 256;
    case EcCurve::p384: return 384;
    case EcCurve::p521: return 521;
  }
  return 0;
}

bool valid_rsa_bits(int bits) { return bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096; }

bool valid_device_name(std::string_view name) {
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  if (name.size() >= 3 && util::iequals(name.substr(0, 3), "SEP")) {
    if (name.size() != 15) return false;
    for (char c : name.substr(3))
      if (!is_hex(c)) return false;
    return true;
  }
  if (name.empty() || name.size() > 15) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_auth_string(std::string_view s) {
  if (s.size() < 4 || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool same_key_kind(const KeySpec& a, const KeySpec& b) {
  if (a.algorithm != b.algorithm) return false;
  return a.algorithm == KeyAlgorithm::rsa ? a.rsa_bits == b.rsa_bits : a.curve == b.curve;
}

}  // namespace capf
