// Pages of device queries over a 40,000-phone inventory: the first page of a query (with its
// count, which needs every device) and the page after it (from the store cursor alone), beside
// a bare scan of the store and the request the dashboard made before it paged on the server.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "capf/admin/admin_service.hpp"
#include "capf/bench/bench.hpp"
#include "capf/core/csr.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/files.hpp"

namespace capf::bench {

namespace {

constexpr std::int64_t kDay = 86400;
constexpr const char* kRetired = "CN=CAPF-0ld0ca01,O=capf";
constexpr const char* kOnline = "CN=Issuing CA 1,DC=corp,DC=example";
constexpr const char* kOffline = "CN=Offline Root CA,O=Example Corp,C=DE";

template <class T>
T must(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}
void must(const Result<void>& r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
}

std::string hex_id(const char* prefix, std::size_t i, std::size_t width) {
  return fmt::format("{}{:0{}x}", prefix, i, width);
}

/// Phone i of the planted fleet, with its LSC as the header of plant_fleet describes.
Device planted_device(std::size_t i, std::int64_t now, const std::string& ca_subject) {
  static const char* const kTypes[] = {"Cisco 8841", "Cisco 8845", "Cisco 7841", "Cisco 8865"};
  Device d;
  d.name = fmt::format("SEP{:012X}", i);
  d.description = "Planted phone " + std::to_string(i);
  d.device_type = kTypes[i % 4];
  d.device_pool = fmt::format("DP-{:02}", i % 20);
  d.security_profile = std::string(d.device_type) + " - Standard SIP Non-Secure Profile";
  d.last_seen = now - static_cast<std::int64_t>(i % 30) * kDay;
  d.ipv4 =
      "10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
  if (i % 50 == 0) return d;
  d.status = OperationStatus::success;
  d.lsc_serial = hex_id("5e", i, 8);
  d.lsc_issuer = i % 10 == 2 ? kRetired : i % 10 == 3 ? kOnline : i % 10 == 4 ? kOffline : ca_subject;
  if (i % 50 == 1) {
    d.lsc_not_after = now - static_cast<std::int64_t>(i % 90 + 1) * kDay;
  } else {
    const auto spread = static_cast<std::uint64_t>((5 * 365 + 21) * kDay);
    d.lsc_not_after = now + 3600 + static_cast<std::int64_t>((static_cast<std::uint64_t>(i) * 2654435761ULL) % spread);
  }
  return d;
}

CertificateRecord record_of(const Device& d, CertificateState state) {
  CertificateRecord c;
  c.serial = d.lsc_serial;
  c.device = d.name;
  c.issuer = d.lsc_issuer;
  c.key = "RSA-2048";
  c.not_after = d.lsc_not_after;
  c.issued_at = d.lsc_not_after - kDay * 5 * 365;
  c.delivered_at = c.issued_at;
  c.state = state;
  return c;
}

/// The CSR an external CA answered with this LSC.
CsrRecord csr_of(const Device& d, std::size_t i, IssuerKind issuer) {
  CsrRecord r;
  r.id = hex_id("c5", i, 62);
  r.device = d.name;
  r.issuer = issuer;
  r.key = "RSA-2048";
  r.created_at = r.updated_at = d.lsc_not_after - kDay * 5 * 365;
  r.state = CsrState::delivered;
  r.ca = issuer == IssuerKind::online_ca ? "adcs" : "";
  r.serial = d.lsc_serial;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// Medians of `fn` over `runs` runs: wall and CPU milliseconds.
template <class F>
Timing time_ms(std::size_t runs, F fn) {
  std::vector<double> wall, cpu;
  for (std::size_t r = 0; r < runs; ++r) {
    const double start = now_seconds(), start_cpu = thread_cpu_seconds();
    fn();
    wall.push_back((now_seconds() - start) * 1000);
    cpu.push_back((thread_cpu_seconds() - start_cpu) * 1000);
  }
  return {median(wall), median(cpu)};
}

/// One request as the dashboard makes it: handled, and its JSON written out.
nlohmann::json ask(admin::AdminService& service, const std::string& target) {
  auto r = service.handle(admin::Request{"GET", target, "", "bench"});
  if (r.status != 200) throw std::runtime_error(target + ": " + r.body.dump());
  const std::string text = r.body.dump();
  if (text.empty()) throw std::runtime_error(target + ": empty answer");
  return r.body;
}

PagingLine time_query(admin::AdminService& service, const std::string& what, const std::string& where,
                      const std::string& sort, std::size_t page_size, std::size_t runs) {
  const std::string base =
      "/v1/phones?where=" + admin::url_encode(where) + "&page_size=" + std::to_string(page_size) + "&sort=" + sort;
  PagingLine line;
  line.what = what;
  nlohmann::json first;
  line.first = time_ms(runs, [&] { first = ask(service, base); });
  line.matched = first["matched"].get<std::size_t>();
  if (first["next"].is_string()) {
    const std::string next = base + "&count=0&after=" + admin::url_encode(first["next"].get<std::string>());
    line.next = time_ms(runs, [&] { ask(service, next); });
  }
  return line;
}

}  // namespace

PlantedFleet plant_fleet(const std::string& data_dir, std::size_t devices, std::int64_t now) {
  PlantedFleet out;
  const double start = now_seconds();
  must(util::make_dirs(data_dir, 0700), "data directory " + data_dir);
  auto ca = must(crypto::CertificateAuthority::load_or_create(data_dir + "/ca", crypto::CaOptions{}), "CAPF CA");
  out.ca_subject = ca.certificate().subject();
  out.retired_subject = kRetired;
  out.online_subject = kOnline;
  out.offline_subject = kOffline;
  auto store = must(store::Store::open(data_dir + "/store"), "store");
  store::DeviceBatch batch;
  store::Transition t;
  for (std::size_t i = 0; i < devices; ++i) {
    const Device d = planted_device(i, now, out.ca_subject);
    must(batch.add(d), d.name);
    if (d.lsc_serial.empty()) continue;
    const bool revoked = i % 500 == 5;
    t.put_certificates.push_back(record_of(d, revoked ? CertificateState::revoked : CertificateState::delivered));
    if (revoked)
      t.put_meta.emplace_back(std::string(kRevocationMetaPrefix) + d.lsc_serial, R"({"reason":"keyCompromise"})");
    if (i % 1000 == 7) {
      Device newer = d;
      newer.lsc_serial = hex_id("57", i, 8);
      t.put_certificates.push_back(record_of(newer, CertificateState::stale));
    }
    if (i % 10 == 3 || i % 10 == 4) {
      const auto csr = csr_of(d, i, i % 10 == 3 ? IssuerKind::online_ca : IssuerKind::offline_ca);
      t.put_docs.push_back({store::Family::csrs, csr.id, encode_csr(csr)});
      t.put_docs.push_back({store::Family::csr_by_device, d.name, csr.id});
    }
  }
  t.put_meta.emplace_back("retired_ca_subjects", nlohmann::json::array({kRetired}).dump());
  t.audit.push_back({now, "bench", "bench.plant", data_dir, std::to_string(devices) + " planted phones"});
  must(store->apply(batch, t), "planting " + std::to_string(devices) + " phones");
  out.devices = devices;
  out.seconds = now_seconds() - start;
  return out;
}

PagingResult bench_paging(std::size_t devices, std::size_t runs, const std::string& data_dir) {
  std::optional<TempDir> tmp;
  if (data_dir.empty()) tmp.emplace();
  const std::string dir = data_dir.empty() ? tmp->path() : data_dir;
  util::SystemClock clock;
  PagingResult r;
  r.runs = runs = std::max<std::size_t>(1, runs);
  r.fleet = plant_fleet(dir, devices, clock.now());
  auto store = must(store::Store::open(dir + "/store"), "store");
  admin::AdminService service(*store, admin::CaInfo{}, clock);
  r.scan = time_ms(runs, [&] {
    std::size_t n = 0;
    must(store->for_each_device([&](const Device&) { return ++n > 0; }), "scan");
  });
  r.unpaged = time_ms(runs, [&] { ask(service, "/v1/phones?where=&limit=500"); });
  r.lines.push_back(time_query(service, "every device, by name", "", "name", r.page_size, runs));
  r.lines.push_back(time_query(service, "DP-07, by name", "device_pool = DP-07", "name", r.page_size, runs));
  r.lines.push_back(time_query(service, "valid LSCs expiring within 180 days, by name",
                               "lsc_status = valid AND lsc_expires < now+180d", "name", r.page_size, runs));
  r.lines.push_back(time_query(service, "every device, by LSC expiry", "", "lsc_expires", r.page_size, runs));
  for (const auto& l : r.lines)
    if (l.first.wall_ms > r.worst_first.wall_ms) r.worst_first = l.first;
  return r;
}

}  // namespace capf::bench
