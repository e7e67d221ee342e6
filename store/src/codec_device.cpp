// Device values. Since schema version 2 a device is a binary record; version 1 values (JSON,
// written by earlier builds) still decode. An import of 100,000 rows writes 100,000 devices in
// one batch, and in JSON the field names alone were more than half of every value.
//
// Layout after the version byte: a varint count of the fields that follow, then the fields in
// the order written below. Text is a varint length and its bytes (valid UTF-8, as the JSON
// store kept it), an integer a zigzag varint, an enum its display text, and completes_by 0
// (not set) or 1 followed by the integer. A reader ignores fields past the ones it knows, and
// fields missing at the end keep their defaults, so a later build can append fields.
#include <limits>
#include <nlohmann/json.hpp>

#include "capf/store/store.hpp"
#include "codec_fields.hpp"

namespace capf::store {

namespace {

constexpr std::uint8_t kJsonDevice = 1;
// The first schema version with binary devices; version 3 changed certificates only, so a
// device reads the same under 2 and 3 and is written with the current number.
constexpr std::uint8_t kBinaryDevice = 2;
static_assert(kSchemaVersion == 3, "a new schema version must say how devices are encoded");
constexpr std::uint64_t kDeviceFields = 27;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {
    out_.clear();
    out_ += static_cast<char>(kSchemaVersion);
    varint(kDeviceFields);
  }

  void text(std::string_view v) {
    for (unsigned char c : v)
      if (c >= 0x80) return non_ascii(v);
    varint(v.size());
    out_ += v;
  }

  void integer(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }

  void optional_integer(const std::optional<std::int64_t>& v) {
    out_ += static_cast<char>(v ? 1 : 0);
    if (v) integer(*v);
  }

  /// Bytes as they are (certificates), after their length.
  void blob(std::string_view v) {
    varint(v.size());
    out_ += v;
  }

  /// The phone's certificates as one field: a count, then per certificate its kind's text, 1 when
  /// presented at authentication (else 0), the time and the DER as a blob.
  void phone_certificates(const std::vector<PhoneCertificate>& list) {
    varint(list.size());
    for (const auto& c : list) {
      text(to_string(c.kind));
      out_ += static_cast<char>(c.at_authentication ? 1 : 0);
      integer(c.retrieved_at);
      blob(std::string_view(reinterpret_cast<const char*>(c.der.data()), c.der.size()));
    }
  }

 private:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>(v | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }

  // Text from CSV files and phones may hold invalid UTF-8; it is stored with U+FFFD in place
  // of the bad bytes, exactly as nlohmann's replace handler wrote it into the JSON store.
  void non_ascii(std::string_view v) {
    using nlohmann::json;
    const std::string clean =
        json::parse(json(std::string(v)).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
    varint(clean.size());
    out_ += clean;
  }

  std::string& out_;
};

/// Every field of `d` at its default, its strings emptied but keeping their buffers, so a scan
/// that decodes into one Device allocates only for values longer than any before.
void reset_keeping_capacity(Device& d) {
  for (std::string* s :
       {&d.name, &d.description, &d.device_type, &d.device_pool, &d.security_profile, &d.auth_string, &d.ipv4, &d.ipv6,
        &d.status_reason, &d.lsc_serial, &d.lsc_issuer, &d.fetched_cert_pem, &d.job_id})
    s->clear();
  const Device defaults;
  d.operation = defaults.operation;
  d.auth_mode = defaults.auth_mode;
  d.rsa_key_bits = defaults.rsa_key_bits;
  d.key_order = defaults.key_order;
  d.ec_key_bits = defaults.ec_key_bits;
  d.completes_by = defaults.completes_by;
  d.status = defaults.status;
  d.auth_failures = defaults.auth_failures;
  d.keygen_failures = defaults.keygen_failures;
  d.last_seen = defaults.last_seen;
  d.lsc_not_after = defaults.lsc_not_after;
  d.updated_at = defaults.updated_at;
  d.phone_certificates.clear();
}

// Reads the fields in order into a Device reset to its defaults and keeps the first problem,
// naming the field. A field past the counted ones is left at its default.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) { fields_ = varint("field count"); }

  void text(const char* key, std::string& out) {
    if (!next()) return;
    const std::uint64_t n = varint(key);
    if (error_) return;
    if (n > rest_.size()) return fail(key, "is truncated");
    out.assign(rest_.substr(0, n));
    rest_.remove_prefix(n);
  }

  void integer(const char* key, std::int64_t& out) {
    if (!next()) return;
    const std::uint64_t v = varint(key);
    if (!error_) out = zigzag(v);
  }

  void small_integer(const char* key, int& out) {
    std::int64_t v = out;
    integer(key, v);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return fail(key, "is out of range");
    out = static_cast<int>(v);
  }

  void optional_integer(const char* key, std::optional<std::int64_t>& out) {
    if (!next()) return;
    if (rest_.empty()) return fail(key, "is truncated");
    const char set = rest_.front();
    rest_.remove_prefix(1);
    if (set == 0) {
      out.reset();
      return;
    }
    if (set != 1) return fail(key, "has an unknown presence byte");
    const std::uint64_t v = varint(key);
    if (!error_) out = zigzag(v);
  }

  template <class E>
  void enumeration(const char* key, std::optional<E> (*parse)(std::string_view), E& out) {
    if (!next()) return;
    const std::uint64_t n = varint(key);
    if (error_) return;
    if (n > rest_.size()) return fail(key, "is truncated");
    const std::string_view t = rest_.substr(0, n);
    rest_.remove_prefix(n);
    auto e = parse(t);
    if (!e) return fail(key, "has unknown value \"" + std::string(t) + "\"");
    out = *e;
  }

  void phone_certificates(const char* key, std::vector<PhoneCertificate>& out) {
    if (!next()) return;
    const std::uint64_t n = varint(key);
    // Each certificate takes at least 5 bytes: a count past that is damage, not a reason to allocate.
    if (!error_ && n > rest_.size() / 5)
      return fail(
          key, "is truncated (" + std::to_string(n) + " certificates in " + std::to_string(rest_.size()) + " bytes)");
    for (std::uint64_t i = 0; i < n && !error_; ++i) {
      PhoneCertificate c;
      const std::string_view kind = bytes(key);
      if (error_) return;
      const auto k = parse_phone_certificate_kind(kind);
      if (!k) return fail(key, "has unknown certificate kind \"" + std::string(kind) + "\"");
      c.kind = *k;
      if (rest_.empty()) return fail(key, "is truncated");
      c.at_authentication = rest_.front() == 1;
      rest_.remove_prefix(1);
      c.retrieved_at = zigzag(varint(key));
      const std::string_view der = bytes(key);
      c.der.assign(der.begin(), der.end());
      if (!error_) out.push_back(std::move(c));
    }
  }

  Result<void> finish() {
    // Fields past the ones this build knows are a later build's; bytes past the counted
    // fields are damage.
    if (!error_ && fields_ == 0 && !rest_.empty())
      error_ = "device value has " + std::to_string(rest_.size()) + " bytes after its last field";
    if (error_) return make_error(Errc::io, *error_);
    return ok();
  }

 private:
  bool next() {
    if (error_ || fields_ == 0) return false;
    --fields_;
    return true;
  }

  std::uint64_t varint(const char* key) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) {
        fail(key, "is truncated");
        return 0;
      }
      const auto byte = static_cast<std::uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    fail(key, "is not a valid number");
    return 0;
  }

  // A length and that many bytes, inside a field.
  std::string_view bytes(const char* key) {
    const std::uint64_t n = varint(key);
    if (error_) return {};
    if (n > rest_.size()) {
      fail(key, "is truncated");
      return {};
    }
    const std::string_view v = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return v;
  }

  static std::int64_t zigzag(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }

  void fail(const std::string& key, const std::string& problem) {
    if (!error_) error_ = "device value: field '" + key + "' " + problem;
  }

  std::string_view rest_;
  std::uint64_t fields_ = 0;
  std::optional<std::string> error_;
};

Result<Device> decode_json_device(std::string_view bytes) {
  auto j = codec::unseal(bytes, "device");
  if (!j) return j.error();
  codec::Fields f(*j, "device");
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
  d.security_mode = security_mode_from_profile(d.security_profile);  // schema 1 predates the field
  return f.finish(std::move(d));
}

}  // namespace

std::string encode_device(const Device& d) {
  std::string out;
  encode_device(d, out);
  return out;
}

void encode_device(const Device& d, std::string& out) {
  Writer w(out);  // kDeviceFields fields, in this order
  w.text(d.name);
  w.text(d.description);
  w.text(d.device_type);
  w.text(d.device_pool);
  w.text(d.security_profile);
  w.text(to_string(d.operation));
  w.text(to_string(d.auth_mode));
  w.text(d.auth_string);
  w.integer(d.rsa_key_bits);
  w.text(to_string(d.key_order));
  w.integer(d.ec_key_bits);
  w.optional_integer(d.completes_by);
  w.text(d.ipv4);
  w.text(d.ipv6);
  w.text(to_string(d.status));
  w.text(d.status_reason);
  w.integer(d.auth_failures);
  w.integer(d.last_seen);
  w.text(d.lsc_serial);
  w.text(d.lsc_issuer);
  w.integer(d.lsc_not_after);
  w.text(d.fetched_cert_pem);
  w.integer(d.updated_at);
  w.text(d.job_id);
  w.integer(d.keygen_failures);                // 25: appended; records of 24 fields read it as 0
  w.text(to_string(d.security_mode));          // 26: appended; older records derive it from the profile
  w.phone_certificates(d.phone_certificates);  // 27: appended; older records have none
}

Result<Device> decode_device(std::string_view bytes) {
  Device d;
  if (auto r = decode_device(bytes, d); !r) return r.error();
  return d;
}

Result<void> decode_device(std::string_view bytes, Device& d) {
  if (bytes.empty()) return make_error(Errc::io, "device value is empty");
  const auto version = static_cast<std::uint8_t>(bytes.front());
  if (version == kJsonDevice) {
    auto j = decode_json_device(bytes);
    if (!j) return j.error();
    d = std::move(*j);
    return ok();
  }
  if (version < kBinaryDevice || version > kSchemaVersion)
    return make_error(Errc::io, "device value has schema version " + std::to_string(version) +
                                    "; this build understands up to " + std::to_string(kSchemaVersion));
  Reader r(bytes.substr(1));
  reset_keeping_capacity(d);
  r.text("name", d.name);
  r.text("description", d.description);
  r.text("device_type", d.device_type);
  r.text("device_pool", d.device_pool);
  r.text("security_profile", d.security_profile);
  r.enumeration("operation", &parse_operation, d.operation);
  r.enumeration("auth_mode", &parse_auth_mode, d.auth_mode);
  r.text("auth_string", d.auth_string);
  r.small_integer("rsa_key_bits", d.rsa_key_bits);
  r.enumeration("key_order", &parse_key_order, d.key_order);
  r.small_integer("ec_key_bits", d.ec_key_bits);
  r.optional_integer("completes_by", d.completes_by);
  r.text("ipv4", d.ipv4);
  r.text("ipv6", d.ipv6);
  r.enumeration("status", &parse_status, d.status);
  r.text("status_reason", d.status_reason);
  r.small_integer("auth_failures", d.auth_failures);
  r.integer("last_seen", d.last_seen);
  r.text("lsc_serial", d.lsc_serial);
  r.text("lsc_issuer", d.lsc_issuer);
  r.integer("lsc_not_after", d.lsc_not_after);
  r.text("fetched_cert_pem", d.fetched_cert_pem);
  r.integer("updated_at", d.updated_at);
  r.text("job_id", d.job_id);
  r.small_integer("keygen_failures", d.keygen_failures);
  d.security_mode = security_mode_from_profile(d.security_profile);  // kept unless the record has the field
  r.enumeration("security_mode", &parse_security_mode, d.security_mode);
  r.phone_certificates("phone_certificates", d.phone_certificates);
  return r.finish();
}

}  // namespace capf::store
