#include "capf/protocol/messages.hpp"

#include <initializer_list>

#include "wire_detail.hpp"

namespace capf::protocol {

namespace {

// Every parser error starts with the command being parsed so a log line stands on its own.
Error parse_error(const std::string& context, const std::string& what) {
  return make_error(Errc::protocol, context + ": " + what);
}

std::string tag_label(Tag tag) {
  return tag_name(tag) + " (tag " + std::to_string(static_cast<unsigned>(tag)) + ")";
}

Error missing(const std::string& context, Tag tag) {
  return parse_error(context, "missing " + tag_label(tag));
}

Result<std::string> expect_command(const Message& m, std::initializer_list<Command> allowed) {
  for (Command c : allowed) {
    if (m.is(c)) return command_name(c);
  }
  std::string expected;
  for (Command c : allowed) expected += (expected.empty() ? "" : " or ") + command_name(c);
  return parse_error(expected,
                     "unexpected command " + command_name(m.command) + " (" + std::to_string(m.command) + ")");
}

// Optional integer elements: absent is fine, present with the wrong size is an error, so a
// malformed value is never mistaken for an absent one.
template <class T>
Result<std::optional<T>> optional_int(const Message& m, Tag tag, const std::string& context) {
  const Element* e = m.find(tag);
  if (e == nullptr) return std::optional<T>{};
  if (e->value.size() != sizeof(T)) {
    return parse_error(context, "malformed " + tag_label(tag) + ": " + std::to_string(e->value.size()) +
                                    " bytes, expected " + std::to_string(sizeof(T)));
  }
  T v = 0;
  for (std::uint8_t b : e->value) v = static_cast<T>(v << 8 | b);
  return std::optional<T>{v};
}

template <class T>
Result<T> required_int(const Message& m, Tag tag, const std::string& context) {
  auto v = optional_int<T>(m, tag, context);
  if (!v) return v.error();
  if (!v->has_value()) return missing(context, tag);
  return **v;
}

// A present CERTIFICATE element must unwrap; absent gives nullopt.
Result<std::optional<Bytes>> optional_certificate(const Message& m, const std::string& context) {
  const Element* e = m.find(Tag::certificate);
  if (e == nullptr) return std::optional<Bytes>{};
  auto der = unwrap_certificate(e->value);
  if (!der) return parse_error(context, "malformed " + tag_label(Tag::certificate) + ": " + der.error().message);
  return std::optional<Bytes>{std::move(*der)};
}

// Byte-string elements whose emptiness would only defer the failure to a less clear place.
Result<std::optional<Bytes>> optional_nonempty(const Message& m, Tag tag, const std::string& context) {
  const Element* e = m.find(tag);
  if (e == nullptr) return std::optional<Bytes>{};
  if (e->value.empty()) return parse_error(context, "empty " + tag_label(tag));
  return std::optional<Bytes>{e->value};
}

}  // namespace

// Unwraps a Result into a local or returns its error from the enclosing parser. `var` is a
// declarator name, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CAPF_TRY(var, expr)                       \
  auto var##_result = (expr);                     \
  if (!var##_result) return var##_result.error(); \
  auto var = std::move(*var##_result)
// NOLINTEND(bugprone-macro-parentheses)

// ---- 1 AUTH_REQUEST ----

Message build(const AuthRequest& m, std::uint32_t session_id) {
  Message out(Command::auth_request, session_id);
  out.add_u8(Tag::version, m.version);
  if (m.auth_type) out.add_u8(Tag::auth_type, static_cast<std::uint8_t>(*m.auth_type));
  return out;
}

Result<AuthRequest> parse_auth_request(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::auth_request}));
  // The server's version is not range-checked here: which versions a phone talks is the
  // phone's (simulator's) decision.
  CAPF_TRY(version, required_int<std::uint8_t>(m, Tag::version, ctx));
  CAPF_TRY(auth_type, optional_int<std::uint8_t>(m, Tag::auth_type, ctx));
  std::optional<WireAuthType> type;
  if (auth_type) type = static_cast<WireAuthType>(*auth_type);
  return AuthRequest{version, type};
}

// ---- 2 AUTH_RESPONSE ----

Message build(const AuthResponse& m, std::uint32_t session_id) {
  // §9 order (version, device name, reason, password) as in the capfd session capture, then
  // the certificate-authentication elements in capfc's relative order.
  Message out(Command::auth_response, session_id);
  out.add_u8(Tag::version, m.version);
  out.add_string(Tag::device_name, m.device_name);
  if (m.reason) out.add_u8(Tag::reason, *m.reason);
  if (m.password) out.add_string(Tag::password, *m.password);
  if (m.certificate_der) out.add_bytes(Tag::certificate, wrap_certificate(*m.certificate_der));
  if (m.signed_data) out.add_bytes(Tag::signed_data, *m.signed_data);
  if (m.sudi) out.add_bytes(Tag::sudi_data, encode_sudi(*m.sudi));
  if (m.sha2_signed) out.add_bytes(Tag::sha2_signed_data, encode_sha2_signature(*m.sha2_signed));
  return out;
}

Result<AuthResponse> parse_auth_response(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::auth_response}));
  AuthResponse r;
  CAPF_TRY(version, required_int<std::uint8_t>(m, Tag::version, ctx));
  if (version < kMinPhoneVersion || version > kMaxPhoneVersion) {
    return parse_error(ctx, "unsupported " + tag_label(Tag::version) + " " + std::to_string(version) + " (accepted " +
                                std::to_string(kMinPhoneVersion) + "-" + std::to_string(kMaxPhoneVersion) + ")");
  }
  r.version = version;

  auto name = m.str(Tag::device_name);
  if (!name) return missing(ctx, Tag::device_name);
  if (name->empty()) return parse_error(ctx, "empty " + tag_label(Tag::device_name));
  // An embedded NUL would make the name compare and log differently in different layers.
  if (name->find('\0') != std::string::npos) {
    return parse_error(ctx, tag_label(Tag::device_name) + " contains a NUL byte");
  }
  r.device_name = std::move(*name);

  CAPF_TRY(reason, optional_int<std::uint8_t>(m, Tag::reason, ctx));
  r.reason = reason;
  // Jabber sends no PASSWORD at all; absent and empty stay distinguishable.
  r.password = m.str(Tag::password);

  CAPF_TRY(certificate, optional_certificate(m, ctx));
  r.certificate_der = std::move(certificate);
  if (const Element* e = m.find(Tag::signed_data)) r.signed_data = e->value;
  if (const Element* e = m.find(Tag::sha2_signed_data)) {
    auto sig = decode_sha2_signature(e->value);
    if (!sig) return parse_error(ctx, "malformed " + tag_label(Tag::sha2_signed_data) + ": " + sig.error().message);
    r.sha2_signed = std::move(*sig);
  }
  if (const Element* e = m.find(Tag::sudi_data)) {
    auto sudi = decode_sudi(e->value);
    if (!sudi) return parse_error(ctx, "malformed " + tag_label(Tag::sudi_data) + ": " + sudi.error().message);
    r.sudi = std::move(*sudi);
  }
  return r;
}

// ---- 3 KEY_GENERATE_REQUEST ----

KeyGenerateRequest key_generate_request(const KeySpec& spec) {
  KeyGenerateRequest r;
  if (spec.algorithm == KeyAlgorithm::rsa) {
    r.key_type = WireKeyType::rsa;
    r.key_size = static_cast<std::uint16_t>(spec.rsa_bits);
    return r;
  }
  r.key_type = WireKeyType::ec;
  switch (spec.curve) {
    case EcCurve::p256:
      r.curve = WireCurve::p256;
      break;
    case EcCurve::p384:
      r.curve = WireCurve::p384;
      break;
    case EcCurve::p521:
      r.curve = WireCurve::p521;
      break;
  }
  return r;
}

Message build(const KeyGenerateRequest& m, std::uint32_t session_id) {
  Message out(Command::key_generate_request, session_id);
  if (m.key_type == WireKeyType::ec) {
    out.add_u8(Tag::key_type, static_cast<std::uint8_t>(WireKeyType::ec));
    out.add_u8(Tag::curve, static_cast<std::uint8_t>(m.curve));
  } else {
    out.add_u16(Tag::key_size, m.key_size);
    out.add_u8(Tag::key_type, static_cast<std::uint8_t>(m.key_type));
  }
  return out;
}

Result<KeyGenerateRequest> parse_key_generate_request(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::key_generate_request}));
  KeyGenerateRequest r;
  CAPF_TRY(key_type, optional_int<std::uint8_t>(m, Tag::key_type, ctx));
  // CUCM sends KEY_SIZE alone, so an absent KEY_TYPE means RSA.
  r.key_type = static_cast<WireKeyType>(key_type.value_or(static_cast<std::uint8_t>(WireKeyType::rsa)));
  // Only the fields of the chosen key type are read; the others keep their defaults, so a
  // stray KEY_SIZE in an EC request cannot leak into the result.
  if (r.key_type == WireKeyType::rsa) {
    CAPF_TRY(key_size, required_int<std::uint16_t>(m, Tag::key_size, ctx));
    if (key_size == 0) return parse_error(ctx, "zero " + tag_label(Tag::key_size));
    r.key_size = key_size;
  } else if (r.key_type == WireKeyType::ec) {
    CAPF_TRY(curve, required_int<std::uint8_t>(m, Tag::curve, ctx));
    if (curve > static_cast<std::uint8_t>(WireCurve::p521)) {
      return parse_error(ctx, "unknown " + tag_label(Tag::curve) + " value " + std::to_string(curve));
    }
    r.curve = static_cast<WireCurve>(curve);
  } else {
    return parse_error(ctx, "unknown " + tag_label(Tag::key_type) + " value " + std::to_string(*key_type));
  }
  return r;
}

// ---- 4 KEY_GENERATE_RESPONSE ----

Message build(const KeyGenerateResponse& m, std::uint32_t session_id) {
  Message out(Command::key_generate_response, session_id);
  if (m.reason) out.add_u8(Tag::reason, *m.reason);
  if (m.public_key) out.add_bytes(Tag::public_key, *m.public_key);
  return out;
}

Result<KeyGenerateResponse> parse_key_generate_response(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::key_generate_response}));
  KeyGenerateResponse r;
  // Both optional: a phone that failed to generate a key sends no PUBLIC_KEY (§4), and the
  // session layer turns that into END_SESSION{7}.
  CAPF_TRY(reason, optional_int<std::uint8_t>(m, Tag::reason, ctx));
  CAPF_TRY(public_key, optional_nonempty(m, Tag::public_key, ctx));
  r.reason = reason;
  r.public_key = std::move(public_key);
  return r;
}

// ---- 9 STORE_CERTIFICATE_REQUEST ----

Message build(const StoreCertificateRequest& m, std::uint32_t session_id) {
  Message out(Command::store_certificate_request, session_id);
  out.add_u8(Tag::certificate_type, static_cast<std::uint8_t>(m.type));
  out.add_bytes(Tag::certificate, wrap_certificate(m.certificate_der, m.type));
  return out;
}

Result<StoreCertificateRequest> parse_store_certificate_request(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::store_certificate_request}));
  StoreCertificateRequest r;
  CAPF_TRY(type, optional_int<std::uint8_t>(m, Tag::certificate_type, ctx));
  if (type) {
    if (*type != static_cast<std::uint8_t>(CertificateType::lsc) &&
        *type != static_cast<std::uint8_t>(CertificateType::mic)) {
      return parse_error(ctx, "unknown " + tag_label(Tag::certificate_type) + " value " + std::to_string(*type));
    }
    r.type = static_cast<CertificateType>(*type);
  }
  CAPF_TRY(certificate, optional_certificate(m, ctx));
  if (!certificate) return missing(ctx, Tag::certificate);
  r.certificate_der = std::move(*certificate);
  return r;
}

// ---- 10 / 12 / 14 responses ----

namespace {

Message build_certificate_response(Command c, const CertificateResponse& m, std::uint32_t session_id,
                                   bool with_certificate) {
  Message out(c, session_id);
  out.add_u8(Tag::reason, m.reason);
  if (with_certificate && m.certificate_der) out.add_bytes(Tag::certificate, wrap_certificate(*m.certificate_der));
  return out;
}

}  // namespace

Message build_store_response(const CertificateResponse& m, std::uint32_t session_id) {
  return build_certificate_response(Command::store_certificate_response, m, session_id, false);
}

Message build_fetch_response(const CertificateResponse& m, std::uint32_t session_id) {
  return build_certificate_response(Command::fetch_certificate_response, m, session_id, true);
}

Message build_delete_response(const CertificateResponse& m, std::uint32_t session_id) {
  return build_certificate_response(Command::delete_certificate_response, m, session_id, false);
}

Result<CertificateResponse> parse_certificate_response(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::store_certificate_response, Command::fetch_certificate_response,
                                   Command::delete_certificate_response}));
  CertificateResponse r;
  CAPF_TRY(reason, required_int<std::uint8_t>(m, Tag::reason, ctx));
  r.reason = reason;
  // Only FETCH carries a certificate; a stray one elsewhere is skipped like an unknown tag.
  if (m.is(Command::fetch_certificate_response)) {
    CAPF_TRY(certificate, optional_certificate(m, ctx));
    r.certificate_der = std::move(certificate);
  }
  return r;
}

// ---- 12 FETCH_CERTIFICATE_RESPONSE, as Troubleshoot reads it ----

namespace {

constexpr std::size_t kWrapHeader = 5;  // marker | inner_len:u16 | type:u16

bool is_lsc_or_mic(unsigned type) {
  return type == static_cast<unsigned>(CertificateType::lsc) || type == static_cast<unsigned>(CertificateType::mic);
}

// The wrapped records of one CERTIFICATE value, back to back (§3: the leading byte may be an
// index, and a phone may put the LSC and the MIC in one element). Each record is
// marker | inner_len:u16 (= 2 + len(DER)) | type:u16 | DER; the first that does not fit ends
// the value, noted in `skipped`.
void read_records(ByteView v, std::uint8_t hint, const std::string& where, FetchResponse& out) {
  std::size_t pos = 0;
  while (pos < v.size()) {
    const std::size_t left = v.size() - pos;
    if (left <= kWrapHeader) {
      out.skipped.push_back(where + ": " + std::to_string(left) + " trailing bytes");
      return;
    }
    const std::size_t inner = detail::read_u16(v.data() + pos + 1);
    if (inner < 3 || inner > left - 3) {
      out.skipped.push_back(where + ": record at byte " + std::to_string(pos) + " has inner length " +
                            std::to_string(inner) + " with " + std::to_string(left - 3) + " bytes left");
      return;
    }
    const unsigned type = static_cast<unsigned>(v[pos + 3]) << 8 | v[pos + 4];
    FetchedCertificate c;
    c.type = is_lsc_or_mic(type) ? static_cast<std::uint8_t>(type) : hint;
    c.der.assign(v.begin() + static_cast<std::ptrdiff_t>(pos + kWrapHeader),
                 v.begin() + static_cast<std::ptrdiff_t>(pos + 3 + inner));
    out.certificates.push_back(std::move(c));
    pos += 3 + inner;
  }
}

}  // namespace

Message build(const FetchResponse& m, std::uint32_t session_id) {
  Message out(Command::fetch_certificate_response, session_id);
  if (m.reason) out.add_u8(Tag::reason, *m.reason);
  for (const auto& c : m.certificates)
    out.add_bytes(Tag::certificate, wrap_certificate(c.der, static_cast<CertificateType>(c.type)));
  return out;
}

Result<FetchResponse> parse_fetch_response(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::fetch_certificate_response}));
  FetchResponse r;
  CAPF_TRY(reason, optional_int<std::uint8_t>(m, Tag::reason, ctx));
  r.reason = reason;
  std::uint8_t hint = 0;  // the last CERTIFICATE_TYPE seen, as STORE_CERTIFICATE_REQUEST sends it
  std::size_t n = 0;
  for (const Element& e : m.elements) {
    if (e.tag == static_cast<std::uint8_t>(Tag::certificate_type)) {
      hint = e.value.size() == 1 && is_lsc_or_mic(e.value[0]) ? e.value[0] : 0;
      continue;
    }
    if (e.tag != static_cast<std::uint8_t>(Tag::certificate)) continue;
    const std::string where = tag_label(Tag::certificate) + " #" + std::to_string(++n);
    if (e.value.empty()) {
      r.skipped.push_back(where + ": empty");
    } else if (e.value[0] == 0x30) {
      // A DER SEQUENCE where the wrap's marker should be: a bare certificate, type unknown.
      r.certificates.push_back(FetchedCertificate{hint, e.value});
    } else {
      read_records(e.value, hint, where, r);
    }
  }
  return r;
}

// ---- empty bodies, 15 END_SESSION ----

Message build_empty(Command c, std::uint32_t session_id) {
  return Message(c, session_id);
}

Message build_end_session(Reason reason, std::uint32_t session_id) {
  Message out(Command::end_session, session_id);
  out.add_u8(Tag::reason, static_cast<std::uint8_t>(reason));
  return out;
}

Result<Reason> parse_end_session(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::end_session}));
  CAPF_TRY(reason, required_int<std::uint8_t>(m, Tag::reason, ctx));
  // Unlisted reasons are passed through: §6 admits values we have not seen.
  return static_cast<Reason>(reason);
}

// ---- 22 / 23 (§11.1) ----

Message build_sign_request(ByteView subject_der, std::uint32_t session_id) {
  Message out(Command::sign_certificate_request, session_id);
  out.add_bytes(Tag::csr_subject, subject_der);
  return out;
}

Result<Bytes> parse_sign_request(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::sign_certificate_request}));
  CAPF_TRY(subject, optional_nonempty(m, Tag::csr_subject, ctx));
  if (!subject) return missing(ctx, Tag::csr_subject);
  return std::move(*subject);
}

Message build(const SignResponse& m, std::uint32_t session_id) {
  Message out(Command::sign_certificate_response, session_id);
  out.add_u8(Tag::reason, m.reason);
  if (m.csr_der) out.add_bytes(Tag::csr, *m.csr_der);
  return out;
}

Result<SignResponse> parse_sign_response(const Message& m) {
  CAPF_TRY(ctx, expect_command(m, {Command::sign_certificate_response}));
  SignResponse r;
  CAPF_TRY(reason, optional_int<std::uint8_t>(m, Tag::reason, ctx));
  CAPF_TRY(csr, optional_nonempty(m, Tag::csr, ctx));
  // A missing REASON with a CSR present reads as success; success without a CSR is useless.
  r.reason = reason.value_or(static_cast<std::uint8_t>(Reason::ok));
  if (r.reason == static_cast<std::uint8_t>(Reason::ok) && !csr) return missing(ctx, Tag::csr);
  r.csr_der = std::move(csr);
  return r;
}

#undef CAPF_TRY

}  // namespace capf::protocol
