#include <limits>
#include <nlohmann/json.hpp>

#include "capf/store/store.hpp"
#include "capf/util/text.hpp"
#include "codec_fields.hpp"

namespace capf::store {

using codec::Fields;
using codec::seal;
using codec::unseal;
using nlohmann::json;

std::string encode_certificate(const CertificateRecord& c) {
  return seal(json{
      {"serial", c.serial},
      {"device", c.device},
      {"issuer", c.issuer},
      {"key", c.key},
      {"issued_at", c.issued_at},
      {"delivered_at", c.delivered_at},
      {"not_after", c.not_after},
      {"state", to_string(c.state)},
      {"der_hex", c.der_hex},
  });
}

Result<CertificateRecord> decode_certificate(std::string_view bytes) {
  auto j = unseal(bytes, "certificate");
  if (!j) return j.error();
  Fields f(*j, "certificate");
  CertificateRecord c;
  c.serial = f.text("serial");
  c.device = f.text("device");
  c.issuer = f.text("issuer");
  c.key = f.text("key");
  c.issued_at = f.integer("issued_at");
  c.delivered_at = f.integer("delivered_at");
  c.not_after = f.integer("not_after");
  c.state = f.enumeration("state", &parse_certificate_state);
  c.der_hex = f.text("der_hex");
  return f.finish(std::move(c));
}

std::string encode_audit(const AuditEntry& a) {
  // The one way into the audit trail: its texts carry peer values (device names, CA messages),
  // so control characters are escaped here, once, for every writer.
  return seal(json{
      {"time", a.time},
      {"actor", util::escape_control(a.actor)},
      {"action", util::escape_control(a.action)},
      {"subject", util::escape_control(a.subject)},
      {"detail", util::escape_control(a.detail)},
  });
}

Result<AuditEntry> decode_audit(std::string_view bytes) {
  auto j = unseal(bytes, "audit");
  if (!j) return j.error();
  Fields f(*j, "audit");
  AuditEntry a;
  a.time = f.integer("time");
  a.actor = f.text("actor");
  a.action = f.text("action");
  a.subject = f.text("subject");
  a.detail = f.text("detail");
  return f.finish(std::move(a));
}

std::string encode_meta(std::string_view value) {
  return seal(json(std::string(value)));
}

Result<std::string> decode_meta(std::string_view bytes) {
  auto j = unseal(bytes, "meta");
  if (!j) return j.error();
  if (!j->is_string()) return make_error(Errc::io, "meta value is not a JSON string");
  return j->get<std::string>();
}

}  // namespace capf::store
