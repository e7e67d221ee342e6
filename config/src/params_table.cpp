// The table of service parameters: their names, kinds, ranges, defaults and units, the
// accepted spellings of choices, and the checks of text values (addresses, URLs, secrets).
#include "params_table.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "capf/inventory/completes_by.hpp"
#include "capf/util/text.hpp"

namespace capf::config::detail {

namespace {

int to_int(const std::string& s) {
  return static_cast<int>(std::stol(s));
}

/// Notification Frequency in hours: hourly, daily, weekly, Nh or Nd, 1 hour to 30 days.
std::optional<int> parse_frequency(const std::string& text) {
  const std::string v = util::to_lower(util::trim(text));
  if (v == "hourly") return 1;
  if (v == "daily") return 24;
  if (v == "weekly") return 168;
  if (v.size() < 2 || (v.back() != 'h' && v.back() != 'd')) return std::nullopt;
  auto n = util::parse_int(std::string_view(v).substr(0, v.size() - 1));
  if (!n || *n < 1 || *n > 720) return std::nullopt;
  const std::int64_t hours = v.back() == 'd' ? *n * 24 : *n;
  if (hours > 720) return std::nullopt;
  return static_cast<int>(hours);
}

std::string frequency_text(int hours) {
  if (hours == 1) return "hourly";
  if (hours == 24) return "daily";
  if (hours == 168) return "weekly";
  return hours % 24 == 0 ? std::to_string(hours / 24) + "d" : std::to_string(hours) + "h";
}
std::string b(bool v) {
  return v ? "true" : "false";
}

Result<void> no_space(std::string_view name, const std::string& v, bool secret = false) {
  for (unsigned char c : v)
    if (c <= ' ' || c == 0x7f)
      return make_error(Errc::invalid_argument, std::string(name) + " must not contain spaces or control characters" +
                                                    (secret ? "" : ", got \"" + v + "\""));
  if (v.size() > 255) return make_error(Errc::invalid_argument, std::string(name) + " must be at most 255 characters");
  return ok();
}

/// A password: any printable bytes, at most 1024 (never repeated in the error).
Result<void> printable_secret(std::string_view name, const std::string& v) {
  for (unsigned char c : v)
    if (c < ' ' || c == 0x7f)
      return make_error(Errc::invalid_argument, std::string(name) + " must not contain control characters");
  if (v.size() > 1024)
    return make_error(Errc::invalid_argument, std::string(name) + " must be at most 1024 characters");
  return ok();
}

Result<void> emails(const std::string& v) {
  for (const auto& part : util::split(v, ',')) {
    const auto a = std::string(util::trim(part));
    const auto at = a.find('@');
    if (a.empty() || at == 0 || at == std::string::npos || at + 1 == a.size() ||
        a.find_first_of(" \t<>\"") != std::string::npos)
      return make_error(Errc::invalid_argument,
                        "notify-email must be comma-separated addresses like ops@example.com, got \"" + v + "\"");
  }
  return ok();
}

using Check = std::function<Result<void>(const std::string&)>;
using Aliases = std::vector<std::pair<std::string_view, std::string_view>>;

/// Appends the parameters of one group to the table, each tagged with the group's name.
class GroupBuilder {
 public:
  GroupBuilder(std::vector<Entry>& table, std::string_view group) : table_(table), group_(group) {}

  void integer(std::string_view name, std::string_view display, long min, long max, std::string_view unit,
               std::string_view applies, std::string_view description, Getter g, Setter s) {
    add(ParamInfo{name, display, ValueKind::integer, min, max, {}, unit, false, applies, description, group_}, g, s, {},
        {});
  }
  void text(std::string_view name, std::string_view display, bool secret, std::string_view applies,
            std::string_view description, Getter g, Setter s, Check check) {
    add(ParamInfo{name, display, ValueKind::text, 0, 0, {}, "", secret, applies, description, group_}, g, s, {},
        std::move(check));
  }
  void choice(std::string_view name, std::string_view display, std::vector<std::string_view> choices,
              std::string_view unit, std::string_view applies, std::string_view description, Getter g, Setter s,
              Aliases aliases) {
    add(ParamInfo{name, display, ValueKind::choice, 0, 0, std::move(choices), unit, false, applies, description,
                  group_},
        g, s, std::move(aliases), {});
  }
  /// true or false, also written yes/on/1 and no/off/0.
  void boolean(std::string_view name, std::string_view display, std::string_view applies, std::string_view description,
               Getter g, Setter s) {
    add(ParamInfo{name, display, ValueKind::boolean, 0, 0, {"true", "false"}, "", false, applies, description, group_},
        g, s,
        {{"true", "true"},
         {"yes", "true"},
         {"on", "true"},
         {"1", "true"},
         {"false", "false"},
         {"no", "false"},
         {"off", "false"},
         {"0", "false"}},
        {});
  }

 private:
  void add(ParamInfo info, Getter g, Setter s, Aliases aliases, Check check) {
    table_.push_back(Entry{std::move(info), g, s, std::move(aliases), std::move(check)});
  }

  std::vector<Entry>& table_;
  std::string_view group_;
};

void add_enrollment(std::vector<Entry>& t) {
  GroupBuilder g(t, "Certificates and CAPF sessions");
  g.choice(
      "issuer", "Certificate Issuer to Endpoint", {"CAPF", "Online CA", "Offline CA"}, "", "at once (next certificate)",
      "who signs the LSCs: CAPF itself (default), an online CA, or an offline CA through CSR rounds",
      [](const ServiceParams& p) { return std::string(to_string(p.issuer)); },
      [](ServiceParams& p, const std::string& v) { p.issuer = *parse_issuer(v); },
      {{"capf", "CAPF"},
       {"Cisco Certificate Authority Proxy Function", "CAPF"},
       {"online ca", "Online CA"},
       {"online-ca", "Online CA"},
       {"online", "Online CA"},
       {"offline ca", "Offline CA"},
       {"offline-ca", "Offline CA"},
       {"offline", "Offline CA"}});
  g.integer(
      "validity-days", "Duration Of Certificate Validity", kMinValidityDays, kMaxValidityDays, "days",
      "at once (next certificate)", "days an LSC that CAPF signs is valid (an online CA decides its own)",
      [](const ServiceParams& p) { return std::to_string(p.validity_days); },
      [](ServiceParams& p, const std::string& v) { p.validity_days = to_int(v); });
  g.choice(
      "key-size", "Key Size (Bits)", {"1024", "2048", "3072", "4096"}, "bits", "next `capf ca regenerate`",
      "RSA key size of the CAPF CA certificate when it is next regenerated",
      [](const ServiceParams& p) { return std::to_string(p.key_size); },
      [](ServiceParams& p, const std::string& v) { p.key_size = to_int(v); },
      {{"1024", "1024"}, {"2048", "2048"}, {"3072", "3072"}, {"4096", "4096"}});
  g.integer(
      "keygen-timeout", "Maximum Allowable Time For Key Generation", 1, 120, "minutes", "at once (next session)",
      "how long CAPF waits for a phone's KEY_GENERATE_RESPONSE once the phone reported REQUEST_IN_PROGRESS",
      [](const ServiceParams& p) { return std::to_string(p.keygen_timeout_min); },
      [](ServiceParams& p, const std::string& v) { p.keygen_timeout_min = to_int(v); });
  g.integer(
      "keygen-attempts", "Maximum Allowable Attempts for Key Generation", 1, 100, "", "at once",
      "how many times a phone is asked to generate its key before the operation fails",
      [](const ServiceParams& p) { return std::to_string(p.keygen_attempts); },
      [](ServiceParams& p, const std::string& v) { p.keygen_attempts = to_int(v); });
  g.integer(
      "keep-alive", "KeepAlive Timer", 5, 60, "minutes", "at once (next session)",
      "CAPF–endpoint connection keep-alive: TCP keep-alive probes after this much silence so a firewall "
      "keeps the connection; a phone silent for longer is disconnected",
      [](const ServiceParams& p) { return std::to_string(p.keep_alive_min); },
      [](ServiceParams& p, const std::string& v) { p.keep_alive_min = to_int(v); });
  g.integer(
      "max-sessions-per-address", "Maximum CAPF Sessions Per Address", 1, 20000, "sessions",
      "at once (next connection)",
      "CAPF sessions open at once from one client address; more connections from it are closed, so one "
      "address cannot hold every session slot (raise it for phones that reach CAPF through one NAT address)",
      [](const ServiceParams& p) { return std::to_string(p.max_sessions_per_address); },
      [](ServiceParams& p, const std::string& v) { p.max_sessions_per_address = to_int(v); });
  g.boolean(
      "enable-ipv6", "Enable IPv6", "at restart",
      "true: the default listener is [::]:3804, dual stack; false: 0.0.0.0:3804, IPv6 phones cannot connect",
      [](const ServiceParams& p) { return b(p.enable_ipv6); },
      [](ServiceParams& p, const std::string& v) { p.enable_ipv6 = v == "true"; });
}

Result<void> smtp_url(const std::string& v) {
  // Checked before anything echoes the value: a password in it must not be repeated.
  if (util::url_has_credentials(v))
    return make_error(Errc::invalid_argument,
                      "smtp-url must not hold credentials (user:password@); set smtp-user and smtp-password "
                      "instead (`capf config set smtp-password --stdin`)");
  if (v.rfind("smtp://", 0) != 0 && v.rfind("smtps://", 0) != 0)
    return make_error(Errc::invalid_argument, "smtp-url must start with smtp:// or smtps://, got \"" + v + "\"");
  return no_space("smtp-url", v);
}

/// The certificate monitor's notices and the mail server they go through.
void add_notices(std::vector<Entry>& t) {
  GroupBuilder g(t, "Certificate monitor: expiry notices");
  g.integer(
      "expiry-notice-days", "Notification Start Time", 1, 365, "days", "next monitor check",
      "certificate monitoring: e-mail notices start this many days before a certificate expires",
      [](const ServiceParams& p) { return std::to_string(p.expiry_notice_days); },
      [](ServiceParams& p, const std::string& v) { p.expiry_notice_days = to_int(v); });
  g.text(
      "notify-email", "Email IDs", false, "next monitor check", "recipients of expiry notices, comma-separated",
      [](const ServiceParams& p) { return p.notify_email; },
      [](ServiceParams& p, const std::string& v) { p.notify_email = v; }, emails);
  g.text(
      "smtp-url", "SMTP Server", false, "next monitor check",
      "mail server of the notices, smtp://HOST:PORT or smtps://HOST:PORT",
      [](const ServiceParams& p) { return p.smtp_url; }, [](ServiceParams& p, const std::string& v) { p.smtp_url = v; },
      smtp_url);
  g.text(
      "smtp-from", "Sender Address", false, "next monitor check", "From: address of the notices",
      [](const ServiceParams& p) { return p.smtp_from; },
      [](ServiceParams& p, const std::string& v) { p.smtp_from = v; },
      [](const std::string& v) -> Result<void> {
        if (v.find('@') == std::string::npos)
          return make_error(Errc::invalid_argument,
                            "smtp-from must be an address like capf@example.com, got \"" + v + "\"");
        return no_space("smtp-from", v);
      });
  g.text(
      "smtp-user", "SMTP User", true, "next monitor check",
      "user the notices authenticate as at the SMTP server; never printed back, logged or audited",
      [](const ServiceParams& p) { return p.smtp_user; },
      [](ServiceParams& p, const std::string& v) { p.smtp_user = v; },
      [](const std::string& v) { return no_space("smtp-user", v, true); });
  g.text(
      "smtp-password", "SMTP Password", true, "next monitor check",
      "password of the SMTP user; with credentials, mail goes over TLS only (smtps://, or smtp:// with "
      "STARTTLS required); never printed back, logged or audited",
      [](const ServiceParams& p) { return p.smtp_password; },
      [](ServiceParams& p, const std::string& v) { p.smtp_password = v; },
      [](const std::string& v) { return printable_secret("smtp-password", v); });
  g.boolean(
      "smtp-allow-plain", "SMTP Credentials Without TLS", "next monitor check",
      "true: send the SMTP credentials even where the server offers no TLS (lab servers only; warned "
      "about); false: credentials go over TLS only",
      [](const ServiceParams& p) { return b(p.smtp_allow_plain); },
      [](ServiceParams& p, const std::string& v) { p.smtp_allow_plain = v == "true"; });
}

/// How often the certificate monitor looks, what it revokes, and the cluster's time zone.
void add_monitor_and_time(std::vector<Entry>& t) {
  GroupBuilder g(t, "Certificate monitor: checks and revocation");
  g.text(
      "monitor-frequency", "Notification Frequency", false, "after the next monitor check",
      "how often the certificate monitor checks: hourly, daily (default), weekly, or Nh / Nd (1 hour to 30 days); "
      "within a day of an expiry it checks at least hourly. Each certificate still gets one e-mail per notice "
      "threshold (expiry-notice-days, 7, 1, expired)",
      [](const ServiceParams& p) { return frequency_text(p.monitor_frequency_h); },
      [](ServiceParams& p, const std::string& v) { p.monitor_frequency_h = parse_frequency(v).value_or(24); },
      [](const std::string& v) -> Result<void> {
        if (!parse_frequency(v))
          return make_error(Errc::invalid_argument,
                            "monitor-frequency must be hourly, daily, weekly or Nh / Nd "
                            "between 1h and 30d, got \"" +
                                v + "\"");
        return ok();
      });
  g.boolean(
      "revoke-expired-lscs", "Revoke Expired Certificates", "next monitor check",
      "certificate monitoring: put every delivered LSC past its notAfter on the CAPF CA's CRL (reason "
      "cessationOfOperation, audited as monitor); off by default",
      [](const ServiceParams& p) { return b(p.revoke_expired_lscs); },
      [](ServiceParams& p, const std::string& v) { p.revoke_expired_lscs = v == "true"; });
  GroupBuilder dates(t, "Dates");
  dates.text(
      "time-zone", "Time Zone", false, "at once (next date read)",
      "the cluster's time zone (IANA name): Operation Completes By in Unified CM's YYYY:MM:DD:HH form is that hour "
      "in this zone (CSV imports, phone set, job submit)",
      [](const ServiceParams& p) { return p.time_zone; },
      [](ServiceParams& p, const std::string& v) { p.time_zone = v.empty() ? "UTC" : v; },
      [](const std::string& v) -> Result<void> {
        if (auto z = inventory::find_time_zone(v); !z)
          return make_error(Errc::invalid_argument, "time-zone: " + z.error().message);
        return ok();
      });
}

Result<void> online_ca_host(const std::string& v) {
  if (v.find('@') != std::string::npos)
    return make_error(Errc::invalid_argument,
                      "online-ca-host must be a host name without credentials (user:password@); set "
                      "online-ca-username and online-ca-password instead");
  return no_space("online-ca-host", v);
}

Result<void> auth_key(const std::string& v) {
  if (v.size() % 2 != 0 || v.size() > 256 ||
      !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isxdigit(c) != 0; }))
    return make_error(Errc::invalid_argument, "online-ca-auth-key must be an even number of hex digits (at most 256)");
  return ok();
}

/// Which online CA, where, and as whom.
void add_online_ca(std::vector<Entry>& t) {
  GroupBuilder g(t, "Online CA");
  g.choice(
      "online-ca-type", "Online CA Type", {"microsoft", "cfssl"}, "", "at once (next request)",
      "Microsoft CA (AD CS web enrollment, the default) or a CFSSL server",
      [](const ServiceParams& p) { return p.online_ca.type; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.type = v; },
      {{"microsoft", "microsoft"}, {"Microsoft CA", "microsoft"}, {"adcs", "microsoft"}, {"cfssl", "cfssl"}});
  g.text(
      "online-ca-host", "Online CA Hostname", false, "at once (next request)",
      "the CA's host name; must equal the CN/SAN of its HTTPS certificate",
      [](const ServiceParams& p) { return p.online_ca.host; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.host = v; }, online_ca_host);
  g.integer(
      "online-ca-port", "Online CA Port", 1, 65535, "", "at once (next request)", "HTTPS port of the online CA",
      [](const ServiceParams& p) { return std::to_string(p.online_ca.port); },
      [](ServiceParams& p, const std::string& v) { p.online_ca.port = to_int(v); });
  g.choice(
      "online-ca-scheme", "Online CA Scheme", {"https", "http"}, "", "at once (next request)",
      "cfssl: https (default; its certificate must chain to CAPF-trust and name the Online CA "
      "Hostname) or plain http, only when set explicitly (warned about: whoever is on the path can "
      "issue LSCs); AD CS is always https",
      [](const ServiceParams& p) { return std::string(p.online_ca.https ? "https" : "http"); },
      [](ServiceParams& p, const std::string& v) { p.online_ca.https = v != "http"; }, {});
  g.text(
      "online-ca-template", "Online CA Template", false, "at once (next request)",
      "certificate template name (AD CS template cn) or CFSSL profile",
      [](const ServiceParams& p) { return p.online_ca.template_name; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.template_name = v; },
      [](const std::string& v) { return no_space("online-ca-template", v); });
  g.text(
      "online-ca-username", "Online CA Username", false, "at once (next request)", "user name at the CA server",
      [](const ServiceParams& p) { return p.online_ca.username; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.username = v; },
      [](const std::string& v) { return no_space("online-ca-username", v); });
  g.text(
      "online-ca-password", "Online CA Password", true, "at once (next request)",
      "password of that user; never printed back, logged or audited",
      [](const ServiceParams& p) { return p.online_ca.password; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.password = v; },
      [](const std::string& v) { return printable_secret("online-ca-password", v); });
  g.text(
      "online-ca-auth-key", "Online CA Auth Key", true, "at once (next request)",
      "CFSSL: HMAC key of the profile, hex; never printed back, logged or audited",
      [](const ServiceParams& p) { return p.online_ca.auth_key_hex; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.auth_key_hex = v; }, auth_key);
  g.text(
      "online-ca-connect-address", "Online CA Connect Address", false, "at once (next request)",
      "lab/tests: connect to this address instead of resolving the host name (the certificate is still checked "
      "against the host name)",
      [](const ServiceParams& p) { return p.online_ca.connect_address; },
      [](ServiceParams& p, const std::string& v) { p.online_ca.connect_address = v; },
      [](const std::string& v) { return no_space("online-ca-connect-address", v); });
}

/// How long the online CA may take and how it is asked again.
void add_online_ca_timing(std::vector<Entry>& t) {
  GroupBuilder g(t, "Online CA: timeouts and retries");
  g.integer(
      "online-ca-timeout", "Online CA Request Timeout", 1, 600, "seconds", "at once (next request)",
      "longest one HTTP request to the online CA may take",
      [](const ServiceParams& p) { return std::to_string(p.online_ca.timeout_s); },
      [](ServiceParams& p, const std::string& v) { p.online_ca.timeout_s = to_int(v); });
  g.integer(
      "online-ca-poll-interval", "Online CA Poll Interval", 1, 86400, "seconds", "at once (next poll)",
      "how often a pending (awaiting CA manager approval) request is checked again",
      [](const ServiceParams& p) { return std::to_string(p.online_ca.poll_interval_s); },
      [](ServiceParams& p, const std::string& v) { p.online_ca.poll_interval_s = to_int(v); });
  g.integer(
      "online-ca-retry-base", "Online CA Retry Base", 1, 3600, "seconds", "at once (next retry)",
      "first backoff ceiling after a transient CA error (full jitter below it, doubling)",
      [](const ServiceParams& p) { return std::to_string(p.online_ca.retry_base_s); },
      [](ServiceParams& p, const std::string& v) { p.online_ca.retry_base_s = to_int(v); });
  g.integer(
      "online-ca-retry-ceiling", "Online CA Retry Ceiling", 1, 86400, "seconds", "at once (next retry)",
      "longest backoff between retries of a transient CA error",
      [](const ServiceParams& p) { return std::to_string(p.online_ca.retry_ceiling_s); },
      [](ServiceParams& p, const std::string& v) { p.online_ca.retry_ceiling_s = to_int(v); });
}

}  // namespace

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = [] {
    std::vector<Entry> t;
    add_enrollment(t);
    add_notices(t);
    add_monitor_and_time(t);
    add_online_ca(t);
    add_online_ca_timing(t);
    return t;
  }();
  return table;
}

}  // namespace capf::config::detail
