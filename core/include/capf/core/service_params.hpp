// The CAPF service parameters an administrator sets with `capf config` (the seed's "Service
// Parameters" page of the CAPF service), with their ranges and defaults.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/util/result.hpp"

namespace capf {

/// Online CA Parameters.
struct OnlineCaParams {
  std::string type = "microsoft";  ///< "Online CA Type": microsoft (AD CS web enrollment) or cfssl
  std::string host;                ///< "Online CA Hostname": must equal the CN/SAN of its HTTPS certificate
  int port = 443;                  ///< "Online CA Port"
  std::string template_name;       ///< "Online CA Template" (AD CS template cn) or cfssl profile
  std::string username;            ///< "Online CA Username"
  std::string password;            ///< "Online CA Password"; never printed, logged or returned by the API
  std::string auth_key_hex;        ///< cfssl: HMAC key of the profile (hex); secret like the password
  std::string connect_address;     ///< tests/lab: connect here instead of resolving host (curl --resolve)
  /// "Online CA Scheme" (online-ca-scheme): https (the default; the server certificate must chain to
  /// CAPF-trust and name `host`) or, only when set explicitly, plain http for cfssl. AD CS is always https.
  bool https = true;
  int timeout_s = 30;              ///< one HTTP request
  int poll_interval_s = 300;       ///< re-check a pending request this often
  int retry_base_s = 5;            ///< first backoff ceiling for transient errors
  int retry_ceiling_s = 900;       ///< longest backoff
};

/// Every service parameter.
struct ServiceParams {
  IssuerKind issuer = IssuerKind::capf;      ///< "Certificate Issuer to Endpoint"
  int validity_days = kDefaultValidityDays;  ///< "Duration Of Certificate Validity", 1–1825
  int key_size = 2048;                       ///< CAPF CA key size for the next regenerate: 1024/2048/3072/4096
  int keygen_timeout_min = 10;               ///< "Maximum Allowable Time For Key Generation", 1–120 min
  int keygen_attempts = 3;                   ///< "Maximum Allowable Attempts for Key Generation", 1–100
  int keep_alive_min = 15;                   ///< CAPF session keep-alive, 5–60 min
  int max_sessions_per_address = 100;        ///< CAPF sessions open at once from one client address, 1–20000
  bool enable_ipv6 = true;                   ///< "Enable IPv6": listen dual stack
  int expiry_notice_days = 30;               ///< certificate monitor: notice this many days before expiry
  std::string notify_email;                  ///< certificate monitor: recipients, comma-separated
  std::string smtp_url;                      ///< e.g. smtp://127.0.0.1:2525
  std::string smtp_from = "capf@localhost";
  std::string smtp_user;                     ///< SMTP AUTH user; secret like the password
  std::string smtp_password;                 ///< SMTP AUTH password; never printed, logged or returned by the API
  /// With SMTP credentials, mail goes over TLS only (smtps://, or smtp:// with STARTTLS required);
  /// true allows credentials over a plain connection (lab servers).
  bool smtp_allow_plain = false;
  int monitor_frequency_h = 24;              ///< certificate monitor: "Notification Frequency", 1–720 hours between checks
  bool revoke_expired_lscs = false;          ///< certificate monitor: put delivered LSCs past notAfter on the CRL
  std::string time_zone = "UTC";             ///< the cluster's time zone (IANA): Operation Completes By "YYYY:MM:DD:HH"
  OnlineCaParams online_ca;
};

/// JSON text of the parameters and back. The JSON keeps secrets (it is what the 0700 store holds);
/// never show it. Decoding fills absent fields with defaults.
std::string encode_params(const ServiceParams& p);
Result<ServiceParams> decode_params(std::string_view json);

}  // namespace capf
