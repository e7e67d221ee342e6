// `capf sim`: the phone-fleet simulator's command line.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <map>

#include "capf/inventory/phones_csv.hpp"
#include "capf/net/host_port.hpp"
#include "capf/sim/simulator.hpp"
#include "capf/util/files.hpp"
#include "capf/util/text.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

std::vector<sim::PhoneProfile> phones_from_csv(const std::string& path) {
  auto content = util::read_file(path);
  if (!content) throw Failure(content.error().message);
  auto parsed = inventory::parse_phones_csv(*content, path, inventory::CsvOptions{});
  if (!parsed) throw Failure(parsed.error().message);
  for (const auto& issue : parsed->issues) std::cerr << issue.to_string() << " (phone not simulated)\n";
  std::vector<sim::PhoneProfile> phones;
  for (const auto& row : parsed->rows) {
    sim::PhoneProfile p;
    p.name = row.name;
    p.auth_mode = row.auth_mode.value_or(AuthMode::null_string);
    p.auth_string = row.auth_string.value_or("");
    p.ip_mode = sim::ip_mode_from_addresses(row.ipv4.value_or(""), row.ipv6.value_or(""));
    phones.push_back(p);
  }
  return phones;
}

nlohmann::json summary_json(const sim::Summary& s) {
  nlohmann::json j{{"elapsed_seconds", s.elapsed_seconds},
                   {"enrollments", s.enrollments},
                   {"enrollments_per_second", s.enrollments_per_second()},
                   {"by_result", s.by_result},
                   {"phones", nlohmann::json::array()}};
  for (const auto& o : s.outcomes)
    j["phones"].push_back({{"device", o.device},
                           {"operation", o.operation},
                           {"result", o.result},
                           {"reason", o.reason},
                           {"detail", o.detail},
                           {"lsc_serial", o.lsc_serial},
                           {"seconds", o.seconds},
                           {"connected_via", o.connected_via}});
  return j;
}

/// `--control`: serves the trigger endpoint until idle or a signal; prints its URL first.
Result<sim::Summary> run_controlled(const po::variables_map& vm, const sim::SimOptions& options,
                                    const std::vector<sim::PhoneProfile>& phones) {
  sim::ControlOptions control;
  control.listen = vm["control"].as<std::string>();
  if (vm.count("control-port-file")) control.port_file = vm["control-port-file"].as<std::string>();
  control.idle_exit_seconds = vm["idle-exit"].as<double>();
  if (control.idle_exit_seconds < 0) throw UsageError("--idle-exit must be 0 or more seconds");
  control.fail_percent = vm["fail-percent"].as<double>();
  if (control.fail_percent < 0 || control.fail_percent > 100) throw UsageError("--fail-percent must be 0–100");
  control.seed = vm["fail-seed"].as<std::uint64_t>();
  const auto endpoint = net::parse_listen_endpoint(control.listen, "--control");
  if (!endpoint) throw UsageError(endpoint.error().message);
  control.on_listening = [host = net::url_host(endpoint->address())](unsigned short port) {
    std::cout << "capf sim: control endpoint http://" << host << ":" << port << "/trigger/{name}" << std::endl;
  };
  return sim::run_controlled(options, phones, control);
}

/// The options of `capf sim`.
po::options_description sim_options_description() {
  auto desc = common_options();
  desc.add_options()("action", po::value<std::string>(), "init (create the manufacturer CA) or nothing (run phones)")(
      "server", po::value<std::vector<std::string>>()->composing(),
      "CAPF address HOST:PORT or [V6]:PORT; repeat for CAPF's IPv4 and IPv6 addresses (a name resolves to all of "
      "them)")("ip-mode", po::value<std::string>(),
               "every phone's IP stacks: dual (IPv6 first, then IPv4), ipv4 or ipv6 "
               "(default: from the CSV's IPv4/IPv6 Address columns, else dual)")(
      "ca", po::value<std::string>(), "PEM file of the CAPF CA the phones trust")(
      "source-address", po::value<std::string>(),
      "local address every phone connects from (e.g. 127.0.0.2: phones at another address)")(
      "lsc-ca", po::value<std::string>(), "CA modes: PEM chain of the external CA whose LSCs the phones accept")(
      "phones", po::value<std::size_t>(), "simulate N phones named SEP...")(
      "first-mac", po::value<std::string>()->default_value("0A0000000001"),
      "MAC of the first generated phone (12 hex)")("csv", po::value<std::string>(),
                                                   "simulate the phones of a BAT-style CSV (names, modes, strings)")(
      "state", po::value<std::string>()->default_value("./capf-sim"),
      "directory of the manufacturer CA and phone flash")("concurrency", po::value<std::size_t>()->default_value(64),
                                                          "phones in session at once")(
      "auth-mode", po::value<std::string>()->default_value("null"), "mode of generated phones (string|null|lsc|mic)")(
      "auth-string", po::value<std::string>(), "string the generated phones' users type")(
      "jabber-every", po::value<std::size_t>()->default_value(0),
      "every Kth phone behaves like Jabber (VERSION 2, no PASSWORD)")("no-ec", "phones cannot generate EC keys")(
      "fault", po::value<std::string>(),
      "what goes wrong on every phone: power-cut-at-store (loses power as the LSC "
      "arrives) | user-abort-at-keygen (the user aborts while the key is generated)")(
      "troubleshoot", po::value<std::string>(),
      "what phones return to Troubleshoot: lsc (default; none when they "
      "have no LSC) | mic | both | both-in-one (one CERTIFICATE element) | none")(
      "keygen-seconds", po::value<double>(), "seconds phones take to generate a key after REQUEST_IN_PROGRESS, silent")(
      "digest-info", "RSA signatures with DigestInfo (default: bare digest, as capfc)")(
      "timeout", po::value<double>()->default_value(60), "seconds per phone session")(
      "mic-key", po::value<std::string>()->default_value("rsa2048"),
      "key of the MIC a phone gets at first boot: rsa2048 (like real phones) or p256 (fast boot for load tests)")(
      "table", "print one row per phone")("expect", po::value<std::string>(),
                                          "exit 1 unless every phone ends with this result (e.g. installed)")(
      "summary-json", po::value<std::string>(), "write the summary and per-phone outcomes as JSON to FILE")(
      "control", po::value<std::string>(),
      "serve a trigger endpoint on loopback HOST:PORT (port 0 picks one); phones connect only when triggered")(
      "control-port-file", po::value<std::string>(), "with --control: write {\"port\": N} to FILE once listening")(
      "idle-exit", po::value<double>()->default_value(0),
      "with --control: exit after SECONDS with no session running (0: until SIGINT/SIGTERM)")(
      "fail-percent", po::value<double>()->default_value(0),
      "with --control: answer P% of triggers with 503 and Retry-After: 1")(
      "fail-seed", po::value<std::uint64_t>()->default_value(1), "with --control: seed of the injected failures");
  return desc;
}

/// The connection and trust options every phone shares: --server, --ca, --lsc-ca, --mic-key, ….
sim::SimOptions sim_options(const po::variables_map& vm, const std::string& state) {
  sim::SimOptions options;
  const auto servers = vm["server"].as<std::vector<std::string>>();
  const auto server = servers.front();
  options.more_servers.assign(servers.begin() + 1, servers.end());
  if (vm.count("source-address")) options.source_address = vm["source-address"].as<std::string>();
  auto first = net::parse_host_port(server, "--server", net::PortZero::refused);
  if (!first) throw UsageError(first.error().message);
  options.server_host = first->host;
  options.server_port = first->port;
  auto ca = util::read_file(vm["ca"].as<std::string>());
  if (!ca) throw Failure("--ca: " + ca.error().message);
  options.ca_pem = *ca;
  if (vm.count("lsc-ca")) {
    auto lsc_ca = util::read_file(vm["lsc-ca"].as<std::string>());
    if (!lsc_ca) throw Failure("--lsc-ca: " + lsc_ca.error().message);
    options.lsc_ca_pem = *lsc_ca;
  }
  options.state_dir = state;
  options.concurrency = std::max<std::size_t>(1, vm["concurrency"].as<std::size_t>());
  options.timeout_seconds = vm["timeout"].as<double>();
  if (vm.count("digest-info")) options.rsa_form = crypto::RsaDigestForm::digest_info;
  const std::string mic_key = vm["mic-key"].as<std::string>();
  if (mic_key == "p256")
    options.mic_key = {KeyAlgorithm::ec, 0, EcCurve::p256};
  else if (mic_key != "rsa2048")
    throw UsageError("--mic-key must be rsa2048 or p256, got \"" + mic_key + "\"");
  return options;
}

/// `--phones N` phones named from `--first-mac`, with --auth-mode and --auth-string.
std::vector<sim::PhoneProfile> generated_phones(const po::variables_map& vm) {
  auto mode = parse_auth_mode(vm["auth-mode"].as<std::string>());
  if (!mode) throw UsageError("--auth-mode must be string, null, lsc or mic");
  auto mac = util::from_hex(vm["first-mac"].as<std::string>());
  if (!mac || mac->size() != 6) throw UsageError("--first-mac must be 12 hex digits");
  std::uint64_t first = 0;
  for (auto b : *mac) first = first << 8 | b;
  std::vector<sim::PhoneProfile> phones;
  for (const auto& name : sim::generated_names(vm["phones"].as<std::size_t>(), first))
    phones.push_back({name, *mode, vm.count("auth-string") ? vm["auth-string"].as<std::string>() : "", false, true});
  return phones;
}

/// What every phone does beyond a plain session: --ip-mode, --fault, --troubleshoot,
/// --keygen-seconds, --jabber-every, --no-ec.
void apply_behaviour(const po::variables_map& vm, std::vector<sim::PhoneProfile>& phones) {
  if (vm.count("ip-mode")) {
    auto mode = sim::parse_ip_mode(vm["ip-mode"].as<std::string>());
    if (!mode)
      throw UsageError("--ip-mode must be dual, ipv4 or ipv6, got \"" + vm["ip-mode"].as<std::string>() + "\"");
    for (auto& p : phones) p.ip_mode = *mode;
  }
  auto fault = sim::PhoneFault::none;
  if (vm.count("fault")) {
    auto f = sim::parse_phone_fault(vm["fault"].as<std::string>());
    if (!f)
      throw UsageError("--fault must be power-cut-at-store or user-abort-at-keygen, got \"" +
                       vm["fault"].as<std::string>() + "\"");
    fault = *f;
  }
  auto troubleshoot = sim::TroubleshootAnswer::lsc;
  if (vm.count("troubleshoot")) {
    auto a = sim::parse_troubleshoot_answer(vm["troubleshoot"].as<std::string>());
    if (!a)
      throw UsageError("--troubleshoot must be lsc, mic, both, both-in-one or none, got \"" +
                       vm["troubleshoot"].as<std::string>() + "\"");
    troubleshoot = *a;
  }
  const double keygen_seconds = vm.count("keygen-seconds") ? vm["keygen-seconds"].as<double>() : 0;
  if (keygen_seconds < 0 || keygen_seconds > 3600) throw UsageError("--keygen-seconds must be 0–3600");
  const auto every = vm["jabber-every"].as<std::size_t>();
  for (std::size_t i = 0; i < phones.size(); ++i) {
    if (every && (i + 1) % every == 0) phones[i].jabber = true;
    if (vm.count("no-ec")) phones[i].ec_capable = false;
    phones[i].fault = fault;
    phones[i].keygen_seconds = keygen_seconds;
    phones[i].troubleshoot = troubleshoot;
  }
}

/// `--table`: one row per phone.
void print_phone_table(const std::vector<sim::PhoneProfile>& phones, const sim::Summary& summary) {
  std::map<std::string, const sim::PhoneProfile*> profiles;
  for (const auto& p : phones) profiles.emplace(p.name, &p);
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : summary.outcomes) {
    const auto found = profiles.find(o.device);
    sim::PhoneProfile profile;
    if (found != profiles.end()) profile = *found->second;
    const std::string secs = fmt::format("{:.2f}", o.seconds);
    rows.push_back({o.device, o.operation,
                    std::string(to_string(profile.auth_mode)) + (profile.jabber ? " (Jabber)" : ""),
                    o.result == "installed" ? o.detail : "", o.result, o.lsc_serial, secs,
                    o.result == "installed" ? "" : o.detail, o.connected_via});
  }
  print_table(
      {"DEVICE", "OPERATION", "AUTHENTICATION MODE", "KEY", "OUTCOME", "LSC SERIAL", "SECONDS", "DETAIL", "VIA"}, rows);
  std::cout << "\n";
}

/// The closing lines: phones, sessions, time, the count of each result, the enrollment rate.
void print_summary(const std::vector<sim::PhoneProfile>& phones, const sim::Summary& summary, std::size_t concurrency,
                   bool controlled) {
  if (controlled)
    std::printf("capf sim: %zu phones, %zu sessions, concurrency %zu, %.2f s\n", phones.size(), summary.outcomes.size(),
                concurrency, summary.elapsed_seconds);
  else
    std::printf("capf sim: %zu phones, concurrency %zu, %.2f s\n", phones.size(), concurrency, summary.elapsed_seconds);
  for (const auto& [result, n] : summary.by_result) std::printf("  %-28s %zu\n", result.c_str(), n);
  std::printf("enrollments: %zu, enrollments per second: %.1f\n", summary.enrollments,
              summary.enrollments_per_second());
}

/// --summary-json and --expect.
void report(const po::variables_map& vm, const sim::Summary& summary) {
  if (vm.count("summary-json")) {
    std::ofstream out(vm["summary-json"].as<std::string>());
    out << summary_json(summary).dump(2) << "\n";
    if (!out) throw Failure("cannot write " + vm["summary-json"].as<std::string>());
  }
  if (vm.count("expect")) {
    const auto want = vm["expect"].as<std::string>();
    std::size_t bad = 0;
    for (const auto& o : summary.outcomes) bad += o.result != want;
    if (bad)
      throw Failure(std::to_string(bad) + " of " + std::to_string(summary.outcomes.size()) + " sessions did not end " +
                    want);
  }
}

}  // namespace

int cmd_sim(const Args& args) {
  auto desc = sim_options_description();
  po::positional_options_description pos;
  pos.add("action", 1);
  const std::string usage =
      "capf sim init --state DIR | capf sim --server HOST:PORT --ca FILE (--phones N | --csv FILE) [--state DIR] "
      "[--control 127.0.0.1:PORT [--control-port-file FILE] [--idle-exit SECONDS] [--fail-percent P]]";
  auto vm = parse(args, desc, pos, usage);
  const std::string state = vm["state"].as<std::string>();
  if (vm.count("action")) {
    if (vm["action"].as<std::string>() != "init") throw UsageError("usage: " + usage);
    auto path = sim::init_manufacturer_ca(state);
    if (!path) throw Failure(path.error().message);
    std::cout << *path << "\n";
    return 0;
  }
  if (!vm.count("server") || !vm.count("ca")) throw UsageError("sim needs --server and --ca (usage: " + usage + ")");
  if (vm.count("phones") == vm.count("csv")) throw UsageError("sim needs exactly one of --phones N or --csv FILE");

  const sim::SimOptions options = sim_options(vm, state);

  auto phones = vm.count("csv") ? phones_from_csv(vm["csv"].as<std::string>()) : generated_phones(vm);
  apply_behaviour(vm, phones);

  const bool controlled = vm.count("control") > 0;
  for (const char* flag : {"control-port-file", "idle-exit", "fail-percent", "fail-seed"})
    if (!controlled && !vm[flag].defaulted() && vm.count(flag))
      throw UsageError(std::string("--") + flag + " needs --control");
  auto summary = controlled ? run_controlled(vm, options, phones) : sim::run_fleet(options, phones);
  if (!summary) throw Failure(summary.error().message);
  if (vm.count("table")) print_phone_table(phones, *summary);
  print_summary(phones, *summary, options.concurrency, controlled);
  report(vm, *summary);
  return 0;
}

}  // namespace capf::cli
