// Shared pieces of the `capf` command line: errors with exit codes, the data directory, the
// admin API call that goes to the running daemon or, when none runs, to the store directly.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

namespace capf::cli {

namespace po = boost::program_options;

/// A wrong command line: exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// An operation that failed: exit 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The arguments after the command words.
using Args = std::vector<std::string>;

/// `--data-dir` from the parsed options, else $CAPF_DATA_DIR, else ./capf-data.
std::string data_dir(const po::variables_map& vm);
/// Options every command takes (--data-dir, --json, --log-level).
po::options_description common_options();
/// Parses `args` against `desc` with positional names; throws UsageError with the reason.
po::variables_map parse(const Args& args, const po::options_description& desc,
                        const po::positional_options_description& positional, const std::string& usage);

/// Calls the admin API (daemon or in-process); returns the JSON body of a 2xx answer and
/// throws Failure with the server's error text otherwise. `accept_status` lists extra
/// statuses whose body is returned instead of thrown.
nlohmann::json admin_call(const std::string& data_dir, const std::string& method, const std::string& target,
                          const std::string& body = "", std::vector<int> accept_status = {});

/// Calls the admin API and returns the raw body of a 2xx answer (a text route such as
/// /metrics, or pretty JSON); throws Failure otherwise.
std::string admin_raw_call(const std::string& data_dir, const std::string& method, const std::string& target);

/// The value of `key` in a JSON answer as text: strings as they are, other values as JSON,
/// "" when absent or null.
std::string text(const nlohmann::json& j, const char* key);

/// Writes the Authentication Strings an answer hands out once (`generated_strings`: device and
/// string) to a new 0600 CSV file, `path` or else `default_path`, and replaces them in `r` by
/// `strings_file`. Returns the file ("" when there were none); the strings are never printed.
std::string save_generated_strings(nlohmann::json& r, const std::string& path, const std::string& default_path);

/// Prints rows as an aligned table with a header.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

/// Data directory layout.
std::string ca_dir(const std::string& data_dir);
std::string store_dir(const std::string& data_dir);
std::string admin_socket(const std::string& data_dir);
std::string admin_token_file(const std::string& data_dir);
std::string daemon_file(const std::string& data_dir);

int cmd_serve(const Args& args);
int cmd_ca(const Args& args);
int cmd_phones(const Args& args);
int cmd_phone(const Args& args);
int cmd_sim(const Args& args);
int cmd_job(const Args& args);
int cmd_bench(const Args& args);
int cmd_config(const Args& args);
int cmd_audit(const Args& args);
int cmd_metrics(const Args& args);
int cmd_trust(const Args& args);
int cmd_offline(const Args& args);
int cmd_csr(const Args& args);
int cmd_stale_lsc(const Args& args);
int cmd_template(const Args& args);
int cmd_policy(const Args& args);
int cmd_web(const Args& args);
/// `capf ca regenerate|phones-on-old|retired` (cmd_ca_lifecycle.cpp; `ca show` stays in cmd_inventory.cpp).
int cmd_ca_lifecycle(const Args& args);
int cmd_lsc(const Args& args);
int cmd_crl(const Args& args);
int cmd_monitor(const Args& args);

}  // namespace capf::cli
