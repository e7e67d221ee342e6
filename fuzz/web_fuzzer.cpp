// libFuzzer target for the dashboard's request handling (web/): the bytes of one connection are
// parsed by Beast's request parser as WebServer does (the header first, the body limit chosen
// from it by RequestGate::admit_header, then the body), and every request goes through
// RequestGate::route: Host, method, origin, content type, session, CSRF, the route; logins run
// the throttle, the password check (users of 1 PBKDF2 iteration) and the `next` check. The
// input may name the live session with "@SESSION@" and its CSRF token with "@CSRF@", so the
// logged-in routes are reached too. Aborts when a request gets past a check it should not.
// Built by scripts/fuzz.sh web.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "capf/util/text.hpp"
#include "capf/web/request_gate.hpp"

using namespace capf::web;
namespace http = boost::beast::http;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "web_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, detail)      \
  do {                                \
    if (!(cond)) fail(#cond, detail); \
  } while (0)

std::string users_path;  // a users file with alice (password "alice-password", 1 iteration)

const char* const kClients[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "::ffff:192.0.2.1", "?"};

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

std::string header(const HttpRequest& req, const char* name) {
  const auto v = req[name];
  return std::string(v.data(), v.size());
}

// What a request that reached a logged-in route must have had.
void check_authorized(const HttpRequest& req, const WebSession& live, const std::string& live_id) {
  const std::string cookie = cookie_value(header(req, "Cookie"), kSessionCookie);
  FUZZ_CHECK(cookie == live_id, "a logged-in route without the session cookie: " + header(req, "Cookie"));
  if (req.method() == http::verb::post) {
    FUZZ_CHECK(header(req, "X-CSRF-Token") == live.csrf, "a POST passed without the CSRF token");
    FUZZ_CHECK(same_origin(header(req, "Origin"), header(req, "Referer"), header(req, "Host")), "a cross-site POST passed");
  }
}

// The checks of one answered request.
void check_reply(const HttpRequest& req, const Reply& r) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599, std::to_string(r.status));
  for (const auto& [k, v] : r.headers) {
    FUZZ_CHECK(v.find_first_of("\r\n") == std::string::npos, "a header value with a line break: " + k);
    if (k == "Location") FUZZ_CHECK(v.rfind("/login", 0) == 0, "redirect to " + v);
  }
  if (r.status == 200 && req.target() == "/login" && req.method() == http::verb::post) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    FUZZ_CHECK(j.is_object() && j["next"].is_string(), r.body);
    const auto next = j["next"].get<std::string>();
    FUZZ_CHECK(next == "/" || same_origin_path(next).has_value(), "login answered next=" + next);
  }
}

void handle(RequestGate& gate, const HttpRequest& req, const std::string& client, std::int64_t now,
            const WebSession& live, const std::string& live_id) {
  Route route = gate.route(req, client, now);
  if (auto* reply = std::get_if<Reply>(&route)) return check_reply(req, *reply);
  if (auto* call = std::get_if<AdminCall>(&route)) {
    check_authorized(req, live, live_id);
    FUZZ_CHECK(call->actor == "web:" + live.user, call->actor);
    FUZZ_CHECK(call->target.rfind("/v1/", 0) == 0, call->target);
    return;
  }
  if (auto* events = std::get_if<EventStream>(&route)) {
    check_authorized(req, live, live_id);
    FUZZ_CHECK(events->session.user == live.user, events->session.user);
    return;
  }
  const auto& login = std::get<PasswordLogin>(route);
  FUZZ_CHECK(login.next == "/" || same_origin_path(login.next).has_value(), login.next);
  check_reply(req, gate.finish_login(login, gate.check_password(login), now));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/capf-web-fuzz-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) fail("mkdtemp", "");
  users_path = users_file(dir);
  auto record = hash_password("alice-password", 1);
  if (!record || !store_user(users_path, "alice", *record)) fail("users file", users_path);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // Fresh tables per input: a finding reproduces from its file alone.
  SessionTable sessions;
  UserDirectory users(users_path);
  LoginThrottle throttle({3, std::chrono::seconds(60), 4});
  GateConfig config{{"localhost", "127.0.0.1", "[::1]"}, 8443, "fuzz-admin-token", 1};
  RequestGate gate(config, sessions, users, throttle);
  std::int64_t now = 1'700'000'000'000;
  auto record = users.find("alice");
  const std::string live_id = sessions.create("alice", password_version(**record), now);
  const WebSession live = *sessions.peek(live_id, now);

  const std::string client = kClients[data[0] % std::size(kClients)];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  replace_all(bytes, "@SESSION@", live_id);
  replace_all(bytes, "@CSRF@", live.csrf);

  std::string_view rest(bytes);
  for (int n = 0; n < 8 && !rest.empty(); ++n) {  // pipelined requests on one connection
    http::request_parser<http::string_body> parser;
    parser.eager(false);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // set after the header, as WebServer does
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_header_done()) {
      const auto n_used = parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n_used;
      if (ec || n_used == 0) break;  // need_more: the connection ended inside the header
    }
    if (ec || !parser.is_header_done()) return 0;
    auto admitted = gate.admit_header(parser.get(), content_length(parser), now);
    if (auto* refusal = std::get_if<Reply>(&admitted)) {
      FUZZ_CHECK(refusal->status == 413 && refusal->close, std::to_string(refusal->status));
      return 0;  // the server answers and closes
    }
    parser.body_limit(std::get<std::size_t>(admitted));
    parser.eager(true);
    while (!parser.is_done()) {
      const auto n_used = parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n_used;
      if (ec == http::error::need_more || (!ec && n_used == 0)) {
        parser.put_eof(ec);  // no more bytes: the connection ends here
        break;
      }
      if (ec) break;
    }
    if (ec || !parser.is_done()) return 0;
    const HttpRequest req = parser.release();
    FUZZ_CHECK(req.body().size() <= std::get<std::size_t>(admitted), "a body past its limit was read");
    handle(gate, req, client, now, live, live_id);
    rest.remove_prefix(used);
    now += 1000;
  }
  return 0;
}
