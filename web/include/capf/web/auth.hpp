// The web dashboard's login and request checks, without sockets: user password records
// (PBKDF2-HMAC-SHA256, salted) in DATA/web-users.json (0600), the in-memory session table
// with one CSRF token per session, and the same-origin and Host checks of every request.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/util/result.hpp"

namespace capf::web {

/// Iterations of PBKDF2-HMAC-SHA256 for new passwords (OWASP 2023 guidance for SHA-256).
inline constexpr int kPasswordIterations = 600000;

/// A stored password: salt and derived key, hex, with the iteration count used.
struct PasswordRecord {
  std::string algorithm = "pbkdf2-sha256";
  int iterations = kPasswordIterations;
  std::string salt_hex;
  std::string hash_hex;
};

/// A fresh 16-byte random salt and the derived 32-byte key of `password`.
Result<PasswordRecord> hash_password(std::string_view password, int iterations = kPasswordIterations);
/// Derives again and compares in constant time. False for an unknown algorithm.
bool verify_password(std::string_view password, const PasswordRecord& record);

/// "DATA/web-users.json".
std::string users_file(const std::string& data_dir);
/// A user name the dashboard accepts: 1–64 of [A-Za-z0-9._@-].
bool valid_user_name(std::string_view name);
/// The users in the file (none when the file does not exist).
Result<std::map<std::string, PasswordRecord>> load_users(const std::string& path);
/// Adds or replaces one user's record; the file is rewritten atomically with mode 0600.
Result<void> store_user(const std::string& path, const std::string& user, const PasswordRecord& record);
/// Removes a user; not_found when there is none by that name.
Result<void> remove_user(const std::string& path, const std::string& user);

/// One logged-in browser.
struct WebSession {
  std::string user;
  std::string csrf;  ///< sent by the page in X-CSRF-Token on every state-changing request
  std::int64_t expires_ms = 0;
};

/// Sessions by their cookie value (256-bit random). Thread-safe.
class SessionTable {
 public:
  explicit SessionTable(std::chrono::seconds idle_timeout = std::chrono::hours(8)) : idle_(idle_timeout) {}
  /// A new session for `user`; returns its id (the cookie value).
  std::string create(const std::string& user, std::int64_t now_ms);
  /// The session, extended by the idle timeout, or nullopt when unknown or expired.
  std::optional<WebSession> find(const std::string& id, std::int64_t now_ms);
  /// True while the session exists and has not expired; does not extend it.
  bool valid(const std::string& id, std::int64_t now_ms);
  void remove(const std::string& id);
  std::size_t size();

 private:
  std::chrono::seconds idle_;
  std::mutex mutex_;
  std::map<std::string, WebSession> sessions_;
};

/// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(std::string_view cookie_header, std::string_view name);

/// Same-origin check of a state-changing request: `origin` (or, when the browser sent no
/// Origin, the origin part of `referer`) must be exactly "https://" + `host` (the request's
/// Host header). Neither present → refused.
bool same_origin(std::string_view origin, std::string_view referer, std::string_view host);

/// True when `host` (a Host header, "name:port") names this server: its host part is one of
/// `names` (case-insensitive; IPv6 in brackets) and its port is `port`.
bool host_allowed(std::string_view host, const std::vector<std::string>& names, unsigned short port);

/// Counts failed logins per client address and refuses a client after `limit` failures within
/// `window` until the window has passed. Thread-safe.
class LoginThrottle {
 public:
  LoginThrottle(int limit = 10, std::chrono::seconds window = std::chrono::minutes(5)) : limit_(limit), window_(window) {}
  bool allowed(const std::string& client, std::int64_t now_ms);
  void failed(const std::string& client, std::int64_t now_ms);
  void succeeded(const std::string& client);

 private:
  int limit_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::int64_t>> failures_;
};

}  // namespace capf::web
