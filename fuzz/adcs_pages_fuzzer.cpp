// libFuzzer target for the AD CS page reader (adapters/ca-online/src/adcs_pages.cpp): every
// reader on arbitrary page text must end without a crash, in time linear in the page, with a
// classification and bounded texts. Built by scripts/fuzz.sh adcs_pages.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "capf/ca_online/adcs_pages.hpp"

using namespace capf::ca_online::adcs;

namespace {

[[noreturn]] void fail(const char* what, std::size_t size) {
  std::fprintf(stderr, "adcs_pages_fuzzer: %s (page of %zu bytes)\n", what, size);
  std::abort();
}

bool digits(const std::string& s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void check(const CertsrvPage& p, std::size_t size) {
  if (p.req_id.size() > 12 || !digits(p.req_id)) fail("a ReqID that is not 0-12 digits", size);
  // A message is one page text of at most 1,000 characters, or two with the LastStatus.
  if (p.message.size() > 2 * 1004 + 3) fail("an unbounded message", size);
  if (p.kind == CertsrvPage::Kind::issued && p.req_id.empty()) fail("an issued page without its ReqID", size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view page(reinterpret_cast<const char*>(data), size);
  check(read_submit_page(page), size);
  check(read_retrieve_page(page), size);
  (void)disposition_message(page);
  (void)unreadable_reason(page);
  // The labels the retrieve page reads, and a label taken from the input itself.
  (void)labelled_value(page, "Disposition message");
  (void)labelled_value(page, "LastStatus");
  if (size > 1) (void)labelled_value(page.substr(1), page.substr(0, std::min<std::size_t>(size - 1, data[0] % 24)));
  return 0;
}
