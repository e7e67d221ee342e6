#include "capf/core/device.hpp"

#include <array>
#include <utility>

namespace capf {

namespace {
constexpr std::array<std::pair<std::string_view, CertificateState>, 6> kStates{{
    {"issued", CertificateState::issued},
    {"delivered", CertificateState::delivered},
    {"stale", CertificateState::stale},
    {"replaced", CertificateState::replaced},
    {"deleted", CertificateState::deleted},
    {"revoked", CertificateState::revoked},
}};
}  // namespace

std::string_view to_string(CertificateState s) {
  for (const auto& [name, value] : kStates)
    if (value == s) return name;
  return "?";
}

std::optional<CertificateState> parse_certificate_state(std::string_view s) {
  for (const auto& [name, value] : kStates)
    if (name == s) return value;
  return std::nullopt;
}

std::string_view to_string(PhoneCertificateKind k) {
  switch (k) {
    case PhoneCertificateKind::lsc: return "LSC";
    case PhoneCertificateKind::mic: return "MIC";
    case PhoneCertificateKind::unknown: return "unknown";
  }
  return "?";
}

std::optional<PhoneCertificateKind> parse_phone_certificate_kind(std::string_view s) {
  for (auto k : {PhoneCertificateKind::lsc, PhoneCertificateKind::mic, PhoneCertificateKind::unknown})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

}  // namespace capf
