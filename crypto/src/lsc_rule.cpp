#include "capf/crypto/lsc_rule.hpp"

#include <algorithm>

#include "capf/crypto/codec.hpp"
#include "capf/util/text.hpp"

namespace capf::crypto {

namespace {

std::string missing_usage(const Certificate& c) {
  std::vector<std::string> missing;
  for (const char* u : {"digitalSignature", "keyEncipherment"})
    if (!c.has_key_usage(u)) missing.emplace_back(u);
  if (missing.empty()) return "";
  return "key usage lacks " + (missing.size() == 2 ? missing[0] + " and " + missing[1] : missing[0]) +
         " (an LSC needs digitalSignature and keyEncipherment)";
}

}  // namespace

Result<void> check_ca_lsc(const Certificate& lsc, const TrustStore& capf_trust,
                          const std::vector<Certificate>& intermediates, util::UnixTime now) {
  if (lsc.not_after() < now) return make_error(Errc::crypto, "it expired on " + util::format_iso8601(lsc.not_after()));
  if (lsc.not_before() > now)
    return make_error(Errc::crypto, "it is not valid before " + util::format_iso8601(lsc.not_before()));
  if (auto usage = missing_usage(lsc); !usage.empty()) return make_error(Errc::crypto, usage);
  if (auto v = capf_trust.verify(lsc, now, intermediates); !v)
    return make_error(Errc::crypto,
                      v.error().message + " (upload the issuing CA chain with `capf trust upload --store capf-trust`)");
  return ok();
}

LscIdentity identity_of(const Certificate& lsc) { return {lsc.subject_cn(), sha256_hex(lsc.public_key_der())}; }

Result<void> check_lsc_answers(const LscIdentity& lsc, std::string_view csr_spki_sha256, std::string_view device) {
  if (lsc.spki_sha256 != csr_spki_sha256)
    return make_error(Errc::crypto, "it carries another key than the CSR of " + std::string(device));
  if (!util::iequals(lsc.cn, device))
    return make_error(Errc::crypto,
                      "its Common Name \"" + lsc.cn + "\" is not the device " + std::string(device) + " of the CSR");
  return ok();
}

Result<void> accept_ca_lsc(const Certificate& lsc, std::string_view csr_spki_sha256, std::string_view device,
                           const TrustStore& capf_trust, const std::vector<Certificate>& intermediates,
                           util::UnixTime now) {
  if (auto r = check_ca_lsc(lsc, capf_trust, intermediates, now); !r) return r;
  return check_lsc_answers(identity_of(lsc), csr_spki_sha256, device);
}

}  // namespace capf::crypto
