// Outbound e-mail over SMTP (certificate-expiry notices). Like http_client.hpp, the curl
// handle lives in net/src only; no curl type appears here.
#pragma once

#include <string>
#include <vector>

#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf::net {

/// One plain-text message.
struct MailMessage {
  std::string smtp_url;               ///< smtp://host[:port] or smtps://host[:port]; credentials in it are refused
  std::string from;                   ///< envelope and header sender, e.g. capf@example.com
  std::vector<std::string> to;        ///< recipients (at least one)
  std::string subject;                ///< one line; CR/LF are replaced by spaces
  std::string body;                   ///< UTF-8 text; lines end with \n or \r\n
  util::UnixTime date = 0;            ///< the Date: header (0: now)
  long timeout_ms = 20000;            ///< whole conversation, connect included
  bool require_tls = false;           ///< smtp://: insist on STARTTLS (smtps:// is always TLS)
  std::string user, password;         ///< SMTP AUTH when set; then smtp:// insists on STARTTLS unless allow_plain
  bool allow_plain = false;           ///< with credentials: go on without TLS when the server offers none
};

/// Sends one message (blocking; thread-safe). Errors: Errc::invalid_argument (bad URL, scheme,
/// credentials in the URL, no recipient, an address holding CR/LF/<>), Errc::timeout,
/// Errc::unavailable (refused, DNS, TLS, no STARTTLS where credentials need it, a 4xx/5xx
/// reply), each naming the server, never the password.
Result<void> send_mail(const MailMessage& message);

/// Splits "a@x, b@y;c@z" into addresses (commas, semicolons and spaces separate them).
std::vector<std::string> split_addresses(const std::string& list);

}  // namespace capf::net
