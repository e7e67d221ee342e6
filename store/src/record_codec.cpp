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
  // Without der_hex: the DER is kept apart, under the serial (encode_certificate_der).
  return seal(json{
      {"serial", c.serial},
      {"device", c.device},
      {"issuer", c.issuer},
      {"key", c.key},
      {"issued_at", c.issued_at},
      {"delivered_at", c.delivered_at},
      {"not_after", c.not_after},
      {"state", to_string(c.state)},
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
  c.der_hex = f.optional_text("der_hex");  // records of schema 2 and earlier carry their DER inside
  return f.finish(std::move(c));
}

Result<std::string> encode_certificate_der(const std::string& der_hex) {
  auto der = util::from_hex(der_hex);
  if (!der) return make_error(Errc::invalid_argument, "the certificate's DER is not hex");
  std::string out(1, static_cast<char>(kSchemaVersion));
  out.append(der->begin(), der->end());
  return out;
}

Result<std::string> decode_certificate_der(std::string_view bytes) {
  constexpr std::uint8_t kFirst = 3;  // the schema version that moved the DER here
  const auto version = bytes.empty() ? 0 : static_cast<std::uint8_t>(bytes.front());
  if (version < kFirst || version > kSchemaVersion)
    return make_error(Errc::io, "certificate DER value has schema version " + std::to_string(version) +
                                    "; this build understands " + std::to_string(kFirst) + " to " +
                                    std::to_string(kSchemaVersion));
  bytes.remove_prefix(1);
  return util::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
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
