// Device templates: validation, the JSON record, precedence and the import hook.
#include "capf/policy/template.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "capf/crypto/crypto.hpp"

namespace capf::policy {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

Result<void> validate(const DeviceTemplate& t) {
  if (!valid_name(t.name))
    return make_error(Errc::invalid_argument, "template name \"" + t.name + "\" must be 1–64 of A-Z a-z 0-9 . _ -");
  if (auto q = inventory::Query::parse(t.where); !q)
    return make_error(Errc::invalid_argument, "--where: " + q.error().message);
  if (t.rsa_key_bits && !valid_rsa_bits(*t.rsa_key_bits))
    return make_error(Errc::invalid_argument,
                      "--key-size must be 1024, 2048, 3072 or 4096, got " + std::to_string(*t.rsa_key_bits));
  if (t.ec_key_bits && !curve_from_bits(*t.ec_key_bits))
    return make_error(Errc::invalid_argument,
                      "--ec-key-size must be 256, 384 or 521, got " + std::to_string(*t.ec_key_bits));
  if (t.auth_string && !valid_auth_string(*t.auth_string))
    return make_error(Errc::invalid_argument, "--auth-string must be 4–10 digits (got " +
                                                  std::to_string(t.auth_string->size()) + " characters)");
  if (t.auth_string && t.auth_mode != AuthMode::auth_string)
    return make_error(Errc::invalid_argument, "--auth-string needs --auth-mode string (By Authentication String)");
  if (t.auth_string && t.string_policy && *t.string_policy != StringPolicy::shared)
    return make_error(Errc::invalid_argument,
                      "--auth-string is one string for all the template's phones: it goes with "
                      "string policy shared, not " +
                          std::string(to_string(*t.string_policy)));
  if (t.auth_mode == AuthMode::auth_string && !t.auth_string &&
      (!t.string_policy || *t.string_policy == StringPolicy::keep || *t.string_policy == StringPolicy::shared))
    return make_error(Errc::invalid_argument,
                      "template " + t.name +
                          ": By Authentication String needs a string for every phone it adds: "
                          "--auth-string DIGITS or --generate-string (one string for all its phones), "
                          "--string-policy unique (Generate String per phone), or --string-policy csv (each row's)");
  return ok();
}

namespace {

template <class T, class F>
void put_opt(nlohmann::json& j, const char* key, const std::optional<T>& v, F text) {
  if (v) j[key] = text(*v);
}

template <class E, class P>
Result<std::optional<E>> get_enum(const nlohmann::json& j, const char* key, P parse) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<E>{};
  if (!j[key].is_string()) return make_error(Errc::io, std::string("template record: field ") + key + " is not text");
  auto v = parse(j[key].get<std::string>());
  if (!v) return make_error(Errc::io, std::string("template record: field ") + key + " has an unknown value");
  return std::optional<E>{*v};
}

}  // namespace

std::string encode_template(const DeviceTemplate& t) {
  nlohmann::json j{{"name", t.name},
                   {"where", t.where},
                   {"priority", t.priority},
                   {"created_at", t.created_at},
                   {"created_by", t.created_by}};
  auto sv = [](auto v) { return std::string(to_string(v)); };
  put_opt(j, "operation", t.operation, sv);
  put_opt(j, "auth_mode", t.auth_mode, sv);
  put_opt(j, "string_policy", t.string_policy, sv);
  put_opt(j, "key_size", t.rsa_key_bits, [](int v) { return v; });
  put_opt(j, "key_order", t.key_order, sv);
  put_opt(j, "ec_key_size", t.ec_key_bits, [](int v) { return v; });
  put_opt(j, "issuer", t.issuer, sv);
  put_opt(j, "auth_string", t.auth_string, [](const std::string& v) { return v; });
  return j.dump();
}

Result<DeviceTemplate> decode_template(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "template record is not a JSON object");
  DeviceTemplate t;
  try {
    t.name = j.at("name").get<std::string>();
    t.where = j.value("where", "");
    t.priority = j.value("priority", 0);
    t.created_at = j.value("created_at", util::UnixTime{0});
    t.created_by = j.value("created_by", "");
    if (j.contains("key_size")) t.rsa_key_bits = j["key_size"].get<int>();
    if (j.contains("ec_key_size")) t.ec_key_bits = j["ec_key_size"].get<int>();
    if (j.contains("auth_string")) t.auth_string = j["auth_string"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::io, std::string("template record: ") + e.what());
  }
  auto op = get_enum<CertificateOperation>(j, "operation", [](const std::string& s) { return parse_operation(s); });
  if (!op) return op.error();
  t.operation = *op;
  auto mode = get_enum<AuthMode>(j, "auth_mode", [](const std::string& s) { return parse_auth_mode(s); });
  if (!mode) return mode.error();
  t.auth_mode = *mode;
  auto sp = get_enum<StringPolicy>(j, "string_policy", [](const std::string& s) { return parse_string_policy(s); });
  if (!sp) return sp.error();
  t.string_policy = *sp;
  auto ko = get_enum<KeyOrder>(j, "key_order", [](const std::string& s) { return parse_key_order(s); });
  if (!ko) return ko.error();
  t.key_order = *ko;
  auto is = get_enum<IssuerKind>(j, "issuer", [](const std::string& s) { return parse_issuer(s); });
  if (!is) return is.error();
  t.issuer = *is;
  return t;
}

Result<std::vector<DeviceTemplate>> load_templates(const store::Store& store) {
  std::vector<DeviceTemplate> out;
  std::optional<Error> bad;
  auto r = store.for_each_doc(store::Family::templates, "", [&](const std::string& key, const std::string& json) {
    auto t = decode_template(json);
    if (!t) {
      bad = make_error(Errc::io, "template " + key + ": " + t.error().message);
      return false;
    }
    out.push_back(std::move(*t));
    return true;
  });
  if (!r) return r.error();
  if (bad) return *bad;
  return out;
}

Result<std::optional<DeviceTemplate>> load_template(const store::Store& store, const std::string& name) {
  auto doc = store.get_doc(store::Family::templates, name);
  if (!doc) return doc.error();
  if (!doc->has_value()) return std::optional<DeviceTemplate>{};
  auto t = decode_template(**doc);
  if (!t) return make_error(Errc::io, "template " + name + ": " + t.error().message);
  return std::optional<DeviceTemplate>{std::move(*t)};
}

Result<TemplateSet> TemplateSet::load(const store::Store& store) {
  auto all = load_templates(store);
  if (!all) return all.error();
  return make(std::move(*all));
}

Result<TemplateSet> TemplateSet::make(std::vector<DeviceTemplate> templates) {
  std::sort(templates.begin(), templates.end(), [](const DeviceTemplate& a, const DeviceTemplate& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.name < b.name;
  });
  TemplateSet set;
  for (auto& t : templates) {
    auto q = inventory::Query::parse(t.where);
    if (!q) return make_error(Errc::invalid_argument, "template " + t.name + ": " + q.error().message);
    set.items_.emplace_back(std::move(t), std::move(*q));
  }
  return set;
}

const DeviceTemplate* TemplateSet::match(const Device& d, util::UnixTime now) const {
  for (const auto& [t, q] : items_)
    if (q.matches(d, now)) return &t;
  return nullptr;
}

admin::NewDeviceDefaultsApplied TemplateSet::apply_to_new(Device& d, const inventory::PhoneRow& row,
                                                          util::UnixTime now) const {
  admin::NewDeviceDefaultsApplied applied;
  const DeviceTemplate* t = match(d, now);
  if (!t) return applied;
  applied.template_name = t->name;
  if (!row.operation && t->operation) {
    d.operation = *t->operation;
    d.status = d.armed() ? OperationStatus::pending : OperationStatus::none;
  }
  if (!row.auth_mode && t->auth_mode) d.auth_mode = *t->auth_mode;
  if (!row.rsa_key_bits && t->rsa_key_bits) d.rsa_key_bits = *t->rsa_key_bits;
  if (!row.key_order && t->key_order) d.key_order = *t->key_order;
  if (!row.ec_key_bits && t->ec_key_bits) d.ec_key_bits = *t->ec_key_bits;
  // The Authentication String: the row's wins; else the template's own, or a new one per phone.
  if (!row.auth_string && d.auth_mode == AuthMode::auth_string) {
    if (t->auth_string) {
      d.auth_string = *t->auth_string;
    } else if (t->string_policy == StringPolicy::unique) {
      d.auth_string = crypto::random_digits(admin::kGeneratedStringDigits);
      applied.generated_string = true;
    }
  }
  return applied;
}

admin::AdminService::NewDeviceDefaults new_device_defaults(const store::Store& store, const util::Clock& clock) {
  using Apply = std::function<admin::NewDeviceDefaultsApplied(Device&, const inventory::PhoneRow&)>;
  return [&store, &clock]() -> Result<Apply> {
    auto set = TemplateSet::load(store);
    if (!set) return make_error(set.error().code, "device templates: " + set.error().message);
    const auto now = clock.now();
    return Apply([set = std::move(*set), now](Device& d, const inventory::PhoneRow& row) {
      return set.apply_to_new(d, row, now);
    });
  };
}

}  // namespace capf::policy
