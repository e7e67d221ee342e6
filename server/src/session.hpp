// One CAPF session: a TLS connection from one phone, driven by the server (§5 flows).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "capf/net/message_io.hpp"
#include "capf/server/capf_server.hpp"
#include "group_sync.hpp"

namespace capf::server {

/// Marks a read cut by the keep-alive in the watchdog's step text (and so in the logged reason).
inline constexpr const char* kIdleMark = "idle past keep-alive";

/// The phone ended the session itself with END_SESSION (a user abort on the phone): what it
/// said, as the session records it ("aborted by the phone: …").
struct PhoneEndedSession : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// `peer`: the phone's address and port, as the accept loop read them.
  Session(net::tcp::socket socket, std::string peer, net::asio::ssl::context& tls, net::asio::thread_pool& workers,
          EnrollmentService& service, GroupSync& sync, const ServerConfig& config, ServerStats& stats,
          std::uint32_t session_id);

  /// Runs the whole session and closes the connection; never throws. The coroutine owns
  /// `self`, so the session lives until it ends.
  static net::awaitable<void> run(std::shared_ptr<Session> self);
  /// The strand the session runs on.
  auto executor() { return stream_.get_executor(); }
  /// Keeps its client address's slot (max-sessions-per-address) until the session ends; given
  /// back before the session stops counting as open.
  void hold(net::ConnectionCaps::Slot slot) { address_slot_ = std::move(slot); }

 private:
  net::awaitable<void> run_body();
  net::awaitable<void> flow();
  /// The Certificate Operation `d` names (install, fetch, delete or deliver).
  net::awaitable<void> carry_out(const Decision& d);
  net::awaitable<void> install(const Decision& d);
  /// CA modes: get the phone's CSR, store it, try the online CA, else let the phone wait.
  net::awaitable<void> install_via_ca(const Decision& d, const KeySpec& spec,
                                      const std::vector<std::uint8_t>& public_key);
  /// STORE_CERTIFICATE_REQUEST → STORE_CERTIFICATE_RESPONSE → delivered() → END_SESSION.
  net::awaitable<void> store_certificate(const std::string& device, const IssuedLsc& lsc, const std::string& key);
  /// CA modes: the certificate the CA issued for the stored CSR, on the phone's next session.
  net::awaitable<void> deliver(const Decision& d);
  /// Sends the body-less `request` and returns the phone's `response` as `parse` reads it; a
  /// different command or a body that does not parse ends the session (net::expect).
  template <class T>
  net::awaitable<T> ask(protocol::Command request, protocol::Command response,
                        Result<T> (*parse)(const protocol::Message&));
  net::awaitable<void> fetch(const Decision& d);
  net::awaitable<void> remove(const Decision& d);
  /// Reads the next message within `timeout`, and within the keep-alive unless the phone is
  /// generating a key (`generating`: its limit is keygen-timeout alone). An END_SESSION from the
  /// phone while the session expects something else throws PhoneEndedSession.
  net::awaitable<protocol::Message> receive(protocol::Command expected, std::chrono::seconds timeout,
                                            bool generating = false);
  net::awaitable<void> send(const protocol::Message& m);
  net::awaitable<void> end(protocol::Reason reason);
  net::awaitable<void> record_failure(const std::string& reason);
  /// Runs `write` (an EnrollmentService failure record) on a worker, once per session.
  net::awaitable<void> record_failure_once(const std::function<void()>& write);
  /// Arms the watchdog for a step, never past the session's overall limit.
  void arm(std::chrono::steady_clock::duration timeout, std::string what);

  net::TlsStream stream_;
  net::Watchdog watchdog_;
  net::asio::thread_pool& workers_;
  EnrollmentService& service_;
  GroupSync& sync_;  ///< the group commit the session's `Sync::later` writes wait for
  const ServerConfig& config_;
  ServerStats& stats_;
  std::uint32_t sid_;
  std::chrono::steady_clock::time_point cut_at_;  ///< §11.3: the session is cut at this point
  std::string peer_;
  std::string device_;  ///< set once authenticated and claimed
  bool failure_recorded_ = false;
  bool ended_ = false;
  net::ConnectionCaps::Slot address_slot_;
};

}  // namespace capf::server
