#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "capf/store/store.hpp"
#include "codec_fields.hpp"

namespace capf::store {

using codec::Fields;
using codec::seal;
using codec::unseal;
using nlohmann::json;


namespace {

// Writes one JSON object field by field, without building an nlohmann tree: an import of
// 100,000 rows encodes 100,000 devices, and the tree's map nodes and key strings cost more
// than the write itself. The bytes decode with nlohmann like any other sealed value.
class ObjectWriter {
 public:
  // Writes into `out`, replacing what it held: a caller encoding many devices reuses one buffer.
  explicit ObjectWriter(std::string& out) : out_(out) {
    out_.clear();
    out_ += static_cast<char>(kSchemaVersion);
    out_ += '{';
  }

  void text(std::string_view key, std::string_view value) {
    name(key);
    // Printable ASCII without quote or backslash is its own JSON; anything else goes through
    // nlohmann, so escaping and the replacement of invalid UTF-8 stay the library's (as in seal).
    for (unsigned char c : value)
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        out_ += json(value).dump(-1, ' ', false, json::error_handler_t::replace);
        return;
      }
    out_ += '"';
    out_ += value;
    out_ += '"';
  }

  void integer(std::string_view key, std::int64_t value) {
    name(key);
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, end);
  }

  void finish() { out_ += '}'; }

 private:
  void name(std::string_view key) {  // keys are literals of this file: plain ASCII
    if (out_.size() > 2) out_ += ',';
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }

  std::string& out_;
};

}  // namespace

std::string encode_device(const Device& d) {
  std::string out;
  encode_device(d, out);
  return out;
}

void encode_device(const Device& d, std::string& out) {
  ObjectWriter w(out);
  w.text("name", d.name);
  w.text("description", d.description);
  w.text("device_type", d.device_type);
  w.text("device_pool", d.device_pool);
  w.text("security_profile", d.security_profile);
  w.text("operation", to_string(d.operation));
  w.text("auth_mode", to_string(d.auth_mode));
  w.text("auth_string", d.auth_string);
  w.integer("rsa_key_bits", d.rsa_key_bits);
  w.text("key_order", to_string(d.key_order));
  w.integer("ec_key_bits", d.ec_key_bits);
  w.text("ipv4", d.ipv4);
  w.text("ipv6", d.ipv6);
  w.text("status", to_string(d.status));
  w.text("status_reason", d.status_reason);
  w.integer("auth_failures", d.auth_failures);
  w.integer("last_seen", d.last_seen);
  w.text("lsc_serial", d.lsc_serial);
  w.text("lsc_issuer", d.lsc_issuer);
  w.integer("lsc_not_after", d.lsc_not_after);
  w.text("fetched_cert_pem", d.fetched_cert_pem);
  w.integer("updated_at", d.updated_at);
  w.text("job_id", d.job_id);
  if (d.completes_by) w.integer("completes_by", *d.completes_by);
  w.finish();
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
