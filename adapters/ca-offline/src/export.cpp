// Offline CA export rounds: choose the pending CSRs, record the round, write its files.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "capf/ca_offline/offline.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/store/csr_ledger.hpp"
#include "capf/util/files.hpp"
#include "capf/util/text.hpp"

namespace capf::offline {

namespace {

std::string round_key(int number) {
  return fmt::format("{:08}", number);
}

std::string round_dir_name(int number) {
  return fmt::format("round-{:03}", number);
}

// A file name from a device name: letters, digits, '.', '_', '-' kept, anything else '_'.
std::string safe_name(const std::string& device) {
  std::string out;
  for (unsigned char c : device) {
    const bool keep =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out.push_back(keep ? static_cast<char>(c) : '_');
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string encode_round(const Round& r) {
  nlohmann::json j{{"number", r.number},       {"created_at", r.created_at}, {"count", r.count},
                   {"directory", r.directory}, {"again", r.again},           {"actor", r.actor}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Round> decode_round(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "round record is not a JSON object");
  Round r;
  try {
    r.number = j.at("number").get<int>();
    r.created_at = j.at("created_at").get<util::UnixTime>();
    r.count = j.at("count").get<std::size_t>();
    r.directory = j.value("directory", "");
    r.again = j.value("again", false);
    r.actor = j.value("actor", "");
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::io, "round record: " + std::string(e.what()));
  }
  return r;
}

Result<std::vector<Round>> list_rounds(const store::Store& store) {
  std::vector<Round> out;
  std::optional<Error> failure;
  auto r = store.for_each_doc(store::Family::rounds, "", [&](const std::string& key, const std::string& json) {
    auto round = decode_round(json);
    if (!round) {
      failure = make_error(Errc::io, "round " + key + ": " + round.error().message);
      return false;
    }
    out.push_back(std::move(*round));
    return true;
  });
  if (!r) return r.error();
  if (failure) return *failure;
  return out;
}

Result<ExportResult> record_export(store::Store& store, const std::string& out_dir, bool again,
                                   const std::string& actor, util::UnixTime now) {
  std::vector<CsrRecord> chosen;
  auto scan = store::CsrLedger(store).for_each([&](const CsrRecord& csr) {
    if (csr.issuer == IssuerKind::offline_ca && csr.state == CsrState::pending && (again || csr.round == 0))
      chosen.push_back(csr);
    return true;
  });
  if (!scan) return scan.error();
  ExportResult result;
  if (chosen.empty()) return result;
  std::sort(chosen.begin(), chosen.end(), [](const CsrRecord& a, const CsrRecord& b) {
    return std::tie(a.created_at, a.device, a.id) < std::tie(b.created_at, b.device, b.id);
  });

  auto rounds = list_rounds(store);
  if (!rounds) return rounds.error();
  Round& round = result.round;
  round.number = rounds->empty() ? 1 : rounds->back().number + 1;
  round.created_at = now;
  round.count = chosen.size();
  round.directory = out_dir + "/" + round_dir_name(round.number);
  round.again = again;
  round.actor = actor;

  store::Transition t;
  std::set<std::string> names;
  for (auto& csr : chosen) {
    auto der = util::from_hex(csr.csr_der_hex);
    if (!der) return make_error(Errc::io, "CSR " + csr.id + " of " + csr.device + " holds no valid DER");
    ExportedCsr e;
    e.id = csr.id;
    e.device = csr.device;
    e.job = csr.job;
    e.key = csr.key;
    e.created_at = csr.created_at;
    e.file = safe_name(csr.device) + ".csr.pem";
    if (!names.insert(e.file).second) {
      e.file = safe_name(csr.device) + "-" + csr.id.substr(0, 8) + ".csr.pem";
      names.insert(e.file);
    }
    e.pem = crypto::csr_pem(*der);
    csr.round = round.number;
    csr.updated_at = now;
    t.put_docs.push_back({store::Family::csrs, csr.id, encode_csr(csr)});
    result.csrs.push_back(std::move(e));
  }
  t.put_docs.push_back({store::Family::rounds, round_key(round.number), encode_round(round)});
  t.audit.push_back({now, actor, "offline.export", round_dir_name(round.number),
                     std::to_string(round.count) + " CSRs to " + round.directory + (again ? " (again)" : "")});
  if (auto r = store.apply(t); !r) return r.error();
  return result;
}

std::string manifest_csv(const ExportResult& r) {
  std::string out = "device,job,csr_sha256,created_at,key,file\n";
  for (const auto& c : r.csrs)
    out += csv_field(c.device) + "," + csv_field(c.job) + "," + c.id + "," + util::format_iso8601(c.created_at) + "," +
           csv_field(c.key) + "," + csv_field(c.file) + "\n";
  return out;
}

std::string manifest_json(const ExportResult& r) {
  nlohmann::json j{{"round", r.round.number},
                   {"created_at", util::format_iso8601(r.round.created_at)},
                   {"count", r.round.count},
                   {"again", r.round.again},
                   {"csrs", nlohmann::json::array()}};
  for (const auto& c : r.csrs)
    j["csrs"].push_back({{"device", c.device},
                         {"job", c.job},
                         {"csr_sha256", c.id},
                         {"created_at", util::format_iso8601(c.created_at)},
                         {"key", c.key},
                         {"file", c.file}});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<void> write_round_files(const ExportResult& r) {
  const std::string& dir = r.round.directory;
  if (auto made = util::make_dirs(dir, 0755); !made) return made.error();
  for (const auto& c : r.csrs) {
    // Plain writes: a round of 100,000 CSRs must not cost 100,000 fsyncs. The manifests come
    // last and atomically, so their presence means every CSR file is complete.
    const std::string path = dir + "/" + c.file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << c.pem;
    out.close();
    if (!out) return make_error(Errc::io, "cannot write " + path);
  }
  if (auto w = util::write_file_atomic(dir + "/manifest.csv", manifest_csv(r), 0644); !w) return w.error();
  if (auto w = util::write_file_atomic(dir + "/manifest.json", manifest_json(r), 0644); !w) return w.error();
  return ok();
}

}  // namespace capf::offline
