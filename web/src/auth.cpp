#include "capf/web/auth.hpp"

#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "capf/crypto/crypto.hpp"
#include "capf/crypto/web.hpp"
#include "capf/util/files.hpp"
#include "capf/util/text.hpp"

namespace capf::web {

Result<PasswordRecord> hash_password(std::string_view password, int iterations) {
  if (password.empty()) return make_error(Errc::invalid_argument, "the password is empty");
  PasswordRecord r;
  r.iterations = iterations;
  const auto salt = crypto::random_bytes(16);
  auto key = crypto::pbkdf2_sha256(password, salt, iterations, 32);
  if (!key) return key.error();
  r.salt_hex = util::to_hex(salt);
  r.hash_hex = util::to_hex(*key);
  return r;
}

bool verify_password(std::string_view password, const PasswordRecord& record) {
  if (record.algorithm != "pbkdf2-sha256" || record.iterations < 1) return false;
  auto salt = util::from_hex(record.salt_hex);
  auto expected = util::from_hex(record.hash_hex);
  if (!salt || !expected || expected->empty()) return false;
  auto key = crypto::pbkdf2_sha256(password, *salt, record.iterations, expected->size());
  if (!key) return false;
  return crypto::constant_time_equal(util::to_hex(*key), record.hash_hex);
}

std::string users_file(const std::string& data_dir) { return data_dir + "/web-users.json"; }

bool valid_user_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '@';
  });
}

namespace {

Result<nlohmann::json> read_users_json(const std::string& path) {
  if (!util::exists(path)) return nlohmann::json{{"users", nlohmann::json::object()}};
  auto text = util::read_file(path);
  if (!text) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("users") || !j["users"].is_object())
    return make_error(Errc::invalid_argument, path + ": not a web users file ({\"users\": {...}})");
  return j;
}

}  // namespace

Result<std::map<std::string, PasswordRecord>> load_users(const std::string& path) {
  auto j = read_users_json(path);
  if (!j) return j.error();
  std::map<std::string, PasswordRecord> out;
  for (const auto& [name, v] : (*j)["users"].items()) {
    if (!v.is_object()) return make_error(Errc::invalid_argument, path + ": user \"" + name + "\" is not an object");
    PasswordRecord r;
    r.algorithm = v.value("algorithm", "");
    r.iterations = v.value("iterations", 0);
    r.salt_hex = v.value("salt", "");
    r.hash_hex = v.value("hash", "");
    out[name] = r;
  }
  return out;
}

Result<void> store_user(const std::string& path, const std::string& user, const PasswordRecord& record) {
  if (!valid_user_name(user)) return make_error(Errc::invalid_argument, "user name \"" + user + "\" must be 1–64 of A-Z a-z 0-9 . _ @ -");
  auto j = read_users_json(path);
  if (!j) return j.error();
  (*j)["users"][user] = {{"algorithm", record.algorithm},
                         {"iterations", record.iterations},
                         {"salt", record.salt_hex},
                         {"hash", record.hash_hex}};
  return util::write_file_atomic(path, j->dump(2) + "\n", 0600);
}

Result<void> remove_user(const std::string& path, const std::string& user) {
  auto j = read_users_json(path);
  if (!j) return j.error();
  if (!(*j)["users"].contains(user)) return make_error(Errc::not_found, "no web user named " + user + " in " + path);
  (*j)["users"].erase(user);
  return util::write_file_atomic(path, j->dump(2) + "\n", 0600);
}

std::string password_version(const PasswordRecord& record) { return record.salt_hex; }

Result<std::optional<PasswordRecord>> UserDirectory::find(const std::string& user) {
  struct stat st {};
  std::string stamp;
  if (::stat(path_.c_str(), &st) == 0)
    stamp = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
            std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
            std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
  std::lock_guard lock(mutex_);
  if (!loaded_ || stamp != stamp_) {
    auto users = load_users(path_);
    if (!users) {
      loaded_ = false;  // read again next time; meanwhile nobody's password is known
      return users.error();
    }
    users_ = std::move(*users);
    stamp_ = std::move(stamp);
    loaded_ = true;
  }
  auto it = users_.find(user);
  if (it == users_.end()) return std::optional<PasswordRecord>();
  return std::optional<PasswordRecord>(it->second);
}

std::string SessionTable::create(const std::string& user, const std::string& password_version, std::int64_t now_ms) {
  WebSession s{user, util::to_hex(crypto::random_bytes(32)), now_ms + idle_.count() * 1000, password_version};
  std::string id = util::to_hex(crypto::random_bytes(32));
  std::lock_guard lock(mutex_);
  // Drop expired sessions now and then so the table cannot grow without bound.
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.expires_ms <= now_ms ? sessions_.erase(it) : std::next(it);
  sessions_[id] = std::move(s);
  return id;
}

std::optional<WebSession> SessionTable::find(const std::string& id, std::int64_t now_ms) {
  if (id.size() != 64) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_ms <= now_ms) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.expires_ms = now_ms + idle_.count() * 1000;
  return it->second;
}

std::optional<WebSession> SessionTable::peek(const std::string& id, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.expires_ms <= now_ms) return std::nullopt;
  return it->second;
}

void SessionTable::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

std::size_t SessionTable::size() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::string cookie_value(std::string_view header, std::string_view name) {
  for (const auto& part : util::split(header, ';')) {
    const auto kv = util::trim(part);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    if (kv.substr(0, eq) == name) return std::string(kv.substr(eq + 1));
  }
  return "";
}

bool same_origin(std::string_view origin, std::string_view referer, std::string_view host) {
  if (host.empty()) return false;
  const std::string expected = "https://" + std::string(host);
  if (!origin.empty()) return origin == expected;
  if (referer.empty()) return false;
  // The origin of the Referer: scheme://host[:port] up to the first '/' after the scheme.
  return referer.substr(0, expected.size()) == expected &&
         (referer.size() == expected.size() || referer[expected.size()] == '/');
}

bool host_allowed(std::string_view host, const std::vector<std::string>& names, unsigned short port) {
  const auto colon = host.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (host.substr(colon + 1) != std::to_string(port)) return false;
  const auto name = host.substr(0, colon);
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return util::iequals(n, name); });
}

namespace {

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int hex_value(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// RFC 3986 characters of a path, query and fragment: unreserved, sub-delims, ':', '@', '/',
// '?', '#' (and '%' for an escape, checked apart).
bool uri_char(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/?#").find(c) != std::string_view::npos;
}

// A path-absolute reference: "/" not followed by "/" or "\\" (a browser reads both as the start
// of another host), no backslash or control character anywhere.
bool path_absolute(std::string_view p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.size() > 1 && (p[1] == '/' || p[1] == '\\')) return false;
  return std::none_of(p.begin(), p.end(), [](unsigned char c) { return c == '\\' || c < 0x20 || c == 0x7f; });
}

}  // namespace

std::optional<std::string> same_origin_path(std::string_view next) {
  if (next.size() > 2048) return std::nullopt;
  std::string decoded;
  decoded.reserve(next.size());
  for (std::size_t i = 0; i < next.size(); ++i) {
    const char c = next[i];
    if (c == '%') {
      if (i + 2 >= next.size() || !hex_digit(next[i + 1]) || !hex_digit(next[i + 2])) return std::nullopt;
      decoded += static_cast<char>(hex_value(next[i + 1]) * 16 + hex_value(next[i + 2]));
      i += 2;
    } else if (uri_char(c)) {
      decoded += c;
    } else {
      return std::nullopt;  // space, control, backslash, quote, non-ASCII, ...
    }
  }
  if (!path_absolute(next) || !path_absolute(decoded)) return std::nullopt;
  return std::string(next);
}

}  // namespace capf::web
