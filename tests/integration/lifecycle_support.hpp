// Helpers of the CA lifecycle, monitoring and IPv6 tests: service parameters written into a
// stopped daemon's store, and a real SMTP server (aiosmtpd) on loopback.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "capf/core/service_params.hpp"
#include "capf/store/store.hpp"
#include "harness.hpp"

namespace capf::it {

/// Changes the service parameters in `data`'s store; the daemon must not be running.
inline void set_service_params(const std::string& data, const std::function<void(ServiceParams&)>& change) {
  auto store = store::Store::open(data + "/store");
  ASSERT_TRUE(store.ok()) << store.error().message;
  ServiceParams p;
  if (auto doc = (*store)->get_doc(store::Family::params, "service"); doc.ok() && doc->has_value())
    if (auto decoded = decode_params(**doc); decoded.ok()) p = *decoded;
  change(p);
  store::Transition t;
  t.put_docs.push_back({store::Family::params, "service", encode_params(p)});
  ASSERT_TRUE((*store)->apply(t).ok());
}

/// `aiosmtpd` (python3-aiosmtpd) on 127.0.0.1, storing every message in a Maildir.
class SmtpServer {
 public:
  /// On `port`, or on a free one when 0.
  explicit SmtpServer(const std::string& maildir, int port = 0) : maildir_(maildir) {
    port_ = port > 0 ? port : free_port();
    auto r = shell("nohup /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:" + std::to_string(port_) +
                   " -c aiosmtpd.handlers.Mailbox '" + maildir + "' > '" + maildir + ".log' 2>&1 & echo $!");
    pid_ = std::atoi(r.out.c_str());
    // Ready once it accepts a connection (bounded: 15 s).
    for (int i = 0; i < 300; ++i) {
      if (shell("/usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", " + std::to_string(port_) +
                "), 1)'").exit_code == 0)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "aiosmtpd did not start on port " << port_;
  }
  ~SmtpServer() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  /// The full text of every message received, in arrival order (file modification time).
  std::vector<std::string> messages() const {
    std::vector<std::pair<std::filesystem::file_time_type, std::string>> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(maildir_ + "/new", ec))
      files.emplace_back(e.last_write_time(), e.path().string());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& [t, path] : files) {
      std::ifstream in(path);
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
    return out;
  }

 private:
  std::string maildir_;
  int port_ = 0;
  int pid_ = -1;
};

}  // namespace capf::it
