// Private helpers shared by the protocol sources: big-endian reads and writes, and the
// small formatting pieces used in error messages. Not part of the layer's interface.
#pragma once

#include <cstdint>
#include <string>

#include "capf/protocol/wire.hpp"

namespace capf::protocol::detail {

/// Big-endian u16 at p (caller guarantees 2 readable bytes).
inline std::uint16_t read_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

/// Big-endian u32 at p (caller guarantees 4 readable bytes).
inline std::uint32_t read_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

/// Appends v big-endian.
inline void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

/// Appends v big-endian.
inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

/// "0x54" for error messages.
std::string hex_byte(std::uint8_t b);

}  // namespace capf::protocol::detail
