// libFuzzer target for the cfssl JSON reader (adapters/ca-online/src/cfssl_answer.cpp): any body
// must be read without an exception escaping, with the error code in range and the error text
// bounded. Built by scripts/fuzz.sh cfssl_answer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "capf/ca_online/cfssl_answer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    auto a = capf::ca_online::read_cfssl_answer(body);
    if (a && (a->code < 0 || a->code > 999999 || a->errors.size() > 2100)) {
      std::fprintf(stderr, "cfssl_answer_fuzzer: code %d, errors of %zu bytes\n", a->code, a->errors.size());
      std::abort();
    }
  } catch (...) {
    std::fprintf(stderr, "cfssl_answer_fuzzer: an exception escaped the reader\n");
    std::abort();
  }
  return 0;
}
