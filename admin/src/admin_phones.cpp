// Phone inventory operations: CSV import, listing, one phone's CAPF settings.
#include <algorithm>
#include <cstdint>
#include <set>

#include "capf/admin/admin_service.hpp"
#include "capf/admin/paging.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/inventory/completes_by.hpp"
#include "capf/inventory/phones_csv.hpp"
#include "capf/inventory/query.hpp"
#include "capf/util/text.hpp"

namespace capf::admin {

namespace {

/// One certificate a phone showed CAPF, read again from its DER for `phone show`: kept
/// certificates parsed when they were retrieved, so a failure here means a damaged record.
nlohmann::json phone_certificate_json(const PhoneCertificate& c) {
  nlohmann::json j{{"type", to_string(c.kind)},
                   {"retrieved_by", c.at_authentication ? "authentication" : "troubleshoot"},
                   {"retrieved_at", util::format_iso8601(c.retrieved_at)}};
  auto cert = crypto::Certificate::from_der(c.der);
  if (!cert) {
    j["error"] = "does not parse: " + cert.error().message;
    return j;
  }
  j["subject"] = cert->subject();
  j["issuer"] = cert->issuer();
  j["serial"] = cert->serial_hex();
  j["not_before"] = util::format_iso8601(cert->not_before());
  j["not_after"] = util::format_iso8601(cert->not_after());
  j["pem"] = cert->to_pem();
  return j;
}

/// The line of an issue "FILE:LINE:COLUMN: what" (0 when it has none).
long issue_line(const std::string& s) {
  const auto c1 = s.find(':');
  const auto c2 = s.find(':', c1 + 1);
  return c1 == std::string::npos ? 0 : util::parse_int(s.substr(c1 + 1, c2 - c1 - 1)).value_or(0);
}

/// Rows with at least one issue: a row can have several.
std::size_t rejected_rows(const std::vector<std::string>& issues) {
  std::set<long> lines;
  for (const auto& i : issues) lines.insert(issue_line(i));
  return lines.size();
}

/// Reads the settable fields of `phone set` from JSON into a row, validating like the CSV does.
Result<inventory::PhoneRow> row_from_json(const std::string& name, const nlohmann::json& j,
                                          const std::string& time_zone) {
  inventory::PhoneRow row;
  row.name = name;
  auto text = [&](const char* key) { return json_text(j, key); };
  if (auto v = text("operation")) {
    auto op = parse_operation(*v);
    if (!op)
      return make_error(Errc::invalid_argument,
                        "unknown Certificate Operation \"" + *v + "\" (use install, delete, troubleshoot or none)");
    row.operation = *op;
  }
  if (auto v = text("auth_mode")) {
    auto m = parse_auth_mode(*v);
    if (!m)
      return make_error(Errc::invalid_argument,
                        "unknown Authentication Mode \"" + *v + "\" (use string, null, lsc or mic)");
    row.auth_mode = *m;
  }
  if (auto v = text("auth_string")) {
    if (!valid_auth_string(*v))
      return make_error(Errc::invalid_argument,
                        "Authentication String must be 4–10 digits (got " + std::to_string(v->size()) + " characters)");
    row.auth_string = *v;
  }
  if (auto v = text("security_mode")) {
    auto m = parse_security_mode(*v);
    if (!m)
      return make_error(Errc::invalid_argument,
                        "unknown Device Security Mode \"" + *v + "\" (use \"Non Secure\", Authenticated or Encrypted)");
    row.security_mode = *m;
  }
  if (auto v = text("key_size")) {
    auto bits = util::parse_int(*v);
    if (!bits || !valid_rsa_bits(static_cast<int>(*bits)))
      return make_error(Errc::invalid_argument, "Key Size (Bits) must be 1024, 2048, 3072 or 4096, got " + *v);
    row.rsa_key_bits = static_cast<int>(*bits);
  }
  if (auto v = text("ec_key_size")) {
    auto bits = util::parse_int(*v);
    if (!bits || !curve_from_bits(static_cast<int>(*bits)))
      return make_error(Errc::invalid_argument, "EC Key Size (Bits) must be 256, 384 or 521, got " + *v);
    row.ec_key_bits = static_cast<int>(*bits);
  }
  if (auto v = text("key_order")) {
    auto k = parse_key_order(*v);
    if (!k)
      return make_error(Errc::invalid_argument, "unknown Key Order \"" + *v + "\" (use rsa, ec, ec-rsa or rsa-ec)");
    row.key_order = *k;
  }
  if (auto v = text("completes_by")) {
    if (v->empty()) {
      row.completes_by = std::optional<util::UnixTime>{};
    } else {
      auto t = inventory::parse_completes_by(*v, time_zone);
      if (!t) return t.error();
      row.completes_by = std::optional<util::UnixTime>{*t};
    }
  }
  return row;
}
}  // namespace

namespace {
/// Rows a parser chunk holds: large enough that the queue between the threads is rarely
/// touched, small enough that a chunk's rows stay in cache.
constexpr std::size_t kImportChunkRows = 2048;
}  // namespace

Result<AdminService::CsvImport> AdminService::import_csv(
    std::string_view content, const std::string& file, bool strict, const std::string& actor,
    std::vector<std::string>& names, const std::function<void(const inventory::PhoneRow&)>& on_row) {
  std::lock_guard lock(write_mutex_);
  const auto now = clock_.now();
  CsvImport out;
  std::function<NewDeviceDefaultsApplied(Device&, const inventory::PhoneRow&)> defaults;
  inventory::CsvOptions options{strict};
  options.time_zone = time_zone();
  if (new_device_defaults_) {
    auto made = new_device_defaults_();
    if (!made) return made.error();
    defaults = std::move(*made);
  }
  const std::size_t names_before = names.size();
  std::vector<std::string> check_issues;
  store::DeviceBatch devices;  // encoded as they come: a site's rows are never all held as Devices
  devices.reserve(content.size() / 128, content.size() + content.size() / 4);  // rows are rarely shorter
  std::optional<Error> store_failure;
  std::vector<std::string_view> row_names;

  // On the calling thread, a chunk behind the parser: one batched lookup, then each row onto
  // its stored device (or a new one) and into the batch.
  auto apply_chunk = [&](std::vector<inventory::PhoneRow>& rows) {
    if (store_failure) return;
    row_names.clear();
    for (const auto& row : rows) row_names.push_back(row.name);
    auto existing = store_.find_devices(row_names);
    if (!existing) {
      store_failure = existing.error();
      return;
    }
    auto next_existing = existing->begin();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      if (on_row) on_row(row);
      const bool is_new = next_existing == existing->end() || next_existing->first != i;
      Device d = is_new ? Device{} : std::move((next_existing++)->second);
      inventory::apply_row(d, row, now);
      NewDeviceDefaultsApplied applied;
      if (is_new && defaults) applied = defaults(d, row);  // a device template fills what the row leaves empty
      auto why = inventory::check_capf_settings(d);
      if (why && !applied.template_name.empty()) *why += " (settings of template " + applied.template_name + ")";
      if (!why) {
        if (auto put = devices.add(d); !put) why = put.error().message;
      }
      if (why) {
        check_issues.push_back(file + ":" + std::to_string(row.line) + ":0: " + *why);
        continue;
      }
      if (applied.generated_string) out.generated_strings.emplace_back(d.name, d.auth_string);
      is_new ? ++out.added : ++out.updated;
      names.push_back(std::move(d.name));
    }
  };
  auto parsed = inventory::parse_phones_csv_alongside(content, file, options, kImportChunkRows, apply_chunk);
  if (!parsed || store_failure) {
    names.resize(names_before);
    return parsed ? *store_failure : parsed.error();
  }
  out.records = parsed->records;
  for (const auto& i : parsed->issues) out.issues.push_back(i.to_string());
  out.issues.insert(out.issues.end(), std::make_move_iterator(check_issues.begin()),
                    std::make_move_iterator(check_issues.end()));
  std::stable_sort(out.issues.begin(), out.issues.end(),
                   [](const std::string& a, const std::string& b) { return issue_line(a) < issue_line(b); });
  if (strict && !out.issues.empty()) {
    names.resize(names_before);
    out.added = out.updated = 0;
    out.rejected_file = true;
    out.generated_strings.clear();  // nothing was written: these strings belong to no device
    return out;
  }
  if (!devices.empty()) {
    store::Transition t;
    t.audit.push_back(AuditEntry{now, actor, "phones.import", file,
                                 std::to_string(out.added) + " added, " + std::to_string(out.updated) + " updated, " +
                                     std::to_string(rejected_rows(out.issues)) + " rejected rows"});
    if (auto w = store_.apply(devices, t, store::Sync::yes); !w) {
      names.resize(names_before);
      return w.error();
    }
  }
  return out;
}

Response AdminService::import_phones(const Request& r, const std::string& query) {
  std::string file = query_param(query, "file");
  if (file.empty()) file = "phones.csv";
  const bool strict = query_param(query, "strict") == "1";
  std::vector<std::string> names;
  auto imported = import_csv(r.body, file, strict, r.actor, names);
  if (!imported)
    return error_response(imported.error().code == Errc::invalid_argument ? 400 : 500, imported.error().message);
  return {imported->rejected_file ? 422 : 200,
          {{"file", file},
           {"records", imported->records},
           {"added", imported->added},
           {"updated", imported->updated},
           {"rejected_file", imported->rejected_file},
           {"rejected_rows", rejected_rows(imported->issues)},
           {"issues", imported->issues},
           {"generated_strings", generated_strings_json(imported->generated_strings)}}};
}

namespace {

/// Columns a device listing sorts by; the first is the default, in the store's own order.
const std::vector<std::string_view> kDeviceColumns{"name",   "device_pool", "device_type", "operation",
                                                   "status", "lsc_issuer",  "lsc_expires", "last_seen"};

std::string device_sort_key(const Device& d, const std::string& column) {
  if (column == "device_pool") return sort_key(d.device_pool, d.name);
  if (column == "device_type") return sort_key(d.device_type, d.name);
  if (column == "operation") return sort_key(to_string(d.operation), d.name);
  if (column == "status") return sort_key(to_string(d.status), d.name);
  if (column == "lsc_issuer") return sort_key(d.lsc_issuer, d.name);
  // No LSC sorts as the earliest date, never seen as the oldest.
  if (column == "lsc_expires") return sort_key(d.lsc_serial.empty() ? INT64_MIN : d.lsc_not_after, d.name);
  if (column == "last_seen") return sort_key(d.last_seen, d.name);
  return d.name;  // the store's key order, so a page can start where the last one ended
}

}  // namespace

Response AdminService::list_phones(const std::string& query) {
  const std::string where = query_param(query, "where");
  auto q = inventory::Query::parse(where);
  if (!q) return error_response(400, q.error().message);
  auto paged = page_request(query, kDeviceColumns);
  if (!paged) return error_response(400, paged.error().message);
  if (*paged) return page_of_phones(*q, **paged);
  const auto limit = util::parse_int(query_param(query, "limit")).value_or(0);
  std::unordered_set<std::string> revoked;
  auto context = query_context(store_, *q, clock_.now(), revoked);
  if (!context) return error_response(500, context.error().message);
  nlohmann::json list = nlohmann::json::array();
  std::size_t matched = 0;
  auto r = store_.for_each_device([&](const Device& d) {
    if (!q->matches(d, *context)) return true;
    ++matched;
    if (limit <= 0 || static_cast<std::int64_t>(list.size()) < limit) list.push_back(device_json(d));
    return true;
  });
  if (!r) return error_response(500, r.error().message);
  return {200, {{"phones", list}, {"matched", matched}}};
}

Response AdminService::page_of_phones(const inventory::Query& q, const PageRequest& request) {
  std::unordered_set<std::string> revoked;
  auto context = query_context(store_, q, clock_.now(), revoked);
  if (!context) return error_response(500, context.error().message);
  PageCollector<Device> page(request);
  // In name order without a count, the page is read from the store cursor on: the cost of a
  // page is its own devices, however large the inventory.
  const bool seek = request.sort == "name" && !request.descending && !request.count;
  auto take = [&](const Device& d) {
    if (!q.matches(d, *context)) return true;
    std::string key = device_sort_key(d, request.sort);
    if (page.offer(key)) page.add(std::move(key), d);
    return !(seek && page.full());
  };
  auto r = seek ? store_.for_each_device_after(request.after, take) : store_.for_each_device(take);
  if (!r) return error_response(500, r.error().message);
  std::string next;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : page.take(next)) list.push_back(device_json(d));
  return {200,
          {{"phones", std::move(list)},
           {"matched", request.count ? nlohmann::json(page.matched()) : nlohmann::json()},
           {"next", next.empty() ? nlohmann::json() : nlohmann::json(next)},
           {"sort", request.sort},
           {"order", request.descending ? "desc" : "asc"}}};
}

Response AdminService::show_phone(const std::string& name) {
  auto d = store_.get_device(name);
  if (!d) return error_response(500, d.error().message);
  if (!d->has_value()) return error_response(404, "no device named " + name);
  auto j = device_json(**d);
  j["retrieved_certificates"] = nlohmann::json::array();
  for (const auto& c : (*d)->phone_certificates) j["retrieved_certificates"].push_back(phone_certificate_json(c));
  auto certs = store_.certificates_of(name);
  if (certs) {
    j["certificates"] = nlohmann::json::array();
    for (const auto& c : *certs) j["certificates"].push_back(certificate_json(c));
  }
  return {200, j};
}

Response AdminService::set_phone(const Request& r, const std::string& name) {
  nlohmann::json body = r.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(r.body);
  auto row = row_from_json(name, body, time_zone());
  if (!row) return error_response(400, row.error().message);
  // Generate String: a new random string for this phone, answered once and never again.
  const bool generate = body.value("generate_string", false);
  if (generate && row->auth_string) return error_response(400, "give --auth-string or --generate-string, not both");
  if (generate) row->auth_string = crypto::random_digits(kGeneratedStringDigits);
  std::lock_guard lock(write_mutex_);
  // The device's claim: a session deciding on this device meanwhile writes before this read or
  // after this write, never over it.
  auto claim = store_.claims().claim(name);
  auto existing = store_.get_device(name);
  if (!existing) return error_response(500, existing.error().message);
  if (!existing->has_value()) return error_response(404, "no device named " + name + " (import it first)");
  Device d = **existing;
  const auto now = clock_.now();
  inventory::apply_row(d, *row, now);
  // A new string re-arms a device locked after wrong strings.
  if (row->auth_string && d.armed()) {
    d.status = OperationStatus::pending;
    d.status_reason.clear();
    d.auth_failures = 0;
    d.keygen_failures = 0;
  }
  if (generate && d.auth_mode != AuthMode::auth_string)
    return error_response(
        400, name + ": --generate-string needs Authentication Mode By Authentication String (add --auth-mode string)");
  if (auto why = inventory::check_capf_settings(d)) return error_response(400, name + ": " + *why);
  store::Transition t;
  t.put_devices.push_back(d);
  std::string what;
  for (const auto& [k, v] : body.items())
    what += (what.empty() ? "" : " ") + k +
            (k == "auth_string" ? "=(set)" : "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  t.audit.push_back(AuditEntry{now, r.actor, "phone.set", name, what});
  if (auto w = store_.apply(t, store::Sync::yes); !w) return error_response(500, w.error().message);
  auto out = device_json(d);
  if (generate) out["generated_auth_string"] = d.auth_string;
  return {200, out};
}

}  // namespace capf::admin
