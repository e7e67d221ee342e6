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

/// Splits on a single character, keeping empty fields.
std::vector<std::string> split(std::string_view s, char sep);

}  // namespace capf::util
