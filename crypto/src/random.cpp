// Randomness for serials, CA names and authentication strings, and comparison of secrets.
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "ossl.hpp"

namespace capf::crypto {

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  std::size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
    // Without a working DRBG no serial or secret is safe to hand out; this is not recoverable.
    if (RAND_bytes(out.data() + done, chunk) != 1) {
      ERR_clear_error();
      throw std::runtime_error("the OpenSSL random generator failed");
    }
    done += static_cast<std::size_t>(chunk);
  }
  return out;
}

std::string random_digits(std::size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    for (std::uint8_t b : random_bytes(n - out.size() + 4)) {
      // 250 is the largest multiple of 10 below 256: bytes above it would favour 0–5.
      if (b >= 250) continue;
      out.push_back(static_cast<char>('0' + b % 10));
      if (out.size() == n) break;
    }
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret (it is visible on the wire); the content is, so the comparison
  // itself always reads every byte.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace capf::crypto
