#include "phone.hpp"

#include <chrono>

#include "capf/net/expect.hpp"
#include "capf/protocol/messages.hpp"
#include "capf/util/text.hpp"
#include "ip_connect.hpp"

namespace capf::sim {

namespace asio = net::asio;
using protocol::Command;

namespace {

/// The certificate and key the phone signs with, per its configured Authentication Mode.
struct Credential {
  std::string cert_pem, key_pem;
};

std::optional<Credential> pick_credential(const PhoneProfile& p, const PhoneFlash& f) {
  const bool has_lsc = !f.lsc_pem.empty(), has_mic = !f.mic_pem.empty();
  if (p.auth_mode == AuthMode::existing_cert_lsc) {
    if (has_lsc) return Credential{f.lsc_pem, f.lsc_key_pem};
    if (has_mic) return Credential{f.mic_pem, f.mic_key_pem};
  } else if (p.auth_mode == AuthMode::existing_cert_mic) {
    if (has_mic) return Credential{f.mic_pem, f.mic_key_pem};
    if (has_lsc) return Credential{f.lsc_pem, f.lsc_key_pem};
  }
  return std::nullopt;
}

Result<protocol::AuthResponse> build_auth(const PhoneProfile& p, const PhoneFlash& f, crypto::RsaDigestForm form) {
  protocol::AuthResponse a;
  a.version = p.jabber ? 2 : 3;
  a.device_name = p.name;
  a.reason = 1;
  if (!p.jabber) a.password = p.auth_mode == AuthMode::auth_string ? p.auth_string : "";
  if (auto cred = pick_credential(p, f)) {
    auto cert = crypto::Certificate::from_pem(cred->cert_pem);
    if (!cert) return cert.error();
    auto key = crypto::PrivateKey::from_pem(cred->key_pem);
    if (!key) return key.error();
    auto der = cert->to_der();
    std::vector<std::uint8_t> data(p.name.begin(), p.name.end());
    data.push_back(0);
    data.insert(data.end(), der.begin(), der.end());
    auto sha1 = crypto::sign_capf(*key, data, crypto::CapfHash::sha1, form);
    if (!sha1) return sha1.error();
    auto sha512 = crypto::sign_capf(*key, data, crypto::CapfHash::sha512, form);
    if (!sha512) return sha512.error();
    a.certificate_der = der;
    a.signed_data = *sha1;
    a.sha2_signed = protocol::Sha2Signature{protocol::WireHash::sha512, *sha512};
  }
  return a;
}

KeySpec spec_of(const protocol::KeyGenerateRequest& r) {
  if (r.key_type == protocol::WireKeyType::rsa) return {KeyAlgorithm::rsa, r.key_size, EcCurve::p256};
  EcCurve c = r.curve == protocol::WireCurve::p384   ? EcCurve::p384
              : r.curve == protocol::WireCurve::p521 ? EcCurve::p521
                                                     : EcCurve::p256;
  return {KeyAlgorithm::ec, 0, c};
}

// The phone's answer to FETCH_CERTIFICATE_REQUEST, in the form its profile names.
protocol::Message fetch_answer(TroubleshootAnswer form, const PhoneFlash& f, std::uint32_t sid) {
  std::vector<protocol::FetchedCertificate> certs;
  auto add = [&](const std::string& pem, protocol::CertificateType type) {
    if (pem.empty()) return;
    if (auto cert = crypto::Certificate::from_pem(pem))
      certs.push_back({static_cast<std::uint8_t>(type), cert->to_der()});
  };
  if (form == TroubleshootAnswer::lsc || form == TroubleshootAnswer::both || form == TroubleshootAnswer::both_in_one)
    add(f.lsc_pem, protocol::CertificateType::lsc);
  if (form == TroubleshootAnswer::mic || form == TroubleshootAnswer::both || form == TroubleshootAnswer::both_in_one)
    add(f.mic_pem, protocol::CertificateType::mic);
  const std::uint8_t reason = certs.empty() ? 7 : 1;
  if (form != TroubleshootAnswer::both_in_one || certs.size() < 2)
    return protocol::build(protocol::FetchResponse{reason, std::move(certs), {}}, sid);
  protocol::Bytes one;
  for (const auto& c : certs) {
    const auto wrapped = protocol::wrap_certificate(c.der, static_cast<protocol::CertificateType>(c.type));
    one.insert(one.end(), wrapped.begin(), wrapped.end());
  }
  protocol::Message m(Command::fetch_certificate_response, sid);
  m.add_u8(protocol::Tag::reason, reason).add_bytes(protocol::Tag::certificate, one);
  return m;
}

std::string result_of_end(int reason) {
  switch (reason) {
    case 0:
      return "no-action";
    case 1:
      return "ok";
    case 7:
      return "refused";
    case 9:
      return "unknown-device";
    default:
      return "reason-" + std::to_string(reason);
  }
}

/// One session of one phone, after the TLS handshake: its answer to each request and what it
/// did, from which its result follows. Every message goes out from a named variable, never a
/// temporary inside co_await: GCC 12 may destroy such temporaries twice.
class PhoneSession {
 public:
  PhoneSession(const FleetContext& ctx, const PhoneProfile& phone, PhoneFlash& flash, net::TlsStream& stream,
               Outcome& out)
      : ctx_(ctx), phone_(phone), flash_(flash), stream_(stream), out_(out) {}

  /// Authenticates, answers requests until either side ends the session, and sets the result.
  net::awaitable<void> run() {
    auto first = co_await net::read_message(stream_);
    net::expect(first, Command::auth_request);
    sid_ = first.session_id;
    auto auth = build_auth(phone_, flash_, ctx_.options.rsa_form);
    if (!auth) throw std::runtime_error(auth.error().message);
    {
      const protocol::Message reply = protocol::build(*auth, sid_);
      co_await net::write_message(stream_, reply);
    }
    for (;;) {
      auto m = co_await net::read_message(stream_);
      if (m.is(Command::end_session)) {
        auto reason = protocol::parse_end_session(m);
        out_.reason = reason ? static_cast<int>(*reason) : -1;
        break;
      }
      const bool go_on = co_await answer(m);
      if (!go_on) break;
    }
    if (out_.result.empty()) out_.result = result();
  }

 private:
  /// Answers one request; false when the phone ends the session itself.
  net::awaitable<bool> answer(const protocol::Message& m) {
    if (m.is(Command::key_generate_request)) {
      const bool go_on = co_await generate_key(m);
      co_return go_on;
    }
    if (m.is(Command::sign_certificate_request)) {
      co_await sign_csr();
    } else if (m.is(Command::store_certificate_request)) {
      const bool go_on = co_await store_certificate(m);
      co_return go_on;
    } else if (m.is(Command::fetch_certificate_request)) {
      co_await fetch_certificates();
    } else if (m.is(Command::delete_certificate_request)) {
      co_await delete_lsc();
    } else {
      // §5.8: anything else ends the session from the phone's side.
      throw net::ProtocolError("unexpected " + protocol::command_name(m.command));
    }
    co_return true;
  }

  net::awaitable<bool> generate_key(const protocol::Message& m) {
    const KeySpec spec = spec_of(net::expect(m, Command::key_generate_request, protocol::parse_key_generate_request));
    out_.operation = "Install/Upgrade";
    if (spec.algorithm == KeyAlgorithm::ec && !phone_.ec_capable) {
      const protocol::Message reply = protocol::build(protocol::KeyGenerateResponse{std::nullopt, 7}, sid_);
      co_await net::write_message(stream_, reply);
      co_return true;
    }
    // Real phones announce RSA key generation, which takes them a while; Jabber does not.
    if (spec.algorithm == KeyAlgorithm::rsa && !phone_.jabber) {
      const protocol::Message reply = protocol::build_empty(Command::request_in_progress, sid_);
      co_await net::write_message(stream_, reply);
    }
    if (phone_.fault == PhoneFault::user_abort_at_keygen) {
      protocol::Message abort = protocol::build_end_session(protocol::Reason::refused, sid_);
      abort.add_string(protocol::Tag::reason_info, "user abort");
      co_await net::write_message(stream_, abort);
      out_.result = "aborted";
      out_.reason = static_cast<int>(protocol::Reason::refused);
      co_return false;
    }
    if (phone_.keygen_seconds > 0) {
      auto ex = co_await asio::this_coro::executor;
      asio::steady_timer slow(ex, std::chrono::milliseconds(static_cast<long>(phone_.keygen_seconds * 1000)));
      co_await slow.async_wait(asio::use_awaitable);
    }
    // A raw pointer, not the shared_ptr: GCC 12 may free by-value captures of a lambda in a co_await twice.
    KeySpec wanted = spec;
    KeyStash* stash = ctx_.options.prepared_keys.get();
    auto key =
        co_await net::run_blocking(ctx_.key_pool.get_executor(), [wanted, stash]() -> Result<crypto::PrivateKey> {
          if (stash != nullptr)
            if (auto k = stash->take(wanted)) return std::move(*k);
          return crypto::PrivateKey::generate(wanted);
        });
    if (!key) throw std::runtime_error("key generation failed: " + key.error().message);
    {
      const protocol::Message reply =
          protocol::build(protocol::KeyGenerateResponse{key->public_key_der(), std::nullopt}, sid_);
      co_await net::write_message(stream_, reply);
    }
    out_.detail = to_string(key->spec());
    pending_key_ = std::move(*key);
    co_return true;
  }

  net::awaitable<void> sign_csr() {
    std::optional<std::vector<std::uint8_t>> csr;
    if (pending_key_) {
      auto made = crypto::make_csr(*pending_key_, phone_.name);
      if (made) csr = *made;
      // The key waits in flash for the certificate the CA will issue (maybe next session).
      flash_.pending_key_pem = pending_key_->to_pem();
      sent_csr_ = csr.has_value();
    }
    const protocol::Message reply =
        protocol::build(protocol::SignResponse{csr ? std::uint8_t{1} : std::uint8_t{7}, csr}, sid_);
    co_await net::write_message(stream_, reply);
  }

  net::awaitable<bool> store_certificate(const protocol::Message& m) {
    if (phone_.fault == PhoneFault::power_cut_at_store) {
      boost::system::error_code ignored;
      stream_.lowest_layer().close(ignored);  // no TLS close, no answer: the power is gone
      out_.result = "power-cut";
      out_.detail = "lost power before storing the LSC";
      co_return false;
    }
    const auto req = net::expect(m, Command::store_certificate_request, protocol::parse_store_certificate_request);
    auto cert = crypto::Certificate::from_der(req.certificate_der);
    if (!pending_key_ && !flash_.pending_key_pem.empty()) {
      // CA modes: the certificate for the CSR sent in an earlier session.
      if (auto kept = crypto::PrivateKey::from_pem(flash_.pending_key_pem)) pending_key_ = std::move(*kept);
    }
    const std::string problem = problem_with(cert);
    if (problem.empty()) {
      flash_.lsc_pem = cert->to_pem();
      flash_.lsc_key_pem = pending_key_->to_pem();
      flash_.pending_key_pem.clear();
      out_.lsc_serial = cert->serial_hex();
      stored_ = true;
    } else {
      out_.result = "bad-certificate";
      out_.detail = problem;
    }
    const protocol::Message reply =
        protocol::build_store_response({problem.empty() ? std::uint8_t{1} : std::uint8_t{7}, std::nullopt}, sid_);
    co_await net::write_message(stream_, reply);
    co_return true;
  }

  /// Why the phone refuses a certificate CAPF stores; "" when it keeps it.
  std::string problem_with(const Result<crypto::Certificate>& cert) const {
    if (!cert) return "certificate does not parse: " + cert.error().message;
    if (!pending_key_) return "certificate offered without a key generated in this session";
    if (cert->public_key_der() != pending_key_->public_key_der())
      return "certificate is not for the key this phone generated";
    if (auto v = ctx_.capf_trust.verify(*cert, util::now()); !v) return v.error().message;
    if (cert->subject_cn() != phone_.name) return "certificate CN=" + cert->subject_cn() + " is not this phone";
    return "";
  }

  net::awaitable<void> fetch_certificates() {
    out_.operation = "Troubleshoot";
    const protocol::Message reply = fetch_answer(phone_.troubleshoot, flash_, sid_);
    fetched_ = reply.u8(protocol::Tag::reason) == 1;
    co_await net::write_message(stream_, reply);
  }

  net::awaitable<void> delete_lsc() {
    out_.operation = "Delete";
    const bool had = !flash_.lsc_pem.empty();
    flash_.lsc_pem.clear();
    flash_.lsc_key_pem.clear();
    deleted_ = had;
    const protocol::Message reply =
        protocol::build_delete_response({had ? std::uint8_t{1} : std::uint8_t{7}, std::nullopt}, sid_);
    co_await net::write_message(stream_, reply);
  }

  /// The result of a session that ended with CAPF's END_SESSION.
  std::string result() const {
    if (out_.reason == 1 && stored_) return "installed";
    if (out_.reason == 1 && deleted_) return "deleted";
    if (out_.reason == 0 && fetched_) return "fetched";
    if (out_.reason == 0 && sent_csr_) return "csr-sent";
    return result_of_end(out_.reason);
  }

  const FleetContext& ctx_;
  const PhoneProfile& phone_;
  PhoneFlash& flash_;
  net::TlsStream& stream_;
  Outcome& out_;
  std::uint32_t sid_ = 0;
  std::optional<crypto::PrivateKey> pending_key_;
  bool stored_ = false, deleted_ = false, fetched_ = false, sent_csr_ = false;
};

}  // namespace

std::string_view to_string(PhoneFault f) {
  switch (f) {
    case PhoneFault::none:
      return "none";
    case PhoneFault::power_cut_at_store:
      return "power-cut-at-store";
    case PhoneFault::user_abort_at_keygen:
      return "user-abort-at-keygen";
  }
  return "?";
}

std::optional<PhoneFault> parse_phone_fault(std::string_view text) {
  for (auto f : {PhoneFault::none, PhoneFault::power_cut_at_store, PhoneFault::user_abort_at_keygen})
    if (util::iequals(text, to_string(f))) return f;
  return std::nullopt;
}

std::string_view to_string(TroubleshootAnswer a) {
  switch (a) {
    case TroubleshootAnswer::lsc:
      return "lsc";
    case TroubleshootAnswer::mic:
      return "mic";
    case TroubleshootAnswer::both:
      return "both";
    case TroubleshootAnswer::both_in_one:
      return "both-in-one";
    case TroubleshootAnswer::none:
      return "none";
  }
  return "?";
}

std::optional<TroubleshootAnswer> parse_troubleshoot_answer(std::string_view text) {
  for (auto a : {TroubleshootAnswer::lsc, TroubleshootAnswer::mic, TroubleshootAnswer::both,
                 TroubleshootAnswer::both_in_one, TroubleshootAnswer::none})
    if (util::iequals(text, to_string(a))) return a;
  return std::nullopt;
}

net::awaitable<Outcome> run_phone(const FleetContext& ctx, const PhoneProfile& phone, PhoneFlash& flash) {
  Outcome out;
  out.device = phone.name;
  const auto started = std::chrono::steady_clock::now();
  auto ex = co_await asio::this_coro::executor;
  net::TlsStream stream(ex, ctx.tls);
  auto watchdog = std::make_shared<net::Watchdog>(stream);
  watchdog->start(watchdog);
  watchdog->arm(std::chrono::milliseconds(static_cast<long>(ctx.options.timeout_seconds * 1000)), "phone session");
  try {
    out.connected_via = co_await connect_by_ip_mode(stream.next_layer(), ctx.server, phone.ip_mode, ctx.source);
    stream.lowest_layer().set_option(net::tcp::no_delay(true));
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    PhoneSession session(ctx, phone, flash, stream, out);
    co_await session.run();
    if (out.result != "power-cut") {
      boost::system::error_code ec;
      watchdog->arm(std::chrono::seconds(3), "TLS shutdown");
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  } catch (const NoConnection& e) {
    out.result = "no-connection";
    out.detail = e.what();
  } catch (const std::exception& e) {
    out.result = "error";
    out.detail = watchdog->fired() ? "timed out" : e.what();
  }
  watchdog->stop();
  boost::system::error_code ignored;
  stream.lowest_layer().close(ignored);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  co_return out;
}

}  // namespace capf::sim
