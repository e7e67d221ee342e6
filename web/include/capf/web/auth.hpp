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

/// What a session is bound to: changes whenever the user's password is set again (every
/// record has a fresh random salt), and is gone with the user.
std::string password_version(const PasswordRecord& record);

/// The users file as the running dashboard sees it: parsed again only when the file changed
/// (inode, size, modification time), so every request can afford to check that its session's
/// user still has the password it logged in with. Thread-safe.
class UserDirectory {
 public:
  explicit UserDirectory(std::string path) : path_(std::move(path)) {}
  /// The user's current record; nullopt when there is no such user; an error when the file
  /// cannot be read or parsed.
  Result<std::optional<PasswordRecord>> find(const std::string& user);

 private:
  std::string path_;
  std::mutex mutex_;
  bool loaded_ = false;
  std::string stamp_;  ///< the file's identity when it was parsed ("" = absent)
  std::map<std::string, PasswordRecord> users_;
};

/// One logged-in browser.
struct WebSession {
  std::string user;
  std::string csrf;  ///< sent by the page in X-CSRF-Token on every state-changing request
  std::int64_t expires_ms = 0;
  /// password_version() of the user's record at login; empty for a login with the admin token
  /// (which lives as long as the daemon, like the session table).
  std::string password_version;
};

/// Sessions by their cookie value (256-bit random). Thread-safe.
class SessionTable {
 public:
  explicit SessionTable(std::chrono::seconds idle_timeout = std::chrono::hours(8)) : idle_(idle_timeout) {}
  /// A new session for `user` logged in with the password of `password_version` ("" = the
  /// admin token); returns its id (the cookie value).
  std::string create(const std::string& user, const std::string& password_version, std::int64_t now_ms);
  /// The session, extended by the idle timeout, or nullopt when unknown or expired.
  std::optional<WebSession> find(const std::string& id, std::int64_t now_ms);
  /// The session while it exists and has not expired, without extending it.
  std::optional<WebSession> peek(const std::string& id, std::int64_t now_ms);
  /// True while the session exists and has not expired; does not extend it.
  bool valid(const std::string& id, std::int64_t now_ms) { return peek(id, now_ms).has_value(); }
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

/// `next` (where to go after logging in) when it is a path on this origin, else nullopt. It is
/// read as an RFC 3986 reference: it must be a path-absolute reference ("/" then no "/" or
/// "\\") made of URI characters only (no control characters, spaces, backslashes or non-ASCII
/// bytes, every '%' followed by two hex digits), and stay one after percent-decoding (so
/// "/%5Cevil" and "/%2F/evil" are refused too). At most 2048 characters.
std::optional<std::string> same_origin_path(std::string_view next);

}  // namespace capf::web
