// `capf web …`: users of the web dashboard (a salted PBKDF2 hash per user in DATA/web-users.json,
// mode 0600). The daemon reads the file at every login, so changes apply without a restart.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "capf/util/files.hpp"
#include "capf/web/auth.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

/// Reads one line from standard input, without echo when it is a terminal.
std::string read_secret(const std::string& prompt) {
  const bool tty = ::isatty(0);
  termios old{};
  if (tty) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(0, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSANOW, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(0, TCSANOW, &old);
    std::cerr << "\n";
  }
  if (!got) throw Failure("no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

int cmd_web(const Args& args) {
  auto desc = common_options();
  desc.add_options()
    ("action", po::value<std::string>(), "passwd | users | remove")
    ("user", po::value<std::string>(), "user name");
  po::positional_options_description pos;
  pos.add("action", 1).add("user", 1);
  const std::string usage = "capf web passwd USER (password on standard input) | web users | web remove USER";
  auto vm = parse(args, desc, pos, usage);
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  const std::string dir = data_dir(vm);
  const std::string path = web::users_file(dir);
  if (action == "passwd") {
    if (!vm.count("user")) throw UsageError("web passwd needs a USER");
    const std::string user = vm["user"].as<std::string>();
    if (!web::valid_user_name(user)) throw UsageError("user name \"" + user + "\" must be 1–64 of A-Z a-z 0-9 . _ @ -");
    const std::string password = read_secret("password for " + user + ": ");
    if (::isatty(0) && read_secret("again: ") != password) throw Failure("the two passwords differ; nothing changed");
    if (password.size() < 8) throw Failure("the password must have at least 8 characters");
    auto record = web::hash_password(password);
    if (!record) throw Failure(record.error().message);
    if (auto r = util::make_dirs(dir, 0700); !r) throw Failure(r.error().message);
    if (auto r = web::store_user(path, user, *record); !r) throw Failure(r.error().message);
    std::cout << "web user " << user << " set in " << path << " (PBKDF2-HMAC-SHA256, " << record->iterations
              << " iterations)\n";
    return 0;
  }
  if (action == "remove") {
    if (!vm.count("user")) throw UsageError("web remove needs a USER");
    if (auto r = web::remove_user(path, vm["user"].as<std::string>()); !r) throw Failure(r.error().message);
    std::cout << "web user " << vm["user"].as<std::string>() << " removed\n";
    return 0;
  }
  if (action == "users") {
    auto users = web::load_users(path);
    if (!users) throw Failure(users.error().message);
    if (vm.count("json")) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& [name, r] : *users) list.push_back({{"user", name}, {"algorithm", r.algorithm}, {"iterations", r.iterations}});
      std::cout << nlohmann::json{{"users", list}}.dump(2) << "\n";
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [name, r] : *users) rows.push_back({name, r.algorithm, std::to_string(r.iterations)});
      print_table({"USER", "HASH", "ITERATIONS"}, rows);
    }
    return 0;
  }
  throw UsageError(action.empty() ? "web needs an action: " + usage : "unknown web action \"" + action + "\": " + usage);
}

}  // namespace capf::cli
