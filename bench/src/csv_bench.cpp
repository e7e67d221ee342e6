// CSV import of a generated BAT file: capf's import route (parse, validate, apply rows, one
// synced store write) against `sqlite3 .import` of the same file into an indexed table.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "capf/admin/admin_service.hpp"
#include "capf/bench/bench.hpp"
#include "capf/inventory/phones_csv.hpp"
#include "capf/store/store.hpp"

namespace capf::bench {

namespace {

const char* const kHeader =
    "Device Name,Description,Device Type,Device Pool,Device Security Profile,Certificate Operation,"
    "Authentication Mode,Authentication String,Key Size (Bits),Key Order,EC Key Size (Bits),"
    "Operation Completes By,IPv4 Address,IPv6 Address\n";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string content(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  return content;
}

}  // namespace

std::string generate_csv(std::size_t rows) {
  static const char* first[] = {"Noah", "Paul", "Ben", "David", "Tina", "Anna", "Mia", "Omar", "Lena", "Ravi"};
  static const char* last[] = {"Weber", "Ivanova", "Okafor", "Schmidt", "Rossi", "Tanaka", "Silva", "Novak"};
  static const char* dept[] = {"Engineering", "Sales", "Finance", "Facilities", "Procurement", "Support"};
  static const char* models[] = {"Cisco 8841", "Cisco 8865", "Cisco 7841", "Cisco 8851"};
  static const char* pools[] = {"DP-HQ", "DP-BRANCH1", "DP-BRANCH2", "DP-LAB"};
  static const char* modes[] = {"By Authentication String", "By Null String",
                                "By Existing Certificate (Precedence to LSC)",
                                "By Existing Certificate (Precedence to MIC)"};
  static const char* orders[] = {"RSA Only", "EC Only", "\"EC Preferred, RSA Backup\"", "\"RSA Preferred, EC Backup\""};
  std::mt19937_64 rng(7);
  std::string out = kHeader;
  out.reserve(rows * 190);
  for (std::size_t i = 0; i < rows; ++i) {
    const auto r = rng();
    const char* mode = modes[r % 4];
    const bool string_mode = r % 4 == 0;
    const std::string auth = string_mode ? std::to_string(1000 + (r >> 8) % 9'999'000) : "";
    const char* model = models[(r >> 16) % 4];
    const unsigned pool = (r >> 20) % 4;
    fmt::format_to(std::back_inserter(out),
                   "SEP{:012X},{} {} - {} {}F,{},{},{} - Standard SIP Non-Secure Profile,{},{},{},2048,{},256,{},"
                   "10.{}.{}.{},2001:db8:{}:{:x}::{:x}\n",
                   0x00EBD5000000 + i, first[(r >> 24) % 10], last[(r >> 28) % 8], dept[(r >> 32) % 6],
                   unsigned((r >> 36) % 9 + 1), model, pools[pool], model,
                   (r >> 40) % 8 ? "Install/Upgrade" : "No Pending Operation", mode, auth, orders[(r >> 44) % 4],
                   (r >> 48) % 3 ? "" : "2031-07-25", 20 + pool, (i / 250) % 256, i % 250 + 1, 20 + pool, i / 0xFFFF,
                   i % 0xFFFF + 1);
  }
  return out;
}

namespace {

struct RouteRun {
  double seconds = 0;
  std::size_t imported = 0, rejected = 0;
  std::string first_issue;
};

// capf's import route (the admin API's POST /v1/phones/import, in-process, reading the file
// included) on a fresh store at `store_dir`, in a forked child: every run then starts on a cold
// heap, as a real import into a running daemon does, rather than on the pages of the run before.
RouteRun time_capf_route(const std::string& store_dir, const std::string& file) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    ::close(fds[0]);
    std::string report;
    try {
      auto store = store::Store::open(store_dir);
      if (!store) throw std::runtime_error("store: " + store.error().message);
      util::SystemClock clock;
      admin::AdminService service(**store, admin::CaInfo{}, clock);
      const double start = now_seconds();
      admin::Request request{"POST", "/v1/phones/import?file=site.csv", read_all(file), "bench"};
      auto response = service.handle(request);
      const double seconds = now_seconds() - start;
      if (response.status != 200) throw std::runtime_error("capf import: " + response.body.dump());
      const auto& issues = response.body["issues"];
      report = "ok " + std::to_string(seconds) + " " +
               std::to_string(response.body.value("added", std::size_t{0}) +
                              response.body.value("updated", std::size_t{0})) +
               " " + std::to_string(issues.size()) + " " + (issues.empty() ? "" : issues[0].get<std::string>());
    } catch (const std::exception& e) {
      report = std::string("error ") + e.what();
    }
    for (std::size_t done = 0; done < report.size();) {
      const auto n = ::write(fds[1], report.data() + done, report.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string report;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::istringstream in(report);
  std::string word;
  in >> word;
  if (word != "ok") throw std::runtime_error("capf import run failed: " + (report.empty() ? "no report" : report));
  RouteRun run;
  in >> run.seconds >> run.imported >> run.rejected;
  std::getline(in >> std::ws, run.first_issue);
  return run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

CsvResult bench_csv(std::size_t rows, std::size_t repeat) {
  CsvResult r;
  r.rows = rows;
  TempDir dir;
  const std::string file = dir.path() + "/site.csv";
  {
    std::ofstream out(file, std::ios::binary);
    out << generate_csv(rows);
    if (!out) throw std::runtime_error("cannot write " + file);
  }
  const std::string out = dir.path() + "/sqlite.out", err = dir.path() + "/sqlite.err";
  // sqlite3 .import into a table with an index on the device name, created beforehand.
  const auto time_sqlite = [&](const std::string& db) -> double {
    const int created = run_process(
        {"sqlite3", db,
         "CREATE TABLE phones(name TEXT, description TEXT, device_type TEXT, device_pool TEXT, security_profile TEXT,"
         " operation TEXT, auth_mode TEXT, auth_string TEXT, key_size TEXT, key_order TEXT, ec_key_size TEXT,"
         " completes_by TEXT, ipv4 TEXT, ipv6 TEXT); CREATE UNIQUE INDEX phones_name ON phones(name);"},
        out, err);
    if (created != 0) return 0;  // no sqlite3 here
    const double start = now_seconds();
    const int imported = run_process({"sqlite3", db, ".import --csv --skip 1 " + file + " phones"}, out, err);
    const double seconds = now_seconds() - start;
    if (imported != 0) throw std::runtime_error("sqlite3 .import failed: " + read_all(err));
    return seconds;
  };

  // The two importers take turns, each on a fresh store or database; the medians are compared.
  for (std::size_t i = 0; i < std::max<std::size_t>(repeat, 1); ++i) {
    const auto run = time_capf_route(dir.path() + "/store" + std::to_string(i), file);
    r.capf_runs.push_back(run.seconds);
    r.imported = run.imported;
    r.rejected = run.rejected;
    r.first_issue = run.first_issue;
    const double sqlite = time_sqlite(dir.path() + "/phones" + std::to_string(i) + ".db");
    if (sqlite > 0) r.sqlite_runs.push_back(sqlite);
  }
  r.capf_seconds = median(r.capf_runs);
  r.capf_rows_per_second = r.capf_seconds > 0 ? rows / r.capf_seconds : 0;
  r.sqlite_seconds = median(r.sqlite_runs);
  r.sqlite_rows_per_second = r.sqlite_seconds > 0 ? rows / r.sqlite_seconds : 0;
  r.ratio = r.sqlite_rows_per_second > 0 ? r.capf_rows_per_second / r.sqlite_rows_per_second : 0;

  // The breakdown, last so that no store of it flushes in the background while (a) or (b) is
  // timed: the same steps as the import route, timed one by one.
  {
    auto store = store::Store::open(dir.path() + "/breakdown-store");
    if (!store) throw std::runtime_error("store: " + store.error().message);
    const std::string content = read_all(file);
    double t0 = now_seconds();
    auto parsed = inventory::parse_phones_csv(content, "site.csv", inventory::CsvOptions{});
    if (!parsed) throw std::runtime_error("parse: " + parsed.error().message);
    double t1 = now_seconds();
    const auto now = util::now();
    std::vector<std::string_view> names;
    for (const auto& row : parsed->rows) names.push_back(row.name);
    auto existing = (*store)->find_devices(names);
    if (!existing) throw std::runtime_error("lookup: " + existing.error().message);
    auto next_existing = existing->begin();
    store::DeviceBatch devices;
    devices.reserve(parsed->rows.size(), content.size() + content.size() / 4);
    for (std::size_t i = 0; i < parsed->rows.size(); ++i) {
      const auto& row = parsed->rows[i];
      const bool found = next_existing != existing->end() && next_existing->first == i;
      Device d = found ? (next_existing++)->second : Device{};
      inventory::apply_row(d, row, now);
      if (!inventory::check_capf_settings(d)) {
        if (auto put = devices.add(d); !put) throw std::runtime_error("encode: " + put.error().message);
      }
    }
    double t2 = now_seconds();
    if (auto w = (*store)->apply(devices, store::Transition{}, store::Sync::yes); !w)
      throw std::runtime_error("write: " + w.error().message);
    double t3 = now_seconds();
    r.parse_seconds = t1 - t0;
    r.rows_seconds = t2 - t1;
    r.write_seconds = t3 - t2;
  }

  return r;
}

}  // namespace capf::bench
