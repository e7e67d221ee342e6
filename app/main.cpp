// capf: the one executable. This file only dispatches; each command lives in cmd_*.cpp, and
// cmd_serve.cpp is the one place that wires the concrete pieces together.
#include <iostream>

#include "capf/util/log.hpp"
#include "cli.hpp"

namespace {

constexpr const char* kUsage = R"(usage: capf COMMAND [options]

commands:
  serve                      run the daemon: CAPF protocol on TLS, admin API
  ca show [--pem]            the CAPF CA certificate
  ca regenerate [--key K]    a new CAPF CA (the old one retired, still in CAPF-trust; restart the daemon)
  ca phones-on-old           phones whose LSC a retired CA issued [--submit-job]; ca retired [delete SERIAL]
  lsc revoke SERIAL          revoke an LSC [--reason keyCompromise|superseded|...]; re-signs the CRL
  crl export [--out FILE]    the CAPF CA's CRL (PEM, or --der) [--ca SERIAL of a retired CA]
  monitor run-now|status     certificate expiry check and e-mail notices now / the last check
  phones import FILE.csv     add/update devices from a BAT-style CSV [--strict]
  phones list [--where Q]    the inventory, or the devices a query matches
  phone show NAME            one device, its LSC and certificates
  phone set NAME ...         one device's CAPF settings (--operation, --auth-mode, ...)
  job submit ...             a batch job over a CSV or a query (--operation, --window, --rate, ...)
  job list|show|watch|report|hold|release|pause|resume|cancel|retry
  template create|list|show|delete   device templates: CAPF defaults for phones a CSV import adds
  policy create|list|show|pause|resume|delete|forecast   renewal policies that keep LSCs valid
  sim ...                    the phone-fleet simulator (sim init, sim --server ...)
  bench crypto|enroll|csv|store|rate|all   benchmarks with figures and ratios
  config list|get|set|reset  service parameters (keep-alive, validity-days, online-ca-*, ...)
  audit list                 the audit trail [--limit N] [--actor A] [--action PREFIX] [--since TIME]
  metrics                    the daemon's /metrics (Prometheus text)
  trust upload|list|delete   CAPF-trust and CallManager-trust (--store, --description)
  offline export|import|rounds   Offline CA rounds: CSRs out (--out DIR), signed certificates in
  csr list [--state S]       CSRs waiting for an external CA, with their rounds and errors
  stale-lsc list|delete --all    LSCs issued but superseded before delivery
  web passwd USER|users|remove USER   users of the web dashboard (`serve --web ADDR:PORT`)

capf --version             this build's version

every command takes --data-dir DIR (default $CAPF_DATA_DIR, else ./capf-data), --json, --help
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace capf::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "capf " << CAPF_VERSION << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "serve") return cmd_serve(args);
    if (command == "ca") return cmd_ca(args);
    if (command == "phones") return cmd_phones(args);
    if (command == "phone") return cmd_phone(args);
    if (command == "sim") return cmd_sim(args);
    if (command == "job") return cmd_job(args);
    if (command == "bench") return cmd_bench(args);
    if (command == "config") return cmd_config(args);
    if (command == "audit") return cmd_audit(args);
    if (command == "metrics") return cmd_metrics(args);
    if (command == "trust") return cmd_trust(args);
    if (command == "offline") return cmd_offline(args);
    if (command == "csr") return cmd_csr(args);
    if (command == "stale-lsc") return cmd_stale_lsc(args);
    if (command == "template") return cmd_template(args);
    if (command == "policy") return cmd_policy(args);
    if (command == "web") return cmd_web(args);
    if (command == "lsc") return cmd_lsc(args);
    if (command == "crl") return cmd_crl(args);
    if (command == "monitor") return cmd_monitor(args);
    throw UsageError("unknown command \"" + command + "\" (see `capf --help`)");
  } catch (const UsageError& e) {
    std::cerr << "capf: " << e.what() << "\n";
    return 2;
  } catch (const Failure& e) {
    std::cerr << "capf: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "capf: " << e.what() << "\n";
    return 1;
  }
}
