#include <limits>
#include <nlohmann/json.hpp>

#include "capf/store/store.hpp"
#include "codec_fields.hpp"

namespace capf::store {

using codec::Fields;
using codec::seal;
using codec::unseal;
using nlohmann::json;


std::string encode_device(const Device& d) {
  json j{
      {"name", d.name},
      {"description", d.description},
      {"device_type", d.device_type},
      {"device_pool", d.device_pool},
      {"security_profile", d.security_profile},
      {"operation", to_string(d.operation)},
      {"auth_mode", to_string(d.auth_mode)},
      {"auth_string", d.auth_string},
      {"rsa_key_bits", d.rsa_key_bits},
      {"key_order", to_string(d.key_order)},
      {"ec_key_bits", d.ec_key_bits},
      {"ipv4", d.ipv4},
      {"ipv6", d.ipv6},
      {"status", to_string(d.status)},
      {"status_reason", d.status_reason},
      {"auth_failures", d.auth_failures},
      {"last_seen", d.last_seen},
      {"lsc_serial", d.lsc_serial},
      {"lsc_issuer", d.lsc_issuer},
      {"lsc_not_after", d.lsc_not_after},
      {"fetched_cert_pem", d.fetched_cert_pem},
      {"updated_at", d.updated_at},
      {"job_id", d.job_id},
  };
  if (d.completes_by) j["completes_by"] = *d.completes_by;
  return seal(j);
}

Result<Device> decode_device(std::string_view bytes) {
  auto j = unseal(bytes, "device");
  if (!j) return j.error();
  Fields f(*j, "device");
  Device d;
  d.name = f.text("name");
  d.description = f.text("description");
  d.device_type = f.text("device_type");
  d.device_pool = f.text("device_pool");
  d.security_profile = f.text("security_profile");
  d.operation = f.enumeration("operation", &parse_operation);
  d.auth_mode = f.enumeration("auth_mode", &parse_auth_mode);
  d.auth_string = f.text("auth_string");
  d.rsa_key_bits = f.small_integer("rsa_key_bits");
  d.key_order = f.enumeration("key_order", &parse_key_order);
  d.ec_key_bits = f.small_integer("ec_key_bits");
  d.completes_by = f.optional_integer("completes_by");
  d.ipv4 = f.text("ipv4");
  d.ipv6 = f.text("ipv6");
  d.status = f.enumeration("status", &parse_status);
  d.status_reason = f.text("status_reason");
  d.auth_failures = f.small_integer("auth_failures");
  d.last_seen = f.integer("last_seen");
  d.lsc_serial = f.text("lsc_serial");
  d.lsc_issuer = f.text("lsc_issuer");
  d.lsc_not_after = f.integer("lsc_not_after");
  d.fetched_cert_pem = f.text("fetched_cert_pem");
  d.updated_at = f.integer("updated_at");
  d.job_id = f.optional_text("job_id");
  return f.finish(std::move(d));
}

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
  return seal(json{
      {"time", a.time},
      {"actor", a.actor},
      {"action", a.action},
      {"subject", a.subject},
      {"detail", a.detail},
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
