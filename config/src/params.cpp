// Reading, changing, checking and showing service parameters, through the table in
// params_table.cpp.
#include "capf/config/params.hpp"

#include <algorithm>

#include "capf/util/text.hpp"
#include "params_table.hpp"

namespace capf::config {

namespace {

using detail::entries;
using detail::Entry;

const Entry* find_entry(std::string_view name) {
  std::string n(util::trim(name));
  std::replace(n.begin(), n.end(), '_', '-');
  for (const auto& e : entries())
    if (util::iequals(e.info.name, n)) return &e;
  return nullptr;
}

Result<const Entry*> need(std::string_view name) {
  if (const auto* e = find_entry(name)) return e;
  return make_error(Errc::not_found, "no service parameter \"" + std::string(name) + "\" (see `capf config list`)");
}

std::string unit_suffix(const ParamInfo& i) {
  return i.unit.empty() ? "" : " " + std::string(i.unit);
}

/// The canonical value of `value` for `e`, or an error naming the allowed values.
Result<std::string> canonical(const Entry& e, std::string_view value) {
  const auto& i = e.info;
  const std::string v(util::trim(value));
  switch (i.kind) {
    case ValueKind::integer: {
      auto n = util::parse_int(v);
      if (!n || *n < i.min || *n > i.max)
        return make_error(Errc::invalid_argument, std::string(i.name) + " must be " + std::to_string(i.min) + "–" +
                                                      std::to_string(i.max) + unit_suffix(i) + ", got " +
                                                      (v.empty() ? "nothing" : v));
      return std::to_string(*n);
    }
    case ValueKind::boolean:
    case ValueKind::choice: {
      for (const auto& [alias, canon] : e.aliases)
        if (util::iequals(alias, v)) return std::string(canon);
      for (const auto c : i.choices)
        if (util::iequals(c, v)) return std::string(c);
      std::string allowed;
      for (const auto c : i.choices) allowed += (allowed.empty() ? "" : ", ") + std::string(c);
      return make_error(Errc::invalid_argument,
                        std::string(i.name) + " must be one of " + allowed + ", got \"" + v + "\"");
    }
    case ValueKind::text: {
      // Secrets keep their exact bytes; other text is trimmed.
      std::string t = i.secret ? std::string(value) : v;
      if (!t.empty() && e.check) {
        if (auto r = e.check(t); !r) return r.error();
      }
      return t;
    }
  }
  return make_error(Errc::internal, "unknown parameter kind");
}

}  // namespace

const std::vector<ParamInfo>& parameters() {
  static const std::vector<ParamInfo> infos = [] {
    std::vector<ParamInfo> out;
    for (const auto& e : entries()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

const ParamInfo* find_parameter(std::string_view name) {
  const auto* e = find_entry(name);
  return e ? &e->info : nullptr;
}

std::string raw_value(const ServiceParams& p, const ParamInfo& info) {
  const auto* e = find_entry(info.name);
  return e ? e->get(p) : "";
}

std::string shown_value(const ServiceParams& p, const ParamInfo& info) {
  auto v = raw_value(p, info);
  if (info.secret) return v.empty() ? "(not set)" : "(set)";
  return v;
}

std::string shown_default(const ParamInfo& info) {
  return shown_value(ServiceParams{}, info);
}

std::string shown_range(const ParamInfo& info) {
  switch (info.kind) {
    case ValueKind::integer:
      return std::to_string(info.min) + "–" + std::to_string(info.max);
    case ValueKind::boolean:
    case ValueKind::choice: {
      std::string out;
      for (const auto c : info.choices) out += (out.empty() ? "" : "|") + std::string(c);
      return out;
    }
    case ValueKind::text:
      return "";
  }
  return "";
}

Result<void> set_parameter(ServiceParams& p, std::string_view name, std::string_view value) {
  auto e = need(name);
  if (!e) return e.error();
  auto v = canonical(**e, value);
  if (!v) return v.error();
  ServiceParams next = p;
  (*e)->set(next, *v);
  if (auto r = validate(next); !r) return r.error();
  p = std::move(next);
  return ok();
}

Result<void> reset_parameter(ServiceParams& p, std::string_view name) {
  auto e = need(name);
  if (!e) return e.error();
  ServiceParams next = p;
  (*e)->set(next, (*e)->get(ServiceParams{}));
  if (auto r = validate(next); !r) return r.error();
  p = std::move(next);
  return ok();
}

Result<void> validate(const ServiceParams& p) {
  for (const auto& e : entries()) {
    const auto v = e.get(p);
    auto c = canonical(e, v);
    if (!c) return c.error();
  }
  if (p.online_ca.retry_base_s > p.online_ca.retry_ceiling_s)
    return make_error(Errc::invalid_argument, "online-ca-retry-base (" + std::to_string(p.online_ca.retry_base_s) +
                                                  " s) must not exceed online-ca-retry-ceiling (" +
                                                  std::to_string(p.online_ca.retry_ceiling_s) + " s)");
  return ok();
}

std::vector<std::string> warnings(const ServiceParams& p) {
  std::vector<std::string> out;
  if (!p.online_ca.https) {
    if (util::iequals(p.online_ca.type, "cfssl"))
      out.emplace_back(
          "online-ca-scheme is http: requests to cfssl and the certificates it returns cross the network "
          "unencrypted and unauthenticated, so whoever is on the path can issue LSCs; set it to https");
    else
      out.emplace_back("online-ca-scheme http applies to cfssl only; AD CS web enrollment is always https");
  }
  if (p.smtp_allow_plain && (!p.smtp_user.empty() || !p.smtp_password.empty()))
    out.emplace_back(
        "smtp-allow-plain is true: the SMTP credentials may cross the network unencrypted when the "
        "server offers no TLS; set it to false");
  return out;
}

std::string change_detail(const ParamInfo& info, const ServiceParams& before, const ServiceParams& after) {
  if (info.secret) {
    const bool was = !raw_value(before, info).empty();
    const bool now = !raw_value(after, info).empty();
    return std::string(info.name) + (now ? (was ? " changed" : " set") : " cleared");
  }
  auto quote = [](const std::string& s) { return s.empty() ? std::string("\"\"") : s; };
  return std::string(info.name) + ": " + quote(raw_value(before, info)) + " -> " + quote(raw_value(after, info));
}

}  // namespace capf::config
