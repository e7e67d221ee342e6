// Helpers for the protocol tests: readable byte literals and the large golden payloads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "capf/protocol/wire.hpp"

namespace capf::protocol::test {

/// Bytes from text like `55 02 0025 "SEP\0"`: hex digits (spaces ignored) and quoted
/// strings whose characters are taken literally, with `\0` for a NUL byte.
inline Bytes bytes(std::string_view text) {
  Bytes out;
  int pending = -1;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument(std::string("bad hex character ") + c);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\n' || c == '|') continue;
    if (c == '"') {
      if (pending >= 0) throw std::invalid_argument("odd hex digit count before a string");
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '0') {
          out.push_back(0);
          ++i;
        } else {
          out.push_back(static_cast<std::uint8_t>(text[i]));
        }
      }
      continue;
    }
    int n = nibble(c);
    if (pending < 0) {
      pending = n;
    } else {
      out.push_back(static_cast<std::uint8_t>(pending << 4 | n));
      pending = -1;
    }
  }
  if (pending >= 0) throw std::invalid_argument("odd hex digit count");
  return out;
}

/// Concatenation.
inline Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A 294-byte RSA-2048 SubjectPublicKeyInfo shaped like the §9 one (modulus is a pattern).
inline Bytes rsa2048_spki() {
  Bytes modulus(256);
  for (std::size_t i = 0; i < modulus.size(); ++i) modulus[i] = static_cast<std::uint8_t>(0x80 | (i * 7));
  return bytes("30820122 300d06092a864886f70d0101010500 0382010f00 3082010a 02820101 00") + modulus +
         bytes("0203010001");
}

/// An 868-byte DER-looking certificate (SEQUENCE header 30 82 03 60 and a pattern body).
inline Bytes der868() {
  Bytes body(864);
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 13 + 1);
  return bytes("30820360") + body;
}

/// Encodes or fails the test by throwing (gtest reports the exception).
inline Bytes must_encode(const Message& m) {
  auto r = encode(m);
  if (!r) throw std::runtime_error("encode failed: " + r.error().message);
  return *r;
}

}  // namespace capf::protocol::test
