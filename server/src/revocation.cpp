#include "revocation.hpp"

#include <nlohmann/json.hpp>

#include "capf/util/text.hpp"

namespace capf::server {

std::string revocation_meta_key(const std::string& serial_hex) { return "revocation/" + serial_hex; }

Result<void> check_not_revoked_or_expired(const store::Store& store, const crypto::Certificate& cert,
                                          util::UnixTime now) {
  const std::string serial = cert.serial_hex();
  if (now > cert.not_after())
    return make_error(Errc::auth_failed, "presented certificate " + serial + " (" + cert.subject() + ") expired at " +
                                             util::format_iso8601(cert.not_after()));
  auto rec = store.get_certificate(serial);
  if (!rec) return make_error(Errc::auth_failed, "cannot read certificate " + serial + ": " + rec.error().message);
  // Only our own record counts: a MIC could carry the same serial by chance.
  if (!rec->has_value() || (*rec)->state != CertificateState::revoked || (*rec)->der_hex != util::to_hex(cert.to_der()))
    return ok();
  std::string detail;
  if (auto meta = store.get_meta(revocation_meta_key(serial)); meta && meta->has_value()) {
    auto j = nlohmann::json::parse(**meta, nullptr, false);
    if (j.is_object()) {
      detail = " (" + j.value("reason", std::string("unspecified"));
      if (j.contains("time") && j["time"].is_number()) detail += ", " + util::format_iso8601(j["time"].get<util::UnixTime>());
      detail += ")";
    }
  }
  return make_error(Errc::auth_failed, "presented LSC " + serial + " was revoked" + detail);
}

}  // namespace capf::server
