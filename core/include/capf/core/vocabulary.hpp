// The domain's words as types: Certificate Operation, Authentication Mode, keys, reasons.
// Every enum converts to the seed's display text and back, accepting short CLI forms too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capf {

/// Certificate Operation armed on a device.
enum class CertificateOperation : std::uint8_t {
  none,             ///< "No Pending Operation"
  install_upgrade,  ///< "Install/Upgrade"
  delete_lsc,       ///< "Delete"
  troubleshoot,     ///< "Troubleshoot": fetch the phone's LSC/MIC for inspection
};

/// How the phone proves who it is at the start of a CAPF session.
enum class AuthMode : std::uint8_t {
  auth_string,       ///< "By Authentication String"
  null_string,       ///< "By Null String"
  existing_cert_lsc, ///< "By Existing Certificate (Precedence to LSC)"
  existing_cert_mic, ///< "By Existing Certificate (Precedence to MIC)"
};

/// Public-key algorithm of a phone key.
enum class KeyAlgorithm : std::uint8_t { rsa, ec };

/// Named EC curves phones support.
enum class EcCurve : std::uint8_t { p256, p384, p521 };

/// Key Order: which key types the phone is asked for, in which order.
enum class KeyOrder : std::uint8_t {
  rsa_only,                 ///< "RSA Only"
  ec_only,                  ///< "EC Only"
  ec_preferred_rsa_backup,  ///< "EC Preferred, RSA Backup"
  rsa_preferred_ec_backup,  ///< "RSA Preferred, EC Backup"
};

/// Device Security Mode of the phone's security profile. With Authenticated or Encrypted the
/// phone does not register until its CAPF session ends, so nobody can enter an Authentication
/// String on it: By Authentication String cannot work (seed, "CAPF Examples with 7942 and 7962").
enum class SecurityMode : std::uint8_t {
  non_secure,     ///< "Non Secure"
  authenticated,  ///< "Authenticated"
  encrypted,      ///< "Encrypted"
};

/// Where the LSC comes from ("Certificate Issuer to Endpoint").
enum class IssuerKind : std::uint8_t { capf, online_ca, offline_ca };

/// One key the phone is asked to generate.
struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::rsa;
  int rsa_bits = 2048;          ///< used when algorithm == rsa
  EcCurve curve = EcCurve::p256; ///< used when algorithm == ec
  bool operator==(const KeySpec&) const = default;
};

/// Outcome of the armed operation on a device, shown in listings.
enum class OperationStatus : std::uint8_t {
  none,         ///< nothing armed or nothing happened yet
  pending,      ///< armed, waiting for the phone
  in_progress,  ///< a CAPF session is running it
  success,      ///< done
  failed,       ///< the last attempt failed; see the reason
  locked,       ///< too many wrong authentication strings; re-arm with a new string
  expired,      ///< "Operation Completes By" passed before it was done
};

std::string_view to_string(CertificateOperation v);
std::string_view to_string(AuthMode v);
std::string_view to_string(KeyAlgorithm v);
std::string_view to_string(EcCurve v);
std::string_view to_string(KeyOrder v);
std::string_view to_string(IssuerKind v);
std::string_view to_string(OperationStatus v);
std::string_view to_string(SecurityMode v);
/// "RSA-2048", "EC-P256".
std::string to_string(const KeySpec& v);
/// The same kind of key: algorithm plus RSA size or EC curve (the other algorithm's field is
/// not compared, unlike operator==).
bool same_key_kind(const KeySpec& a, const KeySpec& b);

/// Parsers accept the seed's display text (case-insensitive) and the short forms used on the
/// command line ("install", "delete", "troubleshoot", "none"; "string", "null", "lsc", "mic";
/// "rsa", "ec", "ec-rsa", "rsa-ec").
std::optional<CertificateOperation> parse_operation(std::string_view text);
std::optional<AuthMode> parse_auth_mode(std::string_view text);
std::optional<KeyOrder> parse_key_order(std::string_view text);
std::optional<IssuerKind> parse_issuer(std::string_view text);
std::optional<OperationStatus> parse_status(std::string_view text);
/// "Non Secure" (also "Non-Secure", "Nonsecure", "none"), "Authenticated" ("auth"), "Encrypted"
/// ("encrypt"), case-insensitive.
std::optional<SecurityMode> parse_security_mode(std::string_view text);

/// The Device Security Mode a Device Security Profile's name implies, used only when a CSV has
/// no "Device Security Mode" column (and for devices stored before the mode existed). The rule,
/// on the name in any case: "non-secure", "nonsecure" or "non secure" → Non Secure; else
/// "encrypt" → Encrypted; else "authenticat" → Authenticated; else "secure" → Encrypted (Unified
/// CM's "Standard SIP Secure Profile" encrypts); anything else, or no profile → Non Secure.
SecurityMode security_mode_from_profile(std::string_view profile);

/// Why By Authentication String cannot be used in this Device Security Mode, or nullopt when it
/// can (Non Secure).
std::optional<std::string> auth_string_refusal(SecurityMode mode);

/// Curve from its size in bits (256, 384, 521).
std::optional<EcCurve> curve_from_bits(int bits);
/// Size in bits of a curve.
int curve_bits(EcCurve c);

/// RSA key sizes a phone may be asked for.
bool valid_rsa_bits(int bits);

/// Device name rule: "SEP" + 12 hex digits for phones; other endpoints 1–15 of [A-Za-z0-9._-].
bool valid_device_name(std::string_view name);

/// Authentication strings are 4–10 digits.
bool valid_auth_string(std::string_view s);

/// "Duration of Certificate Validity" bounds, in days.
inline constexpr int kMinValidityDays = 1;
inline constexpr int kMaxValidityDays = 1825;
inline constexpr int kDefaultValidityDays = 1825;

/// Wrong authentication strings tolerated before a device's operation is locked.
inline constexpr int kMaxAuthFailures = 5;

}  // namespace capf
