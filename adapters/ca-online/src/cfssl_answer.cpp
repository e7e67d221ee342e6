#include "capf/ca_online/cfssl_answer.hpp"

#include <nlohmann/json.hpp>

namespace capf::ca_online {

namespace {

constexpr std::size_t kMaxErrorsText = 1000;
constexpr std::int64_t kMaxCode = 999999;

std::optional<int> code_of(const nlohmann::json& e) {
  const auto it = e.find("code");
  if (it == e.end()) return std::nullopt;
  // Only an integer in range: a string, a float (1e300) or a huge number is no cfssl code.
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(kMaxCode)) return static_cast<int>(v);
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v >= 0 && v <= kMaxCode) return static_cast<int>(v);
  }
  return std::nullopt;
}

std::string message_of(const nlohmann::json& e) {
  const auto it = e.find("message");
  if (it != e.end() && it->is_string()) return it->get_ref<const std::string&>().substr(0, kMaxErrorsText);
  return "?";
}

}  // namespace

std::optional<CfsslAnswer> read_cfssl_answer(std::string_view body) {
  const auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  CfsslAnswer a;
  if (const auto s = j.find("success"); s != j.end() && s->is_boolean()) a.success = s->get<bool>();
  if (const auto r = j.find("result"); r != j.end() && r->is_object()) {
    if (const auto c = r->find("certificate"); c != r->end() && c->is_string()) a.certificate = c->get<std::string>();
  }
  const auto errors = j.find("errors");
  if (errors == j.end() || !errors->is_array()) return a;
  for (const auto& e : *errors) {
    if (!e.is_object()) continue;
    const auto code = code_of(e);
    if (a.code == 0) a.code = code.value_or(0);
    if (a.errors.size() >= kMaxErrorsText) {
      a.errors += "; …";
      break;
    }
    a.errors += (a.errors.empty() ? "" : "; ") + message_of(e) + " (code " +
                (code ? std::to_string(*code) : std::string("not a number")) + ")";
  }
  return a;
}

}  // namespace capf::ca_online
