// String helpers used across layers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace capf::util {

/// Lower-case hex of the bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Bytes of a hex string (either case); nullopt on an odd length or a non-hex character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

/// Removes ASCII white space at both ends.
std::string_view trim(std::string_view s);

/// ASCII lower-case copy.
std::string to_lower(std::string_view s);

/// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

/// Parses a whole string as a decimal integer; nullopt on anything else.
std::optional<std::int64_t> parse_int(std::string_view s);

/// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ and the characters in `also_keep`.
std::string percent_encode(std::string_view s, std::string_view also_keep = "");

/// A certificate serial as an administrator copies it, in capf's form (lower-case hex without
/// leading zeros, "0" for zero): accepts either case, leading zeros, colons or spaces between
/// the bytes (`openssl x509 -text`), a "0x" prefix and openssl's "serial=" prefix
/// (`openssl x509 -serial`). Nullopt when anything else is in it or no digit is.
std::optional<std::string> normalize_serial(std::string_view text);

/// Decodes %XX escapes (either case); a '%' not followed by two hex digits stays as it is.
/// With `plus_is_space` a '+' becomes a space (query strings).
std::string percent_decode(std::string_view s, bool plus_is_space = false);

/// Splits on a single character, keeping empty fields.
std::vector<std::string> split(std::string_view s, char sep);

/// `s` with every ASCII control character (below 0x20, and 0x7f) written as an escape: \n, \r,
/// \t, else \xNN. For peer-supplied text on its way into a log line, the audit trail or an
/// e-mail, where a raw newline would forge a line of its own.
std::string escape_control(std::string_view s);
/// Appends escape_control(s) to `out`.
void append_escaped(std::string& out, std::string_view s);

/// Whether a URL holds credentials: a userinfo part ("user:password@" or "user@") before its host.
bool url_has_credentials(std::string_view url);

/// A URL with its userinfo taken out, and the user and password it held (percent-decoded).
struct UrlCredentials {
  std::string url;
  std::string user;
  std::string password;
};
/// nullopt when the URL holds no credentials.
std::optional<UrlCredentials> split_url_credentials(std::string_view url);

}  // namespace capf::util
