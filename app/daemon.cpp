#include "daemon.hpp"

#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "capf/ca_online/online_ca.hpp"
#include "capf/config/params.hpp"
#include "capf/crypto/ca_lifecycle.hpp"
#include "capf/crypto/web.hpp"
#include "capf/net/host_port.hpp"
#include "capf/net/spawn.hpp"
#include "capf/trust/trust.hpp"
#include "capf/util/files.hpp"
#include "capf/util/heap.hpp"
#include "capf/util/log.hpp"
#include "capf/util/open_files.hpp"
#include "capf/util/text.hpp"
#include "daemon_metrics.hpp"

namespace capf::cli {

namespace {

/// Raises the open-file limit (each CAPF session is a socket) and makes the data directory
/// private: keys, tokens and the store live there, so only the daemon's user may enter, also
/// when the directory was made by hand or by an older version (0755).
std::string prepare_data_dir(std::string dir, std::size_t max_sessions) {
  const std::uint64_t limit = util::raise_open_file_limit();
  const std::uint64_t needed = max_sessions + 512;  // the store, logs, admin and web sockets
  if (limit < needed && limit > 512)
    util::logger("capf")->info(
        "open-file limit {}: room for about {} CAPF sessions at once, fewer than --max-sessions {} (raise "
        "LimitNOFILE or ulimit -n for more)",
        limit, limit - 512, max_sessions);
  if (auto r = util::make_private_dir(dir); !r) throw Failure("data directory: " + r.error().message);
  return dir;
}

crypto::CertificateAuthority load_ca(const std::string& dir, const crypto::CaOptions& options) {
  auto ca = crypto::CertificateAuthority::load_or_create(ca_dir(dir), options);
  if (!ca) throw Failure("CAPF CA: " + ca.error().message);
  return std::move(*ca);
}

std::unique_ptr<store::Store> open_store(const std::string& dir) {
  auto store = store::Store::open(store_dir(dir));
  if (!store) throw Failure(store.error().message);
  return std::move(*store);
}

/// The stored parameters with the given ones applied; a change is stored with an audit entry
/// "config.set" by "capf serve", so `capf config` shows what runs.
ServiceParams startup_params(store::Store& store, const util::Clock& clock,
                             const std::vector<std::pair<std::string, std::string>>& given) {
  auto loaded = config::load(store);
  if (!loaded) throw Failure(loaded.error().message);
  ServiceParams p = *loaded;
  std::vector<AuditEntry> audit;
  for (const auto& [name, value] : given) {
    const ServiceParams before = p;
    if (auto r = config::set_parameter(p, name, value); !r) throw UsageError(r.error().message);
    const auto* info = config::find_parameter(name);
    if (config::raw_value(before, *info) != config::raw_value(p, *info))
      audit.push_back(
          AuditEntry{clock.now(), "capf serve", "config.set", name, config::change_detail(*info, before, p)});
  }
  if (!audit.empty()) {
    if (auto r = config::save(store, p, audit); !r)
      throw Failure("storing the service parameters: " + r.error().message);
    for (const auto& a : audit)
      util::logger("capf")->info("service parameter from the command line/config file: {}", a.detail);
  }
  return p;
}

/// Adds every retired CAPF CA (DATA/ca/retired/*.pem) to CAPF-trust, so phones whose LSC an
/// old CA issued still authenticate by existing certificate until the CA is deleted.
void trust_retired_cas(crypto::TrustStore& trust, const std::string& ca_dir) {
  auto retired = crypto::retired_cas(ca_dir);
  if (!retired) throw Failure("retired CAPF CAs: " + retired.error().message);
  for (const auto& r : *retired) {
    trust.add(r.certificate);
    util::logger("capf")->info("CAPF-trust: retired CAPF CA {} (serial {})", r.certificate.subject(),
                               r.certificate.serial_hex());
  }
}

/// "Enable IPv6" False: "[::]:P" becomes "0.0.0.0:P" and any other IPv6 address is dropped
/// (logged); Failure when no address is left.
std::vector<std::string> ipv4_only(const std::vector<std::string>& listen) {
  std::vector<std::string> out;
  for (const auto& text : listen) {
    const auto parsed = net::parse_host_port(text, "--listen");
    if (!parsed) throw Failure(parsed.error().message);
    const auto& [host, port] = *parsed;
    if (host == "::") {
      out.push_back("0.0.0.0:" + std::to_string(port));
      util::logger("capf")->info("Enable IPv6 is False: listening on 0.0.0.0:{} instead of {} (IPv4 only)", port, text);
    } else if (host.find(':') != std::string::npos) {
      util::logger("capf")->warn("Enable IPv6 is False: not listening on {}", text);
    } else {
      out.push_back(text);
    }
  }
  if (out.empty()) throw Failure("Enable IPv6 is False and every --listen address is IPv6; give an IPv4 address");
  return out;
}

std::string read_option_file(const std::string& option, const std::string& path) {
  auto content = util::read_file(path);
  if (!content) throw UsageError(option + ": " + content.error().message);
  return *content;
}

/// A dashboard certificate issued by the CAPF CA for the loopback names, the listen address
/// and the names given.
void issue_dashboard_identity(web::WebConfig& wc, const crypto::CertificateAuthority& ca) {
  const auto ep = net::parse_listen_endpoint(wc.listen, "--web");
  if (!ep) throw Failure(ep.error().message);
  std::vector<std::string> dns{"localhost"}, ips{"127.0.0.1", "::1"};
  const auto a = ep->address();
  if (!a.is_unspecified() && !a.is_loopback()) ips.push_back(a.to_string());
  for (const auto& n : wc.host_names) {
    boost::system::error_code ec;
    auto ip = net::asio::ip::make_address(n.size() > 2 && n.front() == '[' ? n.substr(1, n.size() - 2) : n, ec);
    (ec ? dns : ips).push_back(ec ? n : ip.to_string());
  }
  auto id = crypto::issue_tls_server_identity(ca, dns, ips, 90, util::now());
  if (!id) throw Failure("web dashboard certificate: " + id.error().message);
  wc.cert_pem = id->cert_pem;
  wc.key_pem = id->key_pem;
}

admin::CaInfo ca_info(const crypto::Certificate& cert) {
  return admin::CaInfo{
      cert.to_pem(),     cert.subject(),  cert.serial_hex(), to_string(cert.key_spec()), cert.sha256_fingerprint(),
      cert.not_before(), cert.not_after()};
}

std::string write_admin_token(const std::string& dir) {
  std::string token = util::to_hex(crypto::random_bytes(32));
  if (auto r = util::write_file_atomic(admin_token_file(dir), token, 0600); !r) throw Failure(r.error().message);
  return token;
}

/// The engine's settings with the daemon's breakers (shared with the Online CA and the
/// certificate monitor) and the issuer of the start.
engine::EngineConfig engine_config_at_start(engine::EngineConfig config, IssuerKind issuer) {
  config.breakers = std::make_shared<Breakers>();
  config.issuer = issuer;
  return config;
}

// Half the cores: the other half signs LSCs and writes the store on the worker pool. On two
// cores one I/O thread spends about a tenth less CPU per enrollment than two, with a third fewer
// context switches and the same throughput (`capf bench enroll --io-threads`, docs/benchmarks.md).
unsigned io_thread_count(unsigned given) {
  return given ? given : std::max(1u, std::thread::hardware_concurrency() / 2);
}

}  // namespace

Daemon::Daemon(ServeOptions options, std::string data_dir)
    : options_(std::move(options)),
      dir_(prepare_data_dir(std::move(data_dir), options_.server.max_sessions)),
      monitor_clock_(options_.test.monitor_clock_offset_s),
      ca_(load_ca(dir_, options_.ca)),
      store_(open_store(dir_)),
      params_(startup_params(*store_, clock_, options_.given_params)),
      engine_config_(engine_config_at_start(options_.engine, params_.issuer)),
      web_config_(dashboard_config()),
      enrollment_(*store_, ca_, capf_trust_at_start(), params_.validity_days, clock_),
      trigger_runner_(trigger_config(), options_.trigger_threads),
      engine_(*store_, clock_, trigger_runner_, engine_config_),
      policies_(*store_, engine_, ca_.certificate().subject()),
      io_threads_(io_thread_count(options_.server.io_threads)),
      io_(static_cast<int>(io_threads_)),
      signals_(io_, SIGINT, SIGTERM),
      workers_(options_.server.worker_threads),
      capf_server_(io_, workers_, enrollment_, listener_config(), ca_.certificate().to_pem(), ca_.key().to_pem()),
      ca_worker_(enrollment_.online(), clock_),
      admin_service_(*store_, ca_info(ca_.certificate()), clock_, &engine_),
      cert_monitor_(*store_, ca_dir(dir_), monitor_clock_),
      metrics_(daemon_metrics(capf_server_.stats(), engine_)),
      token_(write_admin_token(dir_)),
      admin_server_(io_, workers_, admin_service_, admin_socket(dir_), token_),
      engine_loop_(engine_, std::chrono::milliseconds(engine_config_.tick_ms), [this] { each_round(); }) {
  enrollment_.set_keygen_attempts(params_.keygen_attempts);
  enrollment_.online().set_breakers(engine_config_.breakers, engine_config_.breaker);
  apply_issuer(params_);
  if (auto r = engine_.recover(); !r) throw Failure("job engine recovery: " + r.error().message);
  enrollment_.set_hook(&engine_);
  capf_server_.start();
  ca_worker_.start();
  cert_monitor_.set_breakers(engine_config_.breakers, engine_config_.breaker);
  cert_monitor_.start(options_.monitor_first_check_s);
  install_admin_modules(admin_service_, module_context());
  admin_server_.start();
  start_dashboard();
  write_daemon_file();
  util::logger("capf")->info("capf ready: CA {} ; data {} ; admin socket {}", ca_.certificate().subject(), dir_,
                             admin_socket(dir_));
}

Daemon::~Daemon() = default;

server::ServerConfig Daemon::session_settings(const ServiceParams& p, server::ServerConfig c) const {
  c.validity_days = p.validity_days;
  c.keygen_timeout = std::chrono::seconds(p.keygen_timeout_min * 60);
  const int keep_alive_s = options_.test.keep_alive_s > 0 ? options_.test.keep_alive_s : p.keep_alive_min * 60;
  c.keep_alive = std::chrono::seconds(keep_alive_s);
  c.max_sessions_per_address = static_cast<std::size_t>(p.max_sessions_per_address);
  // A session must outlive the longest key generation it allows.
  c.session_limit = std::max(std::chrono::seconds(900), std::chrono::seconds(p.keygen_timeout_min * 60 + 300));
  return c;
}

server::ServerConfig Daemon::listener_config() {
  auto config = session_settings(params_, options_.server);
  if (config.listen.empty()) config.listen = {params_.enable_ipv6 ? "[::]:3804" : "0.0.0.0:3804"};
  if (!params_.enable_ipv6) config.listen = ipv4_only(config.listen);
  return config;
}

crypto::TrustStore Daemon::capf_trust_at_start() {
  // MIC roots become CAPF-trust entries the first time they are seen (an administrator may
  // delete and re-add them); the daemon verifies against CAPF-trust plus its own CA.
  std::vector<crypto::Certificate> mic_roots;
  for (const auto& path : options_.mic_root_files) {
    auto pem = util::read_file(path);
    if (!pem) throw Failure("--mic-root: " + pem.error().message);
    auto certs = crypto::Certificate::all_from_pem(*pem);
    if (!certs || certs->empty()) throw Failure("--mic-root " + path + ": no certificate in the file");
    mic_roots.insert(mic_roots.end(), certs->begin(), certs->end());
  }
  if (auto added = trust::add_mic_roots(*store_, mic_roots, util::now()); !added)
    throw Failure("CAPF-trust: " + added.error().message);
  auto capf_trust = trust::capf_trust(*store_, &ca_.certificate());
  if (!capf_trust) throw Failure("CAPF-trust: " + capf_trust.error().message);
  trust_retired_cas(*capf_trust, ca_dir(dir_));  // phones with LSCs of a regenerated CA still authenticate
  util::logger("capf")->info("CAPF-trust: {} certificates (CAPF CA included)", capf_trust->size());
  return std::move(*capf_trust);
}

engine::TriggerConfig Daemon::trigger_config() const {
  engine::TriggerConfig trigger = options_.trigger;
  if (!options_.trigger_password_file.empty())
    trigger.password =
        std::string(util::trim(read_option_file("--trigger-password-file", options_.trigger_password_file)));
  if (!options_.trigger_ca_file.empty()) trigger.ca_pem = read_option_file("--trigger-ca", options_.trigger_ca_file);
  return trigger;
}

std::optional<web::WebConfig> Daemon::dashboard_config() const {
  if (!options_.dashboard) return std::nullopt;
  web::WebConfig wc = options_.dashboard->config;
  if (!options_.dashboard->cert_file.empty()) {
    wc.cert_pem = read_option_file("--web-cert", options_.dashboard->cert_file);
    wc.key_pem = read_option_file("--web-key", options_.dashboard->key_file);
  } else {
    issue_dashboard_identity(wc, ca_);
  }
  wc.users_path = web::users_file(dir_);
  return wc;
}

ServiceParams Daemon::current_params() const {
  auto p = config::load(*store_);
  return p ? *p : params_;
}

void Daemon::apply_issuer(const ServiceParams& p) {
  for (const auto& w : config::warnings(p)) util::logger("capf")->warn("service parameters: {}", w);
  std::shared_ptr<OnlineCa> online;
  if (p.issuer == IssuerKind::online_ca || !p.online_ca.host.empty()) {
    std::string chain;
    if (auto certs = trust::certificates(*store_, trust::Kind::capf_trust))
      for (const auto& c : *certs) chain += c.to_pem();
    auto made = ca_online::make_online_ca(p.online_ca, chain);
    if (made)
      online = std::move(*made);
    else if (p.issuer == IssuerKind::online_ca)
      util::logger("capf")->warn("Online CA not usable: {}", made.error().message);
  }
  enrollment_.set_issuer(p.issuer, std::move(online), p.online_ca);
  engine_.set_issuer(p.issuer);
  util::logger("capf")->info("Certificate Issuer to Endpoint: {}", to_string(p.issuer));
}

void Daemon::apply(const ServiceParams& p) {
  const server::ServerConfig next = session_settings(p, {});
  enrollment_.set_validity_days(next.validity_days);
  enrollment_.set_keygen_attempts(p.keygen_attempts);
  capf_server_.set_keygen_timeout(next.keygen_timeout);
  capf_server_.set_keep_alive(next.keep_alive);
  capf_server_.set_session_limit(next.session_limit);
  capf_server_.set_max_sessions_per_address(next.max_sessions_per_address);
  apply_issuer(p);
  util::logger("capf")->info(
      "service parameters applied: validity {} days, keygen timeout {} min, keygen attempts {}, keep-alive {} s",
      p.validity_days, p.keygen_timeout_min, p.keygen_attempts, next.keep_alive.get().count());
}

void Daemon::reload_trust() {
  auto rebuilt = trust::capf_trust(*store_, &ca_.certificate());
  if (!rebuilt) return util::logger("capf")->error("CAPF-trust not reloaded: {}", rebuilt.error().message);
  trust_retired_cas(*rebuilt, ca_dir(dir_));
  util::logger("capf")->info("CAPF-trust reloaded: {} certificates", rebuilt->size());
  enrollment_.set_trust(std::make_shared<const crypto::TrustStore>(std::move(*rebuilt)));
  apply_issuer(current_params());  // the Online CA's HTTPS chain comes from CAPF-trust too
}

ModuleContext Daemon::module_context() {
  ModuleContext m{.store = *store_,
                  .clock = clock_,
                  .engine = &engine_,
                  .data_dir = dir_,
                  .ca_subject = ca_.certificate().subject()};
  m.monitor = &cert_monitor_;
  m.trust_changed = [this] { reload_trust(); };
  m.params_changed = [this](const ServiceParams& p) { apply(p); };
  return m;
}

void Daemon::start_dashboard() {
  if (!web_config_) return;
  web_config_->admin_token = token_;
  web_server_ = std::make_unique<web::WebServer>(io_, workers_, admin_service_, std::move(*web_config_));
  web_server_->start();
  util::logger("capf")->info("web dashboard: {} (log in with {} or a user from `capf web passwd`)", web_server_->url(),
                             admin_token_file(dir_));
}

void Daemon::write_daemon_file() const {
  nlohmann::json info{{"pid", ::getpid()}, {"admin_socket", admin_socket(dir_)}, {"capf", nlohmann::json::array()}};
  for (const auto& ep : capf_server_.endpoints()) {
    const auto a = ep.address();
    info["capf"].push_back({{"address", net::url_host(a)}, {"port", ep.port()}});
  }
  if (web_server_) info["web"] = web_server_->url();
  if (auto r = util::write_file_atomic(daemon_file(dir_), info.dump(2), 0644); !r) throw Failure(r.error().message);
}

void Daemon::each_round() {
  policies_.tick(clock_.now());
  const auto now = std::chrono::steady_clock::now();
  if (now - heap_trimmed_at_ < std::chrono::seconds(10)) return;
  heap_trimmed_at_ = now;
  util::release_free_heap();
}

void Daemon::shut_down(int signal) {
  util::logger("capf")->info("signal {}: no new sessions; waiting up to 10 s for {} open ones", signal,
                             capf_server_.stats().sessions_open.load());
  capf_server_.stop();
  admin_server_.stop();
  if (web_server_) web_server_->stop();
  // Let running sessions finish their durable writes before the loop stops.
  net::spawn(
      io_.get_executor(),
      [this]() -> net::awaitable<void> {
        net::asio::steady_timer t(io_);
        for (int i = 0; i < 100 && capf_server_.stats().sessions_open.load() > 0; ++i) {
          t.expires_after(std::chrono::milliseconds(100));
          co_await t.async_wait(net::asio::use_awaitable);
        }
        io_.stop();
      },
      "io", "the shutdown wait");
}

int Daemon::run() {
  signals_.async_wait([this](const boost::system::error_code&, int signal) { shut_down(signal); });
  engine_loop_.start();  // the engine's scheduling loop; the renewal policies run in the same rounds
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < io_threads_; ++i) threads.emplace_back([this] { net::run_io(io_); });
  net::run_io(io_);
  for (auto& t : threads) t.join();
  engine_loop_.stop();
  cert_monitor_.stop();
  ca_worker_.stop();
  trigger_runner_.join();
  workers_.join();
  ::unlink(daemon_file(dir_).c_str());
  util::logger("capf")->info("stopped");
  return 0;
}

}  // namespace capf::cli
