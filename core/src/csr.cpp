#include "capf/core/csr.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace capf {

namespace {
constexpr std::array<std::pair<std::string_view, CsrState>, 7> kStates{{
    {"pending", CsrState::pending},
    {"submitting", CsrState::submitting},
    {"submitted", CsrState::submitted},
    {"issued", CsrState::issued},
    {"delivered", CsrState::delivered},
    {"rejected", CsrState::rejected},
    {"stale", CsrState::stale},
}};
constexpr std::array<std::pair<std::string_view, CaErrorClass>, 5> kClasses{{
    {"none", CaErrorClass::none},
    {"retryable", CaErrorClass::retryable},
    {"needs-admin", CaErrorClass::needs_admin},
    {"permanent", CaErrorClass::permanent},
    {"internal", CaErrorClass::internal},
}};

template <class E, std::size_t N>
std::string_view name_of(E v, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, value] : table)
    if (value == v) return name;
  return "?";
}
template <class E, std::size_t N>
std::optional<E> value_of(std::string_view s, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, value] : table)
    if (name == s) return value;
  return std::nullopt;
}
}  // namespace

std::string_view to_string(CsrState s) { return name_of(s, kStates); }
std::optional<CsrState> parse_csr_state(std::string_view s) { return value_of(s, kStates); }
bool is_final(CsrState s) { return s == CsrState::delivered || s == CsrState::rejected || s == CsrState::stale; }
std::string_view to_string(CaErrorClass c) { return name_of(c, kClasses); }
std::optional<CaErrorClass> parse_ca_error_class(std::string_view s) { return value_of(s, kClasses); }

std::string_view to_string(CsrEvent e) {
  switch (e) {
    case CsrEvent::sending: return "sending";
    case CsrEvent::held: return "held";
    case CsrEvent::retry: return "retry";
    case CsrEvent::issued: return "issued";
    case CsrEvent::rejected: return "rejected";
    case CsrEvent::delivered: return "delivered";
    case CsrEvent::superseded: return "superseded";
  }
  return "?";
}

Result<CsrState> next_csr_state(CsrState from, CsrEvent e) {
  using S = CsrState;
  std::optional<S> to;
  switch (e) {
    case CsrEvent::sending:
      if (from == S::pending) to = S::submitting;
      break;
    case CsrEvent::held:
      if (from == S::submitting || from == S::submitted) to = S::submitted;
      break;
    case CsrEvent::retry:
      if (from == S::submitting) to = S::pending;
      if (from == S::submitted) to = S::submitted;
      break;
    case CsrEvent::issued:
      if (from == S::pending || from == S::submitting || from == S::submitted) to = S::issued;
      break;
    case CsrEvent::rejected:
      if (from == S::pending || from == S::submitting || from == S::submitted) to = S::rejected;
      break;
    case CsrEvent::delivered:
      if (from == S::issued) to = S::delivered;
      break;
    case CsrEvent::superseded:
      if (!is_final(from)) to = S::stale;
      break;
  }
  if (!to)
    return make_error(Errc::invalid_argument,
                      "a " + std::string(to_string(from)) + " CSR cannot be " + std::string(to_string(e)));
  return *to;
}

std::string encode_csr(const CsrRecord& r) {
  nlohmann::json j = {
      {"id", r.id},
      {"device", r.device},
      {"job", r.job},
      {"issuer", std::string(to_string(r.issuer))},
      {"key", r.key},
      {"csr", r.csr_der_hex},
      {"spki_sha256", r.spki_sha256},
      {"created_at", r.created_at},
      {"updated_at", r.updated_at},
      {"state", std::string(to_string(r.state))},
      {"round", r.round},
      {"handle", r.handle},
      {"ca", r.ca},
      {"submissions", r.submissions},
      {"attempts", r.attempts},
      {"next_try_at", r.next_try_at},
      {"error_class", std::string(to_string(r.error_class))},
      {"error", r.error},
      {"serial", r.serial},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<CsrRecord> decode_csr(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "CSR record is not a JSON object");
  CsrRecord r;
  try {
    r.id = j.at("id").get<std::string>();
    r.device = j.at("device").get<std::string>();
    r.job = j.value("job", "");
    auto issuer = parse_issuer(j.at("issuer").get<std::string>());
    if (!issuer) return make_error(Errc::io, "CSR record " + r.id + ": unknown issuer");
    r.issuer = *issuer;
    r.key = j.value("key", "");
    r.csr_der_hex = j.at("csr").get<std::string>();
    r.spki_sha256 = j.value("spki_sha256", "");
    r.created_at = j.at("created_at").get<util::UnixTime>();
    r.updated_at = j.value("updated_at", util::UnixTime{0});
    auto state = parse_csr_state(j.at("state").get<std::string>());
    if (!state) return make_error(Errc::io, "CSR record " + r.id + ": unknown state");
    r.state = *state;
    r.round = j.value("round", 0);
    r.handle = j.value("handle", "");
    r.ca = j.value("ca", "");
    r.submissions = j.value("submissions", 0);
    r.attempts = j.value("attempts", 0);
    r.next_try_at = j.value("next_try_at", util::UnixTime{0});
    auto cls = parse_ca_error_class(j.value("error_class", "none"));
    r.error_class = cls.value_or(CaErrorClass::internal);
    r.error = j.value("error", "");
    r.serial = j.value("serial", "");
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::io, std::string("CSR record: missing or mistyped field: ") + e.what());
  }
  return r;
}

}  // namespace capf
