// HTTP triggers against a tiny HTTP server on 127.0.0.1:0, how each ending is classified, and
// the HTTP client's redaction and limits.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "capf/engine/trigger.hpp"
#include "capf/net/http_client.hpp"
#include "capf/util/loopback.hpp"
#include "trigger_test_util.hpp"

using namespace capf;
using namespace capf::engine;
using namespace capf::engine::trigger_test;

namespace {

/// Answers by path: /200, /202, /429 (Retry-After: 7), /503, /401, /404; /hang never answers.
class TinyHttpServer {
 public:
  TinyHttpServer() : listener_(16) {
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    ::shutdown(listener_.fd(), SHUT_RDWR);
    accept_thread_.join();
    for (auto& t : connections_) t.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(listener_.port()) + path;
  }
  /// The last request line and body received.
  std::string last_request() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  /// The header block of the last request.
  std::string last_head() {
    std::lock_guard lock(mutex_);
    return last_head_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listener_.fd(), nullptr, nullptr);
      if (fd < 0) continue;
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string in;
    char buf[4096];
    std::size_t header_end = std::string::npos;
    std::size_t need = 0;
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, n);
      if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
        auto cl = in.find("Content-Length: ");
        need = header_end + 4 + (cl < header_end ? std::stoul(in.substr(cl + 16)) : 0);
      }
      if (header_end != std::string::npos && in.size() >= need) break;
    }
    {
      std::lock_guard lock(mutex_);
      last_ = in.substr(0, in.find("\r\n")) + "\n" + (header_end == std::string::npos ? "" : in.substr(header_end + 4));
      last_head_ = in.substr(0, header_end);
    }
    const auto path = in.substr(in.find(' ') + 1, in.find(' ', in.find(' ') + 1) - in.find(' ') - 1);
    std::string head;
    if (path.rfind("/hang", 0) == 0) {
      while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else if (path.rfind("/200", 0) == 0) {
      head = "HTTP/1.1 200 OK\r\n";
    } else if (path.rfind("/202", 0) == 0) {
      head = "HTTP/1.1 202 Accepted\r\n";
    } else if (path.rfind("/429", 0) == 0) {
      head = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n";
    } else if (path.rfind("/503", 0) == 0) {
      head = "HTTP/1.1 503 Service Unavailable\r\n";
    } else if (path.rfind("/401", 0) == 0) {
      head = "HTTP/1.1 401 Unauthorized\r\n";
    } else {
      head = "HTTP/1.1 404 Not Found\r\n";
    }
    if (!head.empty()) {
      const std::string body = "{\"path\":\"" + path + "\"}";
      const std::string out = head +
                              "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
      (void)!::write(fd, out.data(), out.size());
    }
    ::close(fd);
  }

  capf::util::LoopbackListener listener_;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::vector<std::thread> connections_;
  std::mutex mutex_;
  std::string last_head_;
  std::string last_;
};

}  // namespace

TEST(TriggerHttp, StatusesAreClassified) {
  TinyHttpServer server;
  auto r = run_trigger(http(server.url("/200/{name}")), sample_device(), "job-1");
  EXPECT_EQ(r.outcome, TriggerOutcome::ok) << r.detail;
  EXPECT_EQ(server.last_request(),
            "POST /200/SEP0A0000000001 HTTP/1.1\n{\"device\":\"SEP0A0000000001\",\"job\":\"job-1\"}");

  r = run_trigger(http(server.url("/202/{description}")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::ok) << r.detail;
  EXPECT_NE(server.last_request().find("/202/Lobby%20phone%3B"), std::string::npos);

  r = run_trigger(http(server.url("/429")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::throttled) << r.detail;
  ASSERT_TRUE(r.retry_after_s);
  EXPECT_EQ(*r.retry_after_s, 7);

  r = run_trigger(http(server.url("/503")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::transient) << r.detail;
  EXPECT_FALSE(r.retry_after_s);
  EXPECT_NE(r.detail.find("HTTP 503"), std::string::npos) << r.detail;

  r = run_trigger(http(server.url("/401")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin) << r.detail;

  r = run_trigger(http(server.url("/404")), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::permanent) << r.detail;
}

TEST(TriggerHttp, TransportFailures) {
  // A port that was just free: connection refused.
  const int port = capf::util::LoopbackListener(1).port();
  auto r = run_trigger(http("http://127.0.0.1:" + std::to_string(port) + "/t/{name}"), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::transient) << r.detail;

  TinyHttpServer server;
  const auto started = std::chrono::steady_clock::now();
  r = run_trigger(http(server.url("/hang"), 1), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::transient) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));

  // An expansion that leaves no host is a configuration problem.
  r = run_trigger(http("http://{ipv6}/t"), sample_device(), "j");
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin) << r.detail;
}

TEST(TriggerHttp, RetryAfterForms) {
  EXPECT_EQ(util::parse_retry_after("120", 0), 120);
  EXPECT_EQ(util::parse_retry_after(" 0 ", 0), 0);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(util::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), 30);
  EXPECT_EQ(util::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30), 0);
  EXPECT_FALSE(util::parse_retry_after("soon", 0));
  EXPECT_FALSE(util::parse_retry_after("", 0));
  EXPECT_FALSE(util::parse_retry_after("-5", 0));
  auto r = classify_http_status(503, "2", 0);
  EXPECT_EQ(r.outcome, TriggerOutcome::transient);
  EXPECT_EQ(r.retry_after_s, 2);
  EXPECT_EQ(classify_http_status(408, "", 0).outcome, TriggerOutcome::transient);
  EXPECT_EQ(classify_http_status(403, "", 0).outcome, TriggerOutcome::needs_admin);
  EXPECT_EQ(classify_http_status(302, "", 0).outcome, TriggerOutcome::needs_admin);
  EXPECT_EQ(classify_http_status(204, "", 0).outcome, TriggerOutcome::ok);
  EXPECT_EQ(classify_http_status(410, "", 0).outcome, TriggerOutcome::permanent);
}

TEST(HttpClient, RedactsCredentials) {
  EXPECT_EQ(net::redact_url("https://admin:s3cret@phone.example/CGI/Execute"), "https://***@phone.example/CGI/Execute");
  EXPECT_EQ(net::redact_url("http://host/x?user=a&password=p&token=t#f"),
            "http://host/x?user=a&password=***&token=***#f");
  EXPECT_EQ(net::redact_url("http://host/a@b"), "http://host/a@b");
  EXPECT_EQ(net::redact_url("user:pw@host/x"), "***@host/x");
  net::HttpRequest bad;
  bad.url = "ftp://admin:s3cret@127.0.0.1/x";
  auto r = net::http_request(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos) << r.error().message;
}

TEST(HttpClient, ResponseHeadersAndSizeCap) {
  TinyHttpServer server;
  net::HttpRequest req;
  req.method = "GET";
  req.url = server.url("/429");
  auto r = net::http_request(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->header("retry-after"), "7");
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(r->body, "{\"path\":\"/429\"}");
  req.max_response_bytes = 4;
  r = net::http_request(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::protocol);
}

TEST(TriggerHttp, BasicCredentialsAreSentAndNeverShown) {
  TinyHttpServer server;
  auto c = http(server.url("/401/{name}"));
  c.username = "axl";
  c.password = "s3cret-pw";
  auto r = run_trigger(c, sample_device(), "j");
  // "axl:s3cret-pw" in base64.
  EXPECT_NE(server.last_head().find("Authorization: Basic YXhsOnMzY3JldC1wdw=="), std::string::npos)
      << server.last_head();
  EXPECT_EQ(r.outcome, TriggerOutcome::needs_admin);
  EXPECT_EQ(r.detail.find("s3cret-pw"), std::string::npos) << r.detail;
}
