#include "capf/core/service_params.hpp"

#include <nlohmann/json.hpp>

#include "capf/util/text.hpp"

namespace capf {

std::string encode_params(const ServiceParams& p) {
  const auto& o = p.online_ca;
  nlohmann::json j = {
      {"issuer", std::string(to_string(p.issuer))},
      {"validity_days", p.validity_days},
      {"key_size", p.key_size},
      {"keygen_timeout_min", p.keygen_timeout_min},
      {"keygen_attempts", p.keygen_attempts},
      {"keep_alive_min", p.keep_alive_min},
      {"max_sessions_per_address", p.max_sessions_per_address},
      {"enable_ipv6", p.enable_ipv6},
      {"expiry_notice_days", p.expiry_notice_days},
      {"notify_email", p.notify_email},
      {"smtp_url", p.smtp_url},
      {"smtp_from", p.smtp_from},
      {"smtp_user", p.smtp_user},
      {"smtp_password", p.smtp_password},
      {"smtp_allow_plain", p.smtp_allow_plain},
      {"monitor_frequency_h", p.monitor_frequency_h},
      {"revoke_expired_lscs", p.revoke_expired_lscs},
      {"time_zone", p.time_zone},
      {"online_ca",
       {{"type", o.type},
        {"host", o.host},
        {"port", o.port},
        {"template", o.template_name},
        {"username", o.username},
        {"password", o.password},
        {"auth_key_hex", o.auth_key_hex},
        {"connect_address", o.connect_address},
        {"scheme", o.https ? "https" : "http"},
        {"timeout_s", o.timeout_s},
        {"poll_interval_s", o.poll_interval_s},
        {"retry_base_s", o.retry_base_s},
        {"retry_ceiling_s", o.retry_ceiling_s}}},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<ServiceParams> decode_params(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "service parameters are not a JSON object");
  ServiceParams p;
  try {
    if (j.contains("issuer")) {
      auto issuer = parse_issuer(j["issuer"].get<std::string>());
      if (!issuer) return make_error(Errc::io, "service parameters: unknown issuer");
      p.issuer = *issuer;
    }
    p.validity_days = j.value("validity_days", p.validity_days);
    p.key_size = j.value("key_size", p.key_size);
    p.keygen_timeout_min = j.value("keygen_timeout_min", p.keygen_timeout_min);
    p.keygen_attempts = j.value("keygen_attempts", p.keygen_attempts);
    p.keep_alive_min = j.value("keep_alive_min", p.keep_alive_min);
    p.max_sessions_per_address = j.value("max_sessions_per_address", p.max_sessions_per_address);
    p.enable_ipv6 = j.value("enable_ipv6", p.enable_ipv6);
    p.expiry_notice_days = j.value("expiry_notice_days", p.expiry_notice_days);
    p.notify_email = j.value("notify_email", p.notify_email);
    p.smtp_url = j.value("smtp_url", p.smtp_url);
    p.smtp_from = j.value("smtp_from", p.smtp_from);
    p.smtp_user = j.value("smtp_user", p.smtp_user);
    p.smtp_password = j.value("smtp_password", p.smtp_password);
    p.smtp_allow_plain = j.value("smtp_allow_plain", p.smtp_allow_plain);
    // Before smtp-user/smtp-password, credentials could only ride in the URL, where `config list`
    // and the audit trail showed them: they move to the secret parameters.
    if (auto split = util::split_url_credentials(p.smtp_url)) {
      p.smtp_url = split->url;
      if (p.smtp_user.empty()) p.smtp_user = split->user;
      if (p.smtp_password.empty()) p.smtp_password = split->password;
    }
    p.monitor_frequency_h = j.value("monitor_frequency_h", p.monitor_frequency_h);
    p.revoke_expired_lscs = j.value("revoke_expired_lscs", p.revoke_expired_lscs);
    p.time_zone = j.value("time_zone", p.time_zone);
    if (j.contains("online_ca")) {
      const auto& c = j["online_ca"];
      auto& o = p.online_ca;
      o.type = c.value("type", o.type);
      o.host = c.value("host", o.host);
      o.port = c.value("port", o.port);
      o.template_name = c.value("template", o.template_name);
      o.username = c.value("username", o.username);
      o.password = c.value("password", o.password);
      o.auth_key_hex = c.value("auth_key_hex", o.auth_key_hex);
      o.connect_address = c.value("connect_address", o.connect_address);
      // Only an explicit "scheme": "http" means plain http; the older "https" flag defaulted to
      // false without anyone choosing it, so it is not read.
      o.https = c.value("scheme", std::string("https")) != "http";
      o.timeout_s = c.value("timeout_s", o.timeout_s);
      o.poll_interval_s = c.value("poll_interval_s", o.poll_interval_s);
      o.retry_base_s = c.value("retry_base_s", o.retry_base_s);
      o.retry_ceiling_s = c.value("retry_ceiling_s", o.retry_ceiling_s);
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::io, std::string("service parameters: mistyped field: ") + e.what());
  }
  return p;
}

}  // namespace capf
