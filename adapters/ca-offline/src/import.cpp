// Offline CA import: certificates signed by the other team's CA come back, are matched to
// their CSRs by public key, checked, and recorded for delivery on the phones' next sessions.
#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "capf/ca_offline/offline.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/lsc_rule.hpp"
#include "capf/store/csr_ledger.hpp"
#include "capf/util/parallel.hpp"
#include "capf/util/text.hpp"

namespace capf::offline {

namespace {

// Every Offline CA CSR, indexed once by public key and by device: the import then costs one
// hash lookup per certificate, whatever the number of CSRs.
struct CsrTable {
  std::vector<CsrRecord> csrs;
  std::unordered_map<std::string, std::vector<std::size_t>> by_key;
  std::unordered_map<std::string, std::size_t> pending_by_device;
};

Result<CsrTable> load_csrs(const store::Store& store) {
  CsrTable t;
  auto r = store::CsrLedger(store).for_each([&](const CsrRecord& csr) {
    if (csr.issuer != IssuerKind::offline_ca) return true;
    const std::size_t i = t.csrs.size();
    t.by_key[csr.spki_sha256].push_back(i);
    if (csr.state == CsrState::pending) {
      // Two pending CSRs of one device should not exist (the newer makes the older stale);
      // if they do, the newer one is the one to name.
      auto [it, inserted] = t.pending_by_device.emplace(csr.device, i);
      if (!inserted && t.csrs[it->second].created_at <= csr.created_at) it->second = i;
    }
    t.csrs.push_back(csr);
    return true;
  });
  if (!r) return r.error();
  return t;
}

// One end-entity certificate and what can be known about it without its CSR.
struct Leaf {
  std::size_t file = 0;
  std::string subject, serial, cn, issuer, key, spki_sha256, der_hex;
  util::UnixTime not_after = 0;
  std::string problem;  // validity, key usage or chain; "" when none
  crypto::Certificate cert;
};

struct ParsedFile {
  std::string error;          // the file could not be used at all
  std::string first_subject;  // for "only CA certificates"
  std::vector<crypto::Certificate> intermediates;
  std::vector<Leaf> leaves;
};

ParsedFile parse_file(const InputFile& file) {
  ParsedFile out;
  auto certs = crypto::certificates_from_bytes(file.data);
  if (!certs) {
    out.error = certs.error().message;
    return out;
  }
  for (auto& c : *certs) {
    if (c.is_ca()) {
      out.intermediates.push_back(c);
      continue;
    }
    Leaf leaf;
    leaf.cert = std::move(c);
    out.leaves.push_back(std::move(leaf));
  }
  if (out.leaves.empty()) {
    out.first_subject = (*certs)[0].subject();
    out.error = "the file holds only CA certificates, no phone certificate";
  }
  return out;
}

void examine(Leaf& leaf, const std::vector<crypto::Certificate>& intermediates, const crypto::TrustStore& trust,
             util::UnixTime now) {
  const crypto::Certificate& c = leaf.cert;
  leaf.subject = c.subject();
  leaf.serial = c.serial_hex();
  leaf.cn = c.subject_cn();
  leaf.issuer = c.issuer();
  leaf.key = to_string(c.key_spec());
  leaf.spki_sha256 = crypto::sha256_hex(c.public_key_der());
  leaf.der_hex = util::to_hex(c.to_der());
  leaf.not_after = c.not_after();
  // The acceptance rule's part that needs no CSR; its other part runs when the leaf is matched.
  if (auto rule = crypto::check_ca_lsc(c, trust, intermediates, now); !rule) leaf.problem = rule.error().message;
  leaf.cert = {};  // the facts are kept; the parsed certificate is not needed any more
}

// Files a directory walk passes over: an export round's own CSRs and manifests, notes.
bool skipped_in_directories(const std::string& name) {
  for (const char* suffix : {".csr", ".csr.pem", ".csv", ".json", ".txt", ".md"}) {
    const std::string s = suffix;
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) return true;
  }
  return !name.empty() && name[0] == '.';
}

/// Parses every file and makes the checks that need no CSR (OpenSSL 3 spends ~0.3 ms decoding a
/// certificate and more verifying it) on every core; the matching after is one hash lookup each.
std::vector<ParsedFile> parse_all(const std::vector<InputFile>& files, const crypto::TrustStore& capf_trust,
                                  util::UnixTime now) {
  std::vector<ParsedFile> parsed(files.size());
  util::parallel_for(files.size(), [&](std::size_t i) { parsed[i] = parse_file(files[i]); });
  std::vector<Leaf*> all_leaves;
  for (std::size_t f = 0; f < parsed.size(); ++f)
    for (auto& leaf : parsed[f].leaves) {
      leaf.file = f;
      all_leaves.push_back(&leaf);
    }
  util::parallel_for(all_leaves.size(), [&](std::size_t i) {
    Leaf& leaf = *all_leaves[i];
    examine(leaf, parsed[leaf.file].intermediates, capf_trust, now);
  });
  return parsed;
}

/// Why no pending CSR can take a certificate whose key only CSRs in other states have.
std::string not_pending(const CsrRecord& other) {
  std::string why = "the CSR of " + other.device + " with this key is " + std::string(to_string(other.state));
  if (other.state == CsrState::issued || other.state == CsrState::delivered)
    why += ": it was already answered by certificate " + other.serial;
  else if (other.state == CsrState::stale)
    why += ": the device made a newer CSR since";
  return why;
}

/// One import run: the CSR table as read at its start, the certificates it accepts, and the
/// report it builds.
class Import {
 public:
  Import(store::Store& store, CsrTable table, const std::string& actor, util::UnixTime now)
      : store_(store), table_(std::move(table)), csrs_(table_.csrs), actor_(actor), now_(now) {}

  /// Matches each parsed leaf to its pending CSR and checks it; a failure is reported for
  /// its file and noted on the CSR it names.
  Result<void> match(const std::vector<InputFile>& files, std::vector<ParsedFile>& parsed) {
    for (std::size_t f = 0; f < files.size(); ++f) {
      if (!parsed[f].error.empty()) {
        fail(files[f].name, parsed[f].first_subject, parsed[f].error, std::nullopt);
        continue;
      }
      for (Leaf& leaf : parsed[f].leaves)
        if (auto r = match_leaf(files[f].name, leaf); !r) return r;
    }
    return ok();
  }

  /// Stores the accepted certificates `batch` at a time, each batch one transition:
  /// certificate, CSR, audit entry. Each batch claims its devices and moves their CSRs as they
  /// are now: a phone's session may have made a newer CSR since the table was read.
  Result<void> store_accepted(std::size_t batch) {
    for (std::size_t start = 0; start < accepted_.size(); start += batch)
      if (auto r = store_batch(start, std::min(accepted_.size(), start + batch)); !r) return r;
    return ok();
  }

  /// The reasons on the CSRs still pending, and the audit entry of the whole import.
  Result<ImportReport> finish(std::size_t files) {
    store::Transition last;
    std::vector<std::string> errored_devices;
    for (std::size_t i : errored_) errored_devices.push_back(csrs_[i].device);
    auto claims = store_.claims().claim_all(std::move(errored_devices));
    for (std::size_t i : errored_) {
      auto current = ledger_.get(csrs_[i].id);
      if (current && current->has_value() && (*current)->state == CsrState::pending)
        store::CsrLedger::note(csrs_[i], last);
    }
    last.audit.push_back({now_, actor_, "offline.import", std::to_string(files) + " files",
                          "imported " + std::to_string(report_.imported) + ", already imported " +
                              std::to_string(report_.already) + ", failed " + std::to_string(report_.failed)});
    if (auto r = store_.apply(last); !r) return r.error();
    return std::move(report_);
  }

 private:
  struct Accepted {
    std::size_t csr = 0;  // index into the CSR table
    CertificateRecord record;
    std::string file;
  };

  void fail(const std::string& file, const std::string& subject, std::string reason, std::optional<std::size_t> csr) {
    ++report_.failed;
    if (csr && csrs_[*csr].state == CsrState::pending) {
      csrs_[*csr].error = "certificate " + file + ": " + reason;
      csrs_[*csr].updated_at = now_;
      errored_.insert(*csr);
    }
    report_.problems.push_back({file, subject, std::move(reason)});
  }

  /// The newest pending CSR among `candidates`, if any.
  std::optional<std::size_t> newest_pending(const std::vector<std::size_t>& candidates) const {
    std::optional<std::size_t> pending;
    for (std::size_t i : candidates)
      if (csrs_[i].state == CsrState::pending && (!pending || csrs_[*pending].created_at <= csrs_[i].created_at))
        pending = i;
    return pending;
  }

  Result<void> match_leaf(const std::string& file, Leaf& leaf) {
    const std::string& subject = leaf.subject;
    const std::string& serial = leaf.serial;
    auto found = table_.by_key.find(leaf.spki_sha256);
    if (found == table_.by_key.end()) {
      auto same_device = table_.pending_by_device.find(leaf.cn);
      if (same_device != table_.pending_by_device.end())
        fail(file, subject, "its public key is not the key of " + leaf.cn + "'s pending CSR", same_device->second);
      else
        fail(file, subject, "no pending CSR has this certificate's public key", std::nullopt);
      return ok();
    }
    const auto& candidates = found->second;
    // The same certificate imported before (or twice in this run) is harmless.
    const bool again = std::any_of(candidates.begin(), candidates.end(), [&](std::size_t i) {
      return (csrs_[i].state == CsrState::issued || csrs_[i].state == CsrState::delivered) && csrs_[i].serial == serial;
    });
    if (again) {
      ++report_.already;
      return ok();
    }
    const std::optional<std::size_t> pending = newest_pending(candidates);
    if (!pending) {
      fail(file, subject, not_pending(csrs_[candidates.front()]), std::nullopt);
      return ok();
    }
    CsrRecord& csr = csrs_[*pending];
    if (auto answers = crypto::check_lsc_answers({leaf.cn, leaf.spki_sha256}, csr.spki_sha256, csr.device); !answers) {
      fail(file, subject, answers.error().message, pending);
      return ok();
    }
    if (!leaf.problem.empty()) {
      fail(file, subject, leaf.problem, pending);
      return ok();
    }
    auto existing = store_.get_certificate(serial);
    if (!existing) return existing.error();
    if (*existing || serials_now_.count(serial)) {
      fail(file, subject,
           "serial " + serial + " is already used by another certificate" +
               (*existing ? " (of " + (*existing)->device + ")" : ""),
           pending);
      return ok();
    }
    accept(file, leaf, *pending);
    return ok();
  }

  /// Records `leaf` as the answer to CSR `i`.
  void accept(const std::string& file, Leaf& leaf, std::size_t i) {
    CsrRecord& csr = csrs_[i];
    serials_now_.insert(leaf.serial);
    CertificateRecord rec;
    rec.serial = leaf.serial;
    rec.device = csr.device;
    rec.issuer = leaf.issuer;
    rec.key = leaf.key;
    rec.issued_at = now_;
    rec.not_after = leaf.not_after;
    rec.state = CertificateState::issued;
    rec.der_hex = std::move(leaf.der_hex);
    // Answered in this run's table, so a second copy of the certificate counts as already
    // imported; the batch moves the CSR as it is stored then.
    csr.state = CsrState::issued;
    csr.serial = leaf.serial;
    csr.error.clear();
    csr.error_class = CaErrorClass::none;
    errored_.erase(i);
    accepted_.push_back({i, std::move(rec), file});
  }

  Result<void> store_batch(std::size_t start, std::size_t end) {
    store::Transition t;
    std::vector<std::string> devices;
    for (std::size_t i = start; i < end; ++i) devices.push_back(csrs_[accepted_[i].csr].device);
    auto claims = store_.claims().claim_all(std::move(devices));
    std::vector<std::size_t> written;
    for (std::size_t i = start; i < end; ++i) {
      const auto& a = accepted_[i];
      CsrRecord csr = csrs_[a.csr];
      auto current = ledger_.get(csr.id);
      if (!current) return current.error();
      csr.state = current->has_value() ? (*current)->state : CsrState::stale;
      if (auto moved = store::CsrLedger::move(csr, CsrEvent::issued, now_, t); !moved) {
        ++report_.failed;
        report_.problems.push_back({a.file, csr.device, "its CSR changed during the import: " + moved.error().message});
        continue;
      }
      t.put_certificates.push_back(a.record);
      t.audit.push_back({now_, actor_, "offline.imported", csr.device,
                         "serial " + a.record.serial + " from " + a.file +
                             (csr.round ? " (round " + std::to_string(csr.round) + ")" : "")});
      written.push_back(i);
    }
    if (auto r = store_.apply(t); !r)
      return make_error(r.error().code, r.error().message + " (after " + std::to_string(report_.imported) +
                                            " certificates were imported; importing the files again is harmless)");
    for (std::size_t i : written) {
      report_.devices.push_back(accepted_[i].record.device);
      report_.issued.emplace_back(accepted_[i].record.device, accepted_[i].record.serial);
    }
    report_.imported += written.size();
    return ok();
  }

  store::Store& store_;
  store::CsrLedger ledger_{store_};
  CsrTable table_;
  std::vector<CsrRecord>& csrs_;
  const std::string& actor_;
  util::UnixTime now_;
  ImportReport report_;
  std::vector<Accepted> accepted_;
  std::unordered_set<std::size_t> errored_;  // CSRs that got a new error text
  std::unordered_set<std::string> serials_now_;
};

}  // namespace

Result<ImportReport> import_certificates(store::Store& store, const crypto::TrustStore& capf_trust,
                                         const std::vector<InputFile>& files, const std::string& actor,
                                         util::UnixTime now, std::size_t batch) {
  if (batch == 0) batch = 1;
  auto table = load_csrs(store);
  if (!table) return table.error();
  Import import(store, std::move(*table), actor, now);
  std::vector<ParsedFile> parsed = parse_all(files, capf_trust, now);
  if (auto r = import.match(files, parsed); !r) return r.error();
  if (auto r = import.store_accepted(batch); !r) return r.error();
  return import.finish(files.size());
}

Result<std::vector<std::string>> expand_paths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    const auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) return make_error(Errc::not_found, p + ": no such file or directory");
    if (!fs::is_directory(status)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::follow_directory_symlink, ec), end;
    if (ec) return make_error(Errc::io, p + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return make_error(Errc::io, p + ": " + ec.message());
      if (it->is_regular_file(ec) && !skipped_in_directories(it->path().filename().string()))
        found.push_back(it->path().string());
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace capf::offline
