// Writes the web fuzzer's seed corpus: requests the dashboard serves (pages, logins with token
// and password and `next`, the logged-in API with "@SESSION@"/"@CSRF@", events, logout), a
// pipelined pair, a chunked body and the refusals (oversized, cross-site, wrong Host). Each
// file starts with the byte that picks the client address. Usage: web_seeds OUTPUT_DIR.
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace {

std::string req(const std::string& method, const std::string& target, const std::string& headers,
                const std::string& body = "", const std::string& host = "127.0.0.1:8443") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers;
  if (!body.empty() || method == "POST") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

const std::string kPost = "Origin: https://127.0.0.1:8443\r\nContent-Type: application/json\r\n";
const std::string kSession = "Cookie: __Host-capf_session=@SESSION@\r\n";
const std::string kCsrf = "X-CSRF-Token: @CSRF@\r\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: web_seeds OUTPUT_DIR\n");
    return 2;
  }
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"login-page", req("GET", "/login", "")},
      {"index-redirect", req("GET", "/job?id=J0001", "")},
      {"login-token", req("POST", "/login", kPost, R"({"token":"fuzz-admin-token"})")},
      {"login-password", req("POST", "/login", kPost, R"({"user":"alice","password":"alice-password","next":"/job?id=J1"})")},
      {"login-wrong", req("POST", "/login", kPost, R"({"user":"alice","password":"nope","next":"/\\evil.example"})")},
      {"login-unknown", req("POST", "/login", kPost, R"({"user":"mallory","password":"x","next":"/%5Cevil"})")},
      {"session", req("GET", "/api/session", kSession)},
      {"api-get", req("GET", "/api/v1/phones?limit=10", kSession)},
      {"api-post", req("POST", "/api/v1/jobs", kPost + kSession + kCsrf, R"({"where":"device_pool = X","dry_run":true})")},
      {"api-post-no-csrf", req("POST", "/api/v1/jobs", kPost + kSession, "{}")},
      {"events", req("GET", "/api/events?job=J0001", kSession)},
      {"logout", req("POST", "/logout", kPost + kSession + kCsrf, "{}")},
      {"cross-site", req("POST", "/api/v1/jobs", "Origin: https://evil.example\r\nContent-Type: application/json\r\n" + kSession + kCsrf, "{}")},
      {"referer", req("POST", "/api/v1/jobs", "Referer: https://127.0.0.1:8443/submit\r\nContent-Type: application/json\r\n" + kSession + kCsrf, "{}")},
      {"rebind", req("GET", "/api/session", kSession, "", "rebind.example:8443")},
      {"too-large", "POST /login HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n" + kPost + "Content-Length: 10485760\r\n\r\n"},
      {"chunked", "POST /login HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n" + kPost +
                      "Transfer-Encoding: chunked\r\n\r\n1b\r\n{\"token\":\"fuzz-admin-token\"}\r\n0\r\n\r\n"},
      {"pipelined", req("GET", "/app.css", "") + req("GET", "/api/session", kSession) + req("POST", "/logout", kPost + kSession + kCsrf, "{}")},
      {"method", req("PUT", "/api/v1/jobs", kSession, "{}")},
  };
  int i = 0;
  for (const auto& [name, text] : seeds) {
    std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary);
    out << static_cast<char>(i++ % 6) << text;
    if (!out) {
      std::fprintf(stderr, "web_seeds: cannot write %s\n", name.c_str());
      return 1;
    }
  }
  return 0;
}
