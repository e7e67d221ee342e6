// `capf serve`: parses and checks the options, then starts the daemon and runs it.
#include <fstream>
#include <iostream>

#include "capf/config/params.hpp"
#include "capf/util/heap.hpp"
#include "capf/util/log.hpp"
#include "cli.hpp"
#include "daemon.hpp"
#include "serve_options.hpp"

namespace capf::cli {

namespace {

/// The command line, then --config FILE under it (the command line, stored first, wins).
po::variables_map parse_serve_command_line(const Args& args) {
  auto desc = common_options();
  desc.add(serve_options_description());
  desc.add(param_options());
  desc.add_options()("config", po::value<std::string>(),
                     "configuration file (key = value lines; the command line wins)")(
      "check-config", "check the options and the configuration file, print the service parameters given, and exit");
  po::positional_options_description none;
  auto vm = parse(args, desc, none, "capf serve [--data-dir DIR] [--listen ADDR:PORT] [--config FILE]");
  if (!vm.count("config")) return vm;
  const auto path = vm["config"].as<std::string>();
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read --config " + path);
  try {
    po::store(po::parse_config_file(in, config_file_options()), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(path + ": " + e.what());
  }
  return vm;
}

void print_checked_config(const ServeOptions& options) {
  std::cout << "configuration OK";
  for (const auto& [name, value] : options.given_params)
    std::cout << "\n  " << name << " = " << (config::find_parameter(name)->secret ? "(set)" : value);
  std::cout << "\n";
}

}  // namespace

int cmd_serve(const Args& cli_args) {
  Args args = cli_args;
  auto test = take_test_flags(args);
  if (!test) throw UsageError(test.error().message);
  const auto vm = parse_serve_command_line(args);
  auto options = parse_serve_options(vm, *test);
  if (!options) throw UsageError(options.error().message);
  util::set_log_level(options->log_level);
  if (auto r = util::configure_log(options->log); !r) throw UsageError(r.error().message);
  if (options->check_config) {
    print_checked_config(*options);
    return 0;
  }
  util::tune_heap_for_daemon();
  Daemon daemon(std::move(*options), data_dir(vm));
  return daemon.run();
}

}  // namespace capf::cli
