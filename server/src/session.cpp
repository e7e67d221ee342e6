#include "session.hpp"

#include "capf/net/expect.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/log.hpp"

namespace capf::server {

namespace asio = net::asio;
using protocol::Command;
using protocol::Reason;

namespace {
const util::ModuleLogger log{"capf"};

// "aborted by the phone: END_SESSION reason 7 (user abort)". REASON_INFO is peer text on its
// way into the log, the device's status and the job: at most 80 bytes, printable ASCII only.
std::string phone_end_text(const protocol::Message& m) {
  std::string out = "aborted by the phone: END_SESSION";
  if (auto reason = m.u8(protocol::Tag::reason)) out += " reason " + std::to_string(*reason);
  if (auto info = m.str(protocol::Tag::reason_info); info && !info->empty()) {
    out += " (";
    for (char c : std::string_view(*info).substr(0, 80)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    out += ")";
  }
  return out;
}

}  // namespace

Session::Session(net::tcp::socket socket, std::string peer, asio::ssl::context& tls, asio::thread_pool& workers,
                 EnrollmentService& service, GroupSync& sync, const ServerConfig& config, ServerStats& stats,
                 std::uint32_t session_id)
    : stream_(std::move(socket), tls),
      watchdog_(stream_),
      workers_(workers),
      service_(service),
      sync_(sync),
      config_(config),
      stats_(stats),
      sid_(session_id),
      cut_at_(std::chrono::steady_clock::now() + config.session_limit.get()),
      peer_(std::move(peer)) {}

net::awaitable<void> Session::run(std::shared_ptr<Session> self) {
  co_await self->run_body();
}

net::awaitable<void> Session::run_body() {
  auto self = shared_from_this();
  ++stats_.sessions_open;
  ++stats_.sessions_started;
  watchdog_.start(self);
  std::string error;
  bool protocol_error = false;
  bool internal_error = false;
  try {
    co_await flow();
  } catch (const net::ProtocolError& e) {
    error = std::string("malformed message: ") + e.what();
    protocol_error = true;
  } catch (const PhoneEndedSession& e) {
    error = e.what();
    ended_ = true;  // the phone said goodbye first: no END_SESSION back
    ++stats_.fail_phone_abort;
  } catch (const boost::system::system_error& e) {
    error = watchdog_.fired() ? "timed out waiting for " + watchdog_.step() : "connection lost: " + e.code().message();
    ++(!watchdog_.fired()                                      ? stats_.fail_connection
       : watchdog_.step().find(kIdleMark) != std::string::npos ? stats_.fail_keep_alive
                                                               : stats_.fail_timeout);
  } catch (...) {
    error = "internal error: " + util::describe(std::current_exception());
    internal_error = true;
    ++stats_.fail_internal;
  }
  if (!error.empty()) {
    if (protocol_error) ++stats_.protocol_errors;
    log()->warn("session={} peer={} device={} ended: {}", sid_, peer_, device_.empty() ? "-" : device_, error);
    // Recording the failure may fail too (a store error); the slot and the claim are still given back below.
    try {
      if (!device_.empty()) co_await record_failure(error);
      // The phone still speaks the protocol after a malformed message or a failure on capf's
      // side (the stream itself is fine): it is told the session ends, refused.
      if ((protocol_error || internal_error) && !ended_) {
        watchdog_.arm(std::chrono::seconds(5), "END_SESSION write");
        co_await end(Reason::refused);
      }
    } catch (...) {
      if (!device_.empty())
        util::report_contained("session", "recording the end of session " + std::to_string(sid_),
                               std::current_exception());
    }
  }
  if (!device_.empty()) util::contain("session", "releasing device " + device_, [&] { service_.release(device_); });
  if (!watchdog_.fired()) {
    // Best-effort close_notify; a phone that already hung up makes this fail harmlessly.
    watchdog_.arm(std::chrono::seconds(3), "TLS shutdown");
    boost::system::error_code ec;
    co_await stream_.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
  watchdog_.stop();
  boost::system::error_code ignored;
  stream_.lowest_layer().close(ignored);
  address_slot_ = {};
  --stats_.sessions_open;
}

void Session::arm(std::chrono::steady_clock::duration timeout, std::string what) {
  const auto left = cut_at_ - std::chrono::steady_clock::now();
  if (left < timeout) {
    timeout = std::max(left, std::chrono::steady_clock::duration::zero());
    what += " (session length limit)";
  }
  watchdog_.arm(timeout, std::move(what));
}

net::awaitable<void> Session::send(const protocol::Message& m) {
  arm(config_.step_timeout, "write of " + protocol::command_name(m.command));
  co_await net::write_message(stream_, m);
}

net::awaitable<protocol::Message> Session::receive(Command expected, std::chrono::seconds timeout, bool generating) {
  std::string what = protocol::command_name(static_cast<std::uint8_t>(expected));
  // Keep-alive: a phone silent longer than the keep-alive is disconnected, except while it
  // generates its key (TCP keep-alive probes hold the connection open meanwhile).
  const std::chrono::seconds keep_alive = config_.keep_alive;
  if (!generating && keep_alive.count() > 0 && keep_alive < timeout) {
    timeout = keep_alive;
    what += std::string(" (") + kIdleMark + " " + std::to_string(keep_alive.count()) + " s)";
  }
  arm(timeout, std::move(what));
  auto m = co_await net::read_message(stream_);
  if (m.session_id != sid_)
    throw net::ProtocolError("session id " + std::to_string(m.session_id) + " in " + protocol::command_name(m.command) +
                             ", expected " + std::to_string(sid_));
  if (m.is(Command::end_session) && expected != Command::end_session) throw PhoneEndedSession(phone_end_text(m));
  co_return m;
}

net::awaitable<void> Session::end(Reason reason) {
  ended_ = true;
  {
    const protocol::Message msg = protocol::build_end_session(reason, sid_);
    co_await send(msg);
  }
}

net::awaitable<void> Session::record_failure(const std::string& reason) {
  co_await record_failure_once([&] { service_.failed(device_, reason); });
}

net::awaitable<void> Session::record_failure_once(const std::function<void()>& write) {
  if (failure_recorded_) co_return;
  failure_recorded_ = true;
  co_await net::run_blocking(workers_.get_executor(), [&] { write(); });
}

net::awaitable<void> Session::flow() {
  arm(config_.handshake_timeout, "TLS handshake");
  co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
  {
    const protocol::Message msg = protocol::build(protocol::AuthRequest{}, sid_);
    co_await send(msg);
  }

  auto m = co_await receive(Command::auth_response, config_.step_timeout);
  const auto auth = net::expect(m, Command::auth_response, protocol::parse_auth_response);

  util::fault_point_for_test("session", auth.device_name);
  // On this I/O thread: the decision is CPU work and a write that does not wait for the disk.
  util::fault_point_for_test("session-step", auth.device_name);
  auto decision = service_.authenticate(auth, sid_);
  if (decision.await_durable) co_await sync_.wait(stream_.get_executor());
  log()->info("session={} peer={} device={} version={} decision={}{}", sid_, peer_, auth.device_name, auth.version,
              static_cast<int>(decision.kind), decision.reason.empty() ? "" : " reason=" + decision.reason);
  switch (decision.kind) {
    case Decision::Kind::end_no_action:
      co_await end(Reason::no_action);
      co_return;
    case Decision::Kind::end_unknown:
      ++stats_.fail_unknown_device;
      co_await end(Reason::unknown_device);
      co_return;
    case Decision::Kind::end_refused:
      ++stats_.fail_refused;
      co_await end(Reason::refused);
      co_return;
    case Decision::Kind::install:
    case Decision::Kind::fetch:
    case Decision::Kind::delete_lsc:
    case Decision::Kind::deliver:
      device_ = decision.device;
      co_await carry_out(decision);
      co_return;
  }
}

net::awaitable<void> Session::carry_out(const Decision& d) {
  // The kinds exclude each other; flow() ends the end_* kinds itself.
  if (d.kind == Decision::Kind::install) co_await install(d);
  if (d.kind == Decision::Kind::fetch) co_await fetch(d);
  if (d.kind == Decision::Kind::delete_lsc) co_await remove(d);
  if (d.kind == Decision::Kind::deliver) co_await deliver(d);
}

net::awaitable<void> Session::install(const Decision& d) {
  std::string tried;
  for (const KeySpec& spec : d.key_plan) {
    {
      const protocol::Message msg = protocol::build(protocol::key_generate_request(spec), sid_);
      co_await send(msg);
    }
    auto m = co_await receive(Command::key_generate_response, config_.step_timeout);
    // Zero or more REQUEST_IN_PROGRESS while the phone generates its key (§10.3).
    while (m.is(Command::request_in_progress))
      m = co_await receive(Command::key_generate_response, config_.keygen_timeout, true);
    const auto resp = net::expect(m, Command::key_generate_response, protocol::parse_key_generate_response);
    tried += (tried.empty() ? "" : ", ") + to_string(spec);
    if (!resp.public_key) continue;  // the phone cannot make this key: try the next in Key Order

    if (d.issuer != IssuerKind::capf) {
      co_await install_via_ca(d, spec, *resp.public_key);
      co_return;
    }
    auto lsc = service_.issue(d.device, *resp.public_key, spec);
    if (!lsc) {
      ++stats_.fail_issue;
      co_await record_failure(lsc.error().message);
      co_await end(Reason::refused);
      co_return;
    }
    co_await sync_.wait(stream_.get_executor());  // the LSC's record, before STORE_CERTIFICATE_REQUEST
    ++stats_.lscs_issued;
    const std::string key = to_string(spec);
    co_await store_certificate(d.device, *lsc, key);
    co_return;
  }
  ++stats_.fail_keygen;
  co_await record_failure_once([&] { service_.keygen_failed(device_, tried); });
  co_await end(Reason::refused);
}

net::awaitable<void> Session::store_certificate(const std::string& device, const IssuedLsc& lsc,
                                                const std::string& key) {
  {
    const protocol::Message msg = protocol::build(
        protocol::StoreCertificateRequest{protocol::CertificateType::lsc, lsc.certificate.to_der()}, sid_);
    co_await send(msg);
  }
  auto stored = co_await receive(Command::store_certificate_response, config_.step_timeout);
  const auto sr = net::expect(stored, Command::store_certificate_response, protocol::parse_certificate_response);
  failure_recorded_ = true;  // delivered() records the outcome either way
  const std::uint8_t reason = sr.reason;
  service_.delivered(device, lsc, reason);
  co_await sync_.wait(stream_.get_executor());
  log()->info("session={} device={} lsc serial={} key={} stored={}", sid_, device, lsc.record.serial, key,
              reason == 1 ? "yes" : "no");
  if (reason == 1) ++stats_.enrollments;
  co_await end(reason == 1 ? Reason::ok : Reason::refused);
}

net::awaitable<void> Session::install_via_ca(const Decision& d, const KeySpec& spec,
                                             const std::vector<std::uint8_t>& public_key) {
  std::vector<std::uint8_t> csr_der;
  if (crypto::verify_csr(public_key)) {
    csr_der = public_key;  // §11.1: the phone answered with a CSR already
  } else {
    auto subject = crypto::subject_der(d.device);
    if (!subject) throw std::runtime_error(subject.error().message);
    {
      const protocol::Message msg = protocol::build_sign_request(*subject, sid_);
      co_await send(msg);
    }
    auto m = co_await receive(Command::sign_certificate_response, config_.keygen_timeout, true);
    while (m.is(Command::request_in_progress))
      m = co_await receive(Command::sign_certificate_response, config_.keygen_timeout, true);
    auto r = net::expect(m, Command::sign_certificate_response, protocol::parse_sign_response);
    if (r.reason != 1 || !r.csr_der) {
      const std::string why =
          "phone could not make a CSR (SIGN_CERTIFICATE_RESPONSE reason " + std::to_string(r.reason) + ")";
      co_await record_failure(why);
      co_await end(Reason::refused);
      co_return;
    }
    csr_der = *r.csr_der;
  }
  auto csr = co_await net::run_blocking(
      workers_.get_executor(), [&] { return service_.accept_csr(d.device, csr_der, public_key, spec, d.issuer); });
  if (!csr) {
    co_await record_failure(csr.error().message);
    co_await end(Reason::refused);
    co_return;
  }
  log()->info("session={} device={} csr={} key={} issuer={}", sid_, d.device, csr->id.substr(0, 12), csr->key,
              to_string(d.issuer));
  if (d.issuer == IssuerKind::online_ca) {
    const std::string id = csr->id;
    auto step = co_await net::run_blocking(workers_.get_executor(), [&] { return service_.online().work(id); });
    if (step.certificate && step.record) {
      ++stats_.lscs_issued;
      const std::string key = csr->key;
      const IssuedLsc issued{std::move(*step.certificate), std::move(*step.record), true};
      co_await store_certificate(d.device, issued, key);
      co_return;
    }
    if (!step.waiting) {
      failure_recorded_ = true;  // the rejection is recorded with its class
      co_await end(Reason::refused);
      co_return;
    }
  }
  failure_recorded_ = true;
  const CsrRecord waiting = *csr;
  co_await net::run_blocking(workers_.get_executor(), [&] { service_.deferred(d.device, waiting); });
  co_await end(Reason::no_action);
}

net::awaitable<void> Session::deliver(const Decision& d) {
  auto lsc = crypto::Certificate::from_der(d.certificate_der);
  if (!lsc) {
    const std::string why = "stored certificate does not parse: " + lsc.error().message;
    co_await record_failure(why);
    co_await end(Reason::refused);
    co_return;
  }
  const std::string key = to_string(lsc->key_spec());
  const IssuedLsc issued{std::move(*lsc), d.lsc_record, true};
  co_await store_certificate(d.device, issued, key);
}

template <class T>
net::awaitable<T> Session::ask(Command request, Command response, Result<T> (*parse)(const protocol::Message&)) {
  {
    const protocol::Message msg = protocol::build_empty(request, sid_);
    co_await send(msg);
  }
  auto m = co_await receive(response, config_.step_timeout);
  co_return net::expect(m, response, parse);
}

net::awaitable<void> Session::fetch(const Decision& d) {
  const auto r = co_await ask(Command::fetch_certificate_request, Command::fetch_certificate_response,
                              protocol::parse_fetch_response);
  failure_recorded_ = true;
  co_await net::run_blocking(workers_.get_executor(), [&] { service_.fetched(d.device, r); });
  co_await end(Reason::no_action);
}

net::awaitable<void> Session::remove(const Decision& d) {
  const auto r = co_await ask(Command::delete_certificate_request, Command::delete_certificate_response,
                              protocol::parse_certificate_response);
  failure_recorded_ = true;
  co_await net::run_blocking(workers_.get_executor(), [&] { service_.deleted(d.device, r.reason); });
  co_await end(r.reason == 1 ? Reason::ok : Reason::refused);
}

}  // namespace capf::server
