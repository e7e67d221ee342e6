#include "capf/monitor/monitor_routes.hpp"

#include "capf/monitor/ca_admin.hpp"
#include "capf/util/text.hpp"

namespace capf::monitor {

using admin::error_response;
using admin::Response;

namespace {

/// A serial as the administrator typed it, in capf's form; an error naming the accepted forms
/// when it is not a serial.
Result<std::string> serial_of(const std::string& typed, const char* what) {
  if (auto s = util::normalize_serial(typed)) return *s;
  return make_error(
      Errc::invalid_argument,
      std::string(what) + " \"" + typed +
          "\" is not a serial: give hex digits, in either case, with or "
          "without leading zeros or colons (as `capf phone show`, `openssl x509 -serial` or `-text` print it)");
}

nlohmann::json body_of(const admin::Request& r) {
  if (r.body.empty()) return nlohmann::json::object();
  return nlohmann::json::parse(r.body);  // a parse error is answered 400 by AdminService
}

nlohmann::json crl_json(const CrlState& c) {
  return {{"ca_serial", c.ca_serial},
          {"issuer", c.issuer},
          {"number", c.number},
          {"this_update", util::format_iso8601(c.this_update)},
          {"next_update", util::format_iso8601(c.next_update)},
          {"revoked", c.revoked},
          {"der_hex", util::to_hex(c.der)},
          {"pem", crypto::crl_pem(c.der)}};
}

}  // namespace

AdminRoutes::AdminRoutes(store::Store& store, const util::Clock& clock, std::string ca_dir, CertificateMonitor* monitor,
                         bool daemon)
    : store_(store), clock_(clock), ca_dir_(std::move(ca_dir)), monitor_(monitor), daemon_(daemon) {}

std::optional<Response> AdminRoutes::handle(const admin::Request& r, const std::string& path,
                                            const std::string& query) {
  if (r.method == "POST" && path == "/v1/ca/regenerate") return regenerate(r);
  if (r.method == "GET" && path == "/v1/ca/retired") return retired();
  const std::string retired_prefix = "/v1/ca/retired/";
  if (r.method == "POST" && path.rfind(retired_prefix, 0) == 0) {
    auto rest = util::split(path.substr(retired_prefix.size()), '/');
    if (rest.size() == 2 && rest[1] == "delete") {
      auto serial = serial_of(util::percent_decode(rest[0]), "CA serial");
      if (!serial) return error_response(400, serial.error().message);
      return delete_retired(r, *serial);
    }
  }
  if (r.method == "GET" && path == "/v1/ca/phones-on-old") return phones_on_old();
  const std::string lsc = "/v1/lsc/";
  if (r.method == "POST" && path.rfind(lsc, 0) == 0) {
    auto rest = util::split(path.substr(lsc.size()), '/');
    if (rest.size() == 2 && rest[1] == "revoke") {
      auto serial = serial_of(util::percent_decode(rest[0]), "LSC serial");
      if (!serial) return error_response(400, serial.error().message);
      return revoke(r, *serial);
    }
  }
  if (r.method == "GET" && path == "/v1/crl") return crl(query);
  if (r.method == "POST" && path == "/v1/monitor/run") return run_now();
  if (r.method == "GET" && path == "/v1/monitor/status") {
    if (!monitor_) return error_response(503, "the monitor status needs the running daemon (start `capf serve`)");
    auto last = monitor_->last();
    if (!last) return Response{200, {{"checked", false}, {"note", "no check yet since the daemon started"}}};
    auto j = last->to_json();
    j["checked"] = true;
    return Response{200, j};
  }
  return std::nullopt;
}

Response AdminRoutes::regenerate(const admin::Request& r) {
  const auto body = body_of(r);
  std::string key_text = body.value("key", "");
  if (key_text.empty()) {
    const auto params = load_params(store_);
    key_text = "rsa-" + std::to_string(params.key_size);
  }
  auto key = parse_ca_key(key_text);
  if (!key) return error_response(400, key.error().message);
  auto done = monitor::regenerate(store_, ca_dir_, *key, r.actor, clock_);
  if (!done) return error_response(done.error());
  return Response{
      200,
      {{"old", {{"subject", done->old_subject}, {"serial", done->old_serial}}},
       {"new",
        {{"subject", done->new_subject},
         {"serial", done->new_serial},
         {"key", done->new_key},
         {"not_after", done->new_not_after}}},
       {"retired_pem", done->retired_pem},
       {"restart_required", daemon_},
       {"note", daemon_ ? "the running daemon keeps the old CA for port 3804 and new LSCs until it is restarted"
                        : "the next `capf serve` uses the new CA"}}};
}

Response AdminRoutes::retired() {
  auto list = crypto::retired_cas(ca_dir_);
  if (!list) return error_response(500, list.error().message);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *list)
    out.push_back({{"serial", r.certificate.serial_hex()},
                   {"subject", r.certificate.subject()},
                   {"not_after", util::format_iso8601(r.certificate.not_after())},
                   {"file", r.pem_path}});
  return Response{200, {{"retired", out}}};
}

Response AdminRoutes::delete_retired(const admin::Request& r, const std::string& serial) {
  auto list = crypto::retired_cas(ca_dir_);
  std::string subject;
  if (list)
    for (const auto& c : *list)
      if (c.certificate.serial_hex() == serial) subject = c.certificate.subject();
  if (auto d = crypto::delete_retired_ca(ca_dir_, serial); !d) return error_response(d.error());
  store::Transition t;
  t.audit.push_back(AuditEntry{clock_.now(), r.actor, "ca.retired.deleted", serial, subject});
  if (auto w = store_.apply(t); !w) return error_response(500, w.error().message);
  return Response{200,
                  {{"deleted", serial},
                   {"subject", subject},
                   {"restart_required", daemon_},
                   {"note",
                    "phones whose LSC it issued can no longer authenticate with that LSC"
                    " once the daemon (re)starts without it in CAPF-trust"}}};
}

Response AdminRoutes::phones_on_old() {
  auto subjects = retired_subjects(store_);
  if (!subjects) return error_response(500, subjects.error().message);
  auto phones = monitor::phones_on_old(store_);
  if (!phones) return error_response(500, phones.error().message);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : *phones) list.push_back(admin::device_json(d));
  return Response{200, {{"retired_subjects", *subjects}, {"query", phones_on_old_query(*subjects)}, {"phones", list}}};
}

Response AdminRoutes::revoke(const admin::Request& r, const std::string& serial) {
  const auto body = body_of(r);
  const std::string reason_text = body.value("reason", "unspecified");
  auto reason = crypto::parse_revocation_reason(reason_text);
  if (!reason)
    return error_response(
        400, "unknown revocation reason \"" + reason_text + "\" (one of " + crypto::revocation_reason_names() + ")");
  auto done = monitor::revoke(store_, ca_dir_, serial, *reason, r.actor, clock_);
  if (!done) return error_response(done.error());
  return Response{200,
                  {{"revoked", done->record.serial},
                   {"device", done->record.device},
                   {"reason", std::string(crypto::to_string(*reason))},
                   {"crl", crl_json(done->crl)}}};
}

Response AdminRoutes::crl(const std::string& query) {
  std::string ca = admin::query_param(query, "ca");
  if (!ca.empty()) {
    auto serial = serial_of(ca, "CA serial");
    if (!serial) return error_response(400, serial.error().message);
    ca = *serial;
  }
  auto c = crl_of(store_, ca_dir_, ca, false, clock_);
  if (!c) return error_response(c.error());
  return Response{200, crl_json(*c)};
}

Response AdminRoutes::run_now() {
  if (monitor_) return Response{200, monitor_->check().to_json()};
  // No daemon: one check in-process, same code and same notices.
  CertificateMonitor once(store_, ca_dir_, clock_);
  return Response{200, once.check().to_json()};
}

}  // namespace capf::monitor
