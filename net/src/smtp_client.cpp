// SMTP through libcurl: net/src is the only place curl is used (with http_client.cpp).
#include "capf/net/smtp.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "capf/net/http_client.hpp"
#include "capf/util/text.hpp"

namespace capf::net {

namespace {

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// Feeds the message text to curl's upload.
struct Source {
  std::string text;
  std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* src = static_cast<Source*>(user);
  const std::size_t n = std::min(size * count, src->text.size() - src->offset);
  std::memcpy(buffer, src->text.data() + src->offset, n);
  src->offset += n;
  return n;
}

bool safe_address(const std::string& a) {
  return !a.empty() && a.find_first_of("\r\n<>") == std::string::npos && a.find('@') != std::string::npos;
}

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

/// RFC 5322 date, e.g. "Tue, 03 Jun 2025 10:00:00 +0000".
std::string rfc5322_date(util::UnixTime t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

/// Header lines, a blank line, then the body with CRLF line ends. libcurl dot-stuffs the
/// lines that start with '.' itself.
std::string compose(const MailMessage& m, util::UnixTime date) {
  std::string to;
  for (const auto& r : m.to) to += (to.empty() ? "" : ", ") + r;
  std::string out = "Date: " + rfc5322_date(date) + "\r\nFrom: " + m.from + "\r\nTo: " + to +
                    "\r\nSubject: " + one_line(m.subject) +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
  for (std::size_t i = 0; i < m.body.size(); ++i) {
    const char c = m.body[i];
    if (c == '\n' && (i == 0 || m.body[i - 1] != '\r')) out += "\r\n";
    else out += c;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace

std::vector<std::string> split_addresses(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list + ",") {
    if (c == ',' || c == ';' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

Result<void> send_mail(const MailMessage& m) {
  const std::string where = redact_url(m.smtp_url);
  if (util::url_has_credentials(m.smtp_url))
    return make_error(Errc::invalid_argument, "the SMTP URL \"" + where +
                                                  "\" must not hold credentials; give them as the SMTP user and "
                                                  "password (service parameters smtp-user and smtp-password)");
  if (m.smtp_url.rfind("smtp://", 0) != 0 && m.smtp_url.rfind("smtps://", 0) != 0)
    return make_error(Errc::invalid_argument, "SMTP URL must start with smtp:// or smtps://, got \"" + where + "\"");
  if (!safe_address(m.from)) return make_error(Errc::invalid_argument, "bad sender address \"" + one_line(m.from) + "\"");
  if (m.to.empty()) return make_error(Errc::invalid_argument, "no recipient for the message \"" + one_line(m.subject) + "\"");
  for (const auto& r : m.to)
    if (!safe_address(r)) return make_error(Errc::invalid_argument, "bad recipient address \"" + one_line(r) + "\"");

  global_init();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return make_error(Errc::internal, "curl_easy_init failed");
  std::unique_ptr<curl_slist, ListDeleter> rcpt;
  for (const auto& r : m.to) {
    curl_slist* next = curl_slist_append(rcpt.get(), ("<" + r + ">").c_str());
    if (!next) return make_error(Errc::internal, "out of memory building the recipient list");
    rcpt.release();
    rcpt.reset(next);
  }
  Source src{compose(m, m.date ? m.date : util::now())};
  const std::string from = "<" + m.from + ">";
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, m.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(c, CURLOPT_READDATA, &src);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, m.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(m.timeout_ms, 10000L));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  // Credentials never cross a plain connection unless that was allowed explicitly: smtp:// then
  // insists on STARTTLS (CURLUSESSL_ALL fails when the server does not offer it).
  const bool credentials = !m.user.empty() || !m.password.empty();
  long use_ssl = m.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE;
  if (credentials) {
    curl_easy_setopt(c, CURLOPT_USERNAME, m.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, m.password.c_str());
    use_ssl = m.allow_plain && !m.require_tls ? CURLUSESSL_TRY : CURLUSESSL_ALL;
  }
  curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
  const CURLcode code = curl_easy_perform(c);
  if (code == CURLE_OK) return ok();
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  std::string why = error[0] ? error : curl_easy_strerror(code);
  if (code == CURLE_USE_SSL_FAILED)
    why += " (the server offers no STARTTLS, and SMTP credentials go over TLS only; use smtps:// or a server with "
           "STARTTLS, or set smtp-allow-plain for a lab server)";
  if (reply) why += " (last SMTP reply " + std::to_string(reply) + ")";
  if (m.password.size() >= 2)
    for (auto pos = why.find(m.password); pos != std::string::npos; pos = why.find(m.password, pos + 3))
      why.replace(pos, m.password.size(), "***");
  const Errc errc = code == CURLE_OPERATION_TIMEDOUT ? Errc::timeout
                    : code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL ? Errc::invalid_argument
                                                                                         : Errc::unavailable;
  return make_error(errc, "sending mail through " + where + " failed: " + why);
}

}  // namespace capf::net
