#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "capf/util/loopback.hpp"

namespace capf::it {

const char* const kCsvHeader =
    "Device Name,Device Pool,Certificate Operation,Authentication Mode,Authentication String,Key Size (Bits),"
    "Key Order,EC Key Size (Bits)\n";

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Starts `argv` without a shell: stdout emptied into `out`, stderr appended to `err`.
util::ChildProcess spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  return util::ChildProcess({argv, out, err, /*truncate_out=*/true, /*file_mode=*/0644});
}

}  // namespace

Run cli(const std::vector<std::string>& args) {
  TempDir tmp;
  std::vector<std::string> argv{CAPF_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Run r;
  r.exit_code = spawn(argv, tmp / "out", tmp / "err").wait();
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

Run shell(const std::string& command_line) {
  TempDir tmp;
  Run r;
  r.exit_code = spawn({"/bin/sh", "-c", command_line}, tmp / "out", tmp / "err").wait();
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/capf-it-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (!std::getenv("CAPF_KEEP_TMP")) std::system(("rm -rf '" + path_ + "'").c_str());
}

Daemon::Daemon(const std::string& data_dir, const std::vector<std::string>& extra)
    : data_dir_(data_dir), extra_(extra), log_(data_dir + ".log") {
  start();
}

Daemon::~Daemon() {
  stop();
}

void Daemon::start() {
  const std::string info = data_dir_ + "/daemon.json";
  ::unlink(info.c_str());
  std::vector<std::string> argv{CAPF_BINARY, "serve", "--data-dir", data_dir_};
  if (std::find(extra_.begin(), extra_.end(), "--log-level") == extra_.end()) {
    argv.push_back("--log-level");
    argv.push_back("info");
  }
  if (std::find(extra_.begin(), extra_.end(), "--listen") == extra_.end()) {
    argv.push_back("--listen");
    argv.push_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  child_ = spawn(argv, log_ + ".out", log_);
  // Wait for the daemon to say where it listens (it writes daemon.json once bound).
  for (int i = 0; i < 1500; ++i) {
    if (!child_.running()) {
      throw std::runtime_error("capf serve exited during start-up:\n" + slurp(log_));
    }
    auto text = slurp(info);
    if (!text.empty()) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (!j.is_discarded() && !j["capf"].empty()) {
        port_ = j["capf"][0]["port"].get<int>();
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("capf serve did not start within 30 s:\n" + slurp(log_));
}

int Daemon::stop() {
  if (!running()) return -1;
  return child_.stop(SIGTERM);
}

void Daemon::kill() {
  child_.stop(SIGKILL);
}

void Daemon::restart() {
  stop();
  start();
}

std::string Daemon::log() const {
  return slurp(log_);
}

Fleet::Fleet(const std::vector<std::string>& daemon_args) {
  data = dir / "data";
  sim_state = dir / "sim";
  auto init = cli({"sim", "init", "--state", sim_state});
  if (init.exit_code != 0) throw std::runtime_error("sim init failed: " + init.err);
  mic_root = sim_state + "/manufacturer/capf-ca.pem";
  std::vector<std::string> args{"--mic-root", mic_root};
  args.insert(args.end(), daemon_args.begin(), daemon_args.end());
  daemon = std::make_unique<Daemon>(data, args);
  ca_file = dir / "capf-ca.pem";
  auto ca = cli({"ca", "show", "--pem", "--data-dir", data});
  if (ca.exit_code != 0) throw std::runtime_error("ca show failed: " + ca.err);
  std::ofstream(ca_file) << ca.out;
}

std::string Fleet::write_csv(const std::string& name, const std::string& content) const {
  auto path = dir / name;
  std::ofstream(path) << content;
  return path;
}

Run Fleet::import(const std::string& csv_path) const {
  return cli({"phones", "import", csv_path, "--data-dir", data});
}

nlohmann::json Fleet::sim_csv(const std::string& csv_path, const std::vector<std::string>& extra) const {
  const auto summary = dir / "summary.json";
  std::vector<std::string> args{"sim",     "--server", daemon->address(), "--ca",  ca_file,     "--csv", csv_path,
                                "--state", sim_state,  "--summary-json",  summary, "--timeout", "30"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(slurp(summary), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "no simulator summary: " << r.out << r.err;
  return j;
}

nlohmann::json Fleet::phone(const std::string& name) const {
  auto r = cli({"phone", "show", name, "--json", "--data-dir", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

Run Fleet::phone_set(const std::string& name, const std::vector<std::string>& settings) const {
  std::vector<std::string> args{"phone", "set", name, "--data-dir", data};
  args.insert(args.end(), settings.begin(), settings.end());
  return cli(args);
}

std::string verify_lsc_with_openssl(const std::string& lsc, const std::string& ca, const std::string& device) {
  auto v = shell("openssl verify -x509_strict -purpose sslclient -CAfile '" + ca + "' '" + lsc + "'");
  if (v.exit_code != 0 || v.out.find(": OK") == std::string::npos) return "openssl verify: " + v.out + v.err;
  auto text = shell("openssl x509 -noout -text -in '" + lsc + "'");
  const auto& t = text.out;
  if (t.find("Subject: O = capf, CN = " + device) == std::string::npos && t.find("CN = " + device) == std::string::npos)
    return "subject CN is not " + device;
  auto ku = t.find("X509v3 Key Usage: critical");
  if (ku == std::string::npos) return "key usage missing or not critical";
  if (t.find("Digital Signature, Key Encipherment", ku) == std::string::npos)
    return "key usage is not digitalSignature+keyEncipherment";
  if (t.find("TLS Web Server Authentication, TLS Web Client Authentication") == std::string::npos)
    return "extended key usage is not serverAuth+clientAuth";
  if (t.find("Signature Algorithm: sha256With") == std::string::npos &&
      t.find("ecdsa-with-SHA256") == std::string::npos)
    return "not signed with SHA-256";
  auto end = shell("openssl x509 -noout -checkend 0 -in '" + lsc + "'");
  if (end.exit_code != 0) return "already expired";
  return "";
}

int free_port() {
  return capf::util::LoopbackListener(1).port();
}

int spawn_capf(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> argv{CAPF_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, out, err).release();
}

int wait_process(int pid) {
  return util::wait_exit_status(pid);
}

std::string result_of(const nlohmann::json& summary, const std::string& device) {
  for (const auto& p : summary["phones"])
    if (p["device"] == device) return p["result"].get<std::string>();
  return "(not in summary)";
}

}  // namespace capf::it
