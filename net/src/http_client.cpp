// The only libcurl user. One easy handle per call keeps calls independent across threads;
// connection reuse is not worth the shared state at trigger and CA-request rates.
#include "capf/net/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string_view>

namespace capf::net {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/// Query parameters whose values never reach a log.
bool secret_parameter(std::string_view name) {
  const std::string n = lower(name);
  for (std::string_view word : {"pass", "pwd", "token", "secret", "key", "auth", "signature", "sig", "credential"})
    if (n.find(word) != std::string::npos) return true;
  return false;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

/// Collects the body up to the cap; returning less than offered makes curl abort the transfer.
struct BodySink {
  std::string* body;
  std::size_t cap;
  bool overflow = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t n = size * count;
  if (sink->body->size() + n > sink->cap) {
    sink->overflow = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  // A new status line (after 100 Continue, or an auth round) starts a new header set.
  if (line.substr(0, 5) == "HTTP/") {
    headers->clear();
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return n;
}

Errc classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Errc::timeout;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return Errc::crypto;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_LOGIN_DENIED:
      return Errc::invalid_argument;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      return Errc::protocol;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return Errc::internal;
    default:  // resolve, connect, reset, TLS handshake and verification, empty reply …
      return Errc::unavailable;
  }
}

/// Replaces every occurrence of `secret` in `text` with `replacement` (curl's messages rarely
/// echo the URL, but a credential must never leak through one that does).
void scrub(std::string& text, const std::string& secret, const std::string& replacement) {
  if (secret.size() < 2 || secret == replacement) return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + replacement.size()))
    text.replace(pos, secret.size(), replacement);
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const std::string want = lower(name);
  for (const auto& [k, v] : headers)
    if (lower(k) == want) return v;
  return "";
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  const auto scheme = out.find("://");
  const std::size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const auto authority_end = std::min(out.find_first_of("/?#", authority), out.size());
  const auto at = out.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at != std::string::npos && at >= authority && at < authority_end) out.replace(authority, at - authority, "***");

  const auto query = out.find('?');
  if (query == std::string::npos) return out;
  const auto fragment = out.find('#', query);
  const std::size_t end = fragment == std::string::npos ? out.size() : fragment;
  std::string rebuilt = out.substr(0, query + 1);
  std::size_t pos = query + 1;
  while (pos <= end) {
    auto amp = out.find('&', pos);
    if (amp == std::string::npos || amp > end) amp = end;
    const std::string_view pair(out.data() + pos, amp - pos);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && secret_parameter(pair.substr(0, eq))) {
      rebuilt.append(pair.substr(0, eq + 1)).append("***");
    } else {
      rebuilt.append(pair);
    }
    if (amp < end) rebuilt.push_back('&');
    pos = amp + 1;
  }
  rebuilt.append(out, end, std::string::npos);
  return rebuilt;
}

Result<HttpResponse> http_request(const HttpRequest& request) {
  global_init();
  const std::string what = request.method + " " + redact_url(request.url);
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return make_error(Errc::internal, what + ": cannot create a curl handle");
  CURL* c = easy.get();

  HttpResponse response;
  BodySink sink{&response.body, request.max_response_bytes};
  char error_text[CURL_ERROR_SIZE] = {0};
  std::unique_ptr<curl_slist, ListDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    // curl_slist_append returns the head, which is the old one unless the list was empty.
    if (curl_slist* head = curl_slist_append(headers.get(), line.c_str()); head && !headers) headers.reset(head);
  };

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, request.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  if (request.max_response_bytes > 0)
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_bytes));

  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }
  if (!request.body.empty()) add_header("Content-Type: " + request.content_type);
  add_header("Expect:");  // no 100-continue round trip for small bodies
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  if (!request.username.empty() || !request.password.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
  }
  curl_blob ca{const_cast<char*>(request.ca_pem.data()), request.ca_pem.size(), CURL_BLOB_COPY};
  if (!request.ca_pem.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    // The blob replaces the default bundle file, but not the default directory (/etc/ssl/certs).
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  }
  std::unique_ptr<curl_slist, ListDeleter> resolve;
  for (const auto& entry : request.resolve)
    if (curl_slist* head = curl_slist_append(resolve.get(), entry.c_str()); head && !resolve) resolve.reset(head);
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  if (!request.verify_peer) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    std::string detail = error_text[0] ? error_text : curl_easy_strerror(code);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    if (sink.overflow || code == CURLE_FILESIZE_EXCEEDED)
      detail = "response larger than " + std::to_string(request.max_response_bytes) + " bytes";
    scrub(detail, request.url, redact_url(request.url));
    scrub(detail, request.password, "***");
    // A request that left in full and then met a timeout or a dropped connection may have been
    // acted on: callers that must not repeat it (an online CA submission) need to know.
    long sent_header = 0;
    curl_off_t sent_body = 0;
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent_header);
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent_body);
    const bool sent = sent_header > 0 && static_cast<std::size_t>(sent_body) >= request.body.size();
    // After the request left, a transport failure of any kind (an unreadable answer such as an
    // absurd Content-Length included) is a lost answer, never a provable "did not arrive".
    const Errc errc = classify(code);
    const bool lost_answer = code == CURLE_OPERATION_TIMEDOUT || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING ||
                             code == CURLE_PARTIAL_FILE || errc == Errc::unavailable;
    if (sent && lost_answer) return make_error(Errc::no_answer, what + ": " + detail + " (after the request was sent)");
    return make_error(errc, what + ": " + detail);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  char* content_type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK && content_type)
    response.content_type = content_type;
  return response;
}

Result<std::vector<std::string>> server_certificates(const std::string& https_url,
                                                     const std::vector<std::string>& resolve_entries,
                                                     long timeout_ms) {
  global_init();
  const std::string what = "TLS handshake with " + redact_url(https_url);
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return make_error(Errc::internal, what + ": cannot create a curl handle");
  CURL* c = easy.get();
  char error_text[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, https_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);  // handshake only: no request, no credentials
  curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  std::unique_ptr<curl_slist, ListDeleter> resolve;
  for (const auto& entry : resolve_entries)
    if (curl_slist* head = curl_slist_append(resolve.get(), entry.c_str()); head && !resolve) resolve.reset(head);
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK)
    return make_error(classify(code), what + ": " + (error_text[0] ? error_text : curl_easy_strerror(code)));
  curl_certinfo* info = nullptr;
  std::vector<std::string> out;
  if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr) {
    for (int i = 0; i < info->num_of_certs; ++i) {
      for (curl_slist* field = info->certinfo[i]; field != nullptr; field = field->next) {
        const std::string_view line(field->data);
        if (line.substr(0, 5) == "Cert:") out.emplace_back(line.substr(5));
      }
    }
  }
  if (out.empty()) return make_error(Errc::protocol, what + ": the server presented no certificate");
  return out;
}

}  // namespace capf::net
