// CAPF CA regeneration, phones on a retired CA, revocation and CRLs.
#include "capf/monitor/ca_admin.hpp"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "capf/util/files.hpp"
#include "capf/util/text.hpp"

namespace capf::monitor {

namespace {

// Revocations and CRL re-signing are read-modify-write of one CRL number: one at a time.
std::mutex& crl_mutex() {
  static std::mutex m;
  return m;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string escape_query_value(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<std::optional<CrlState>> stored_crl(const store::Store& store, const std::string& ca_serial) {
  auto meta = store.get_meta(kCrlKeyPrefix + ca_serial);
  if (!meta) return meta.error();
  if (!meta->has_value()) return std::optional<CrlState>{};
  auto j = nlohmann::json::parse(**meta, nullptr, false);
  if (!j.is_object()) return make_error(Errc::io, "stored CRL of CA " + ca_serial + " is not JSON");
  CrlState s;
  s.ca_serial = ca_serial;
  s.issuer = j.value("issuer", "");
  s.number = j.value("number", std::uint64_t{0});
  s.this_update = j.value("this_update", util::UnixTime{0});
  s.next_update = j.value("next_update", util::UnixTime{0});
  s.revoked = j.value("revoked", std::size_t{0});
  auto der = util::from_hex(j.value("der_hex", ""));
  if (!der) return make_error(Errc::io, "stored CRL of CA " + ca_serial + " has bad DER hex");
  s.der = std::move(*der);
  return std::optional<CrlState>{std::move(s)};
}

/// Signs the next CRL of `ca` over every revoked record it issued (plus `extra`, the record
/// being revoked now, not yet in the store) and adds it to `t`.
Result<CrlState> next_crl(const store::Store& store, const crypto::CertificateAuthority& ca,
                          const std::vector<std::pair<CertificateRecord, crypto::RevokedEntry>>& extra,
                          util::UnixTime now, store::Transition& t) {
  const std::string ca_serial = ca.certificate().serial_hex();
  const std::string issuer = ca.certificate().subject();
  auto previous = stored_crl(store, ca_serial);
  if (!previous) return previous.error();
  std::vector<crypto::RevokedEntry> entries;
  auto scan = store.for_each_certificate([&](const CertificateRecord& c) {
    if (c.state != CertificateState::revoked || c.issuer != issuer) return true;
    crypto::RevokedEntry e{c.serial, now, crypto::RevocationReason::unspecified};
    if (auto meta = store.get_meta(std::string(kRevocationMetaPrefix) + c.serial); meta && meta->has_value()) {
      auto j = nlohmann::json::parse(**meta, nullptr, false);
      if (j.is_object()) {
        e.revoked_at = j.value("time", now);
        e.reason =
            crypto::parse_revocation_reason(j.value("reason", "")).value_or(crypto::RevocationReason::unspecified);
      }
    }
    entries.push_back(e);
    return true;
  });
  if (!scan) return scan.error();
  for (const auto& [rec, e] : extra)
    if (rec.issuer == issuer) entries.push_back(e);
  CrlState s;
  s.ca_serial = ca_serial;
  s.issuer = issuer;
  s.number = (*previous ? (*previous)->number : 0) + 1;
  s.this_update = now;
  s.next_update = now + kCrlValiditySeconds;
  s.revoked = entries.size();
  auto der = crypto::make_crl(ca, entries, s.number, s.this_update, s.next_update);
  if (!der) return der.error();
  s.der = std::move(*der);
  nlohmann::json j{{"issuer", issuer},
                   {"number", s.number},
                   {"this_update", s.this_update},
                   {"next_update", s.next_update},
                   {"revoked", s.revoked},
                   {"der_hex", util::to_hex(s.der)}};
  t.put_meta.emplace_back(kCrlKeyPrefix + ca_serial, j.dump());
  return s;
}

}  // namespace

Result<std::vector<std::string>> retired_subjects(const store::Store& store) {
  auto meta = store.get_meta(kRetiredSubjectsKey);
  if (!meta) return meta.error();
  if (!meta->has_value()) return std::vector<std::string>{};
  auto j = nlohmann::json::parse(**meta, nullptr, false);
  if (!j.is_array())
    return make_error(Errc::io, std::string("store meta ") + kRetiredSubjectsKey + " is not a JSON array");
  std::vector<std::string> out;
  for (const auto& s : j)
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

Result<KeySpec> parse_ca_key(const std::string& text) {
  std::string t = lower(text);
  std::string compact;
  for (char c : t)
    if (c != '-' && c != '_') compact += c;
  if (compact == "rsa2048") return KeySpec{KeyAlgorithm::rsa, 2048, EcCurve::p256};
  if (compact == "rsa3072") return KeySpec{KeyAlgorithm::rsa, 3072, EcCurve::p256};
  if (compact == "rsa4096") return KeySpec{KeyAlgorithm::rsa, 4096, EcCurve::p256};
  if (compact == "ecp256" || compact == "p256") return KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
  if (compact == "ecp384" || compact == "p384") return KeySpec{KeyAlgorithm::ec, 0, EcCurve::p384};
  return make_error(Errc::invalid_argument,
                    "CAPF CA key must be rsa-2048, rsa-3072, rsa-4096, ec-p256 or ec-p384, got \"" + text + "\"");
}

Result<RegenerateResult> regenerate(store::Store& store, const std::string& ca_dir, const KeySpec& key,
                                    const std::string& actor, const util::Clock& clock) {
  auto subjects = retired_subjects(store);
  if (!subjects) return subjects.error();
  crypto::CaOptions options;
  options.key = key;
  auto done = crypto::regenerate_ca(ca_dir, options);
  if (!done) return done.error();
  const auto& oldc = done->old_ca.certificate();
  const auto& newc = done->new_ca.certificate();
  RegenerateResult r{oldc.subject(),        oldc.serial_hex(),          newc.subject(),
                     newc.serial_hex(),     to_string(newc.key_spec()), util::format_iso8601(newc.not_after()),
                     done->retired_pem_path};
  if (std::find(subjects->begin(), subjects->end(), r.old_subject) == subjects->end())
    subjects->push_back(r.old_subject);
  store::Transition t;
  t.put_meta.emplace_back(kRetiredSubjectsKey, nlohmann::json(*subjects).dump());
  // The new CA starts with an empty CRL, so `capf crl export` has one to give at once.
  if (auto crl = next_crl(store, done->new_ca, {}, clock.now(), t); !crl) return crl.error();
  t.audit.push_back(AuditEntry{
      clock.now(), actor, "ca.regenerated", r.new_serial,
      "new " + r.new_subject + " (" + r.new_key + "); retired " + r.old_subject + " serial " + r.old_serial});
  if (auto w = store.apply(t); !w)
    return make_error(w.error().code, "the new CA is on disk but recording it failed: " + w.error().message);
  return r;
}

Result<std::vector<Device>> phones_on_old(const store::Store& store) {
  auto subjects = retired_subjects(store);
  if (!subjects) return subjects.error();
  std::vector<Device> out;
  if (subjects->empty()) return out;
  auto scan = store.for_each_device([&](const Device& d) {
    if (!d.lsc_serial.empty() && std::find(subjects->begin(), subjects->end(), d.lsc_issuer) != subjects->end())
      out.push_back(d);
    return true;
  });
  if (!scan) return scan.error();
  return out;
}

std::string phones_on_old_query(const std::vector<std::string>& subjects) {
  if (subjects.empty()) return "";
  std::string q = "lsc_issuer in (";
  for (std::size_t i = 0; i < subjects.size(); ++i) q += (i ? ", " : "") + escape_query_value(subjects[i]);
  return q + ")";
}

Result<crypto::CertificateAuthority> signer_for(const std::string& ca_dir, const std::string& issuer_subject) {
  auto current = crypto::load_ca(ca_dir);
  if (!current) return current.error();
  if (current->certificate().subject() == issuer_subject) return current;
  auto retired = crypto::retired_cas(ca_dir);
  if (!retired) return retired.error();
  for (const auto& r : *retired) {
    if (r.certificate.subject() != issuer_subject) continue;
    const std::string key_path = r.pem_path.substr(0, r.pem_path.size() - 4) + ".key";
    auto pem = util::read_file(r.pem_path);
    auto key = util::read_file(key_path);
    if (!pem || !key)
      return make_error(Errc::not_found, "the key of retired CA " + issuer_subject + " (" + key_path + ") is gone");
    return crypto::CertificateAuthority::from_pem(*pem, *key);
  }
  return make_error(Errc::not_found, "no CAPF CA, current or retired, has the subject " + issuer_subject);
}

namespace {

/// Revokes `records` (all issued by `ca`) in one transition with the CA's next CRL: each record
/// goes `revoked`, its reason and time to meta, an `lsc.revoked` audit entry. The caller holds
/// crl_mutex().
Result<CrlState> revoke_records(store::Store& store, const crypto::CertificateAuthority& ca,
                                std::vector<CertificateRecord>& records, crypto::RevocationReason reason,
                                const std::string& actor, util::UnixTime now, const std::string& why) {
  store::Transition t;
  std::vector<std::pair<CertificateRecord, crypto::RevokedEntry>> extra;
  std::vector<std::string> was;
  for (auto& rec : records) {
    was.emplace_back(to_string(rec.state));
    rec.state = CertificateState::revoked;
    t.put_certificates.push_back(rec);
    nlohmann::json meta{
        {"reason", std::string(crypto::to_string(reason))}, {"time", now}, {"actor", actor}, {"was", was.back()}};
    t.put_meta.emplace_back(std::string(kRevocationMetaPrefix) + rec.serial, meta.dump());
    extra.emplace_back(rec, crypto::RevokedEntry{rec.serial, now, reason});
  }
  auto crl = next_crl(store, ca, extra, now, t);
  if (!crl) return crl.error();
  for (std::size_t i = 0; i < records.size(); ++i)
    t.audit.push_back(AuditEntry{now, actor, "lsc.revoked", records[i].serial,
                                 "device " + records[i].device + ", reason " + std::string(crypto::to_string(reason)) +
                                     ", was " + was[i] + ", CRL " + std::to_string(crl->number) + why});
  if (auto w = store.apply(t); !w) return w.error();
  return crl;
}

}  // namespace

Result<RevokeResult> revoke(store::Store& store, const std::string& ca_dir, const std::string& serial_in,
                            crypto::RevocationReason reason, const std::string& actor, const util::Clock& clock) {
  const std::string serial = lower(serial_in);
  std::lock_guard lock(crl_mutex());
  auto found = store.get_certificate(serial);
  if (!found) return found.error();
  if (!found->has_value())
    return make_error(Errc::not_found, "no LSC with serial " + serial + " (see `capf phone show NAME`)");
  // The record belongs to its device: a session delivering or replacing it meanwhile writes
  // before this read or after this write.
  auto claim = store.claims().claim((*found)->device);
  found = store.get_certificate(serial);
  if (!found) return found.error();
  if (!found->has_value())
    return make_error(Errc::not_found, "no LSC with serial " + serial + " (see `capf phone show NAME`)");
  std::vector<CertificateRecord> records{**found};
  if (records[0].state == CertificateState::revoked)
    return make_error(Errc::already_exists, "LSC " + serial + " is already revoked");
  auto ca = signer_for(ca_dir, records[0].issuer);
  if (!ca) return make_error(ca.error().code, "cannot sign a CRL for LSC " + serial + ": " + ca.error().message);
  auto crl = revoke_records(store, *ca, records, reason, actor, clock.now(), "");
  if (!crl) return crl.error();
  return RevokeResult{records[0], std::move(*crl)};
}

Result<ExpiredRevocations> revoke_expired(store::Store& store, const std::string& ca_dir, const std::string& actor,
                                          util::UnixTime now) {
  std::lock_guard lock(crl_mutex());
  std::map<std::string, std::vector<CertificateRecord>> by_issuer;
  auto scan = store.for_each_certificate([&](const CertificateRecord& c) {
    if (c.state == CertificateState::delivered && c.not_after <= now) by_issuer[c.issuer].push_back(c);
    return true;
  });
  if (!scan) return scan.error();
  ExpiredRevocations out;
  for (auto& [issuer, found] : by_issuer) {
    // Each record belongs to its device: claim them all (in one order), then revoke what is
    // still delivered and expired as read now.
    std::vector<std::string> devices;
    for (const auto& c : found) devices.push_back(c.device);
    auto claims = store.claims().claim_all(std::move(devices));
    std::vector<CertificateRecord> records;
    for (const auto& c : found) {
      auto current = store.get_certificate(c.serial);
      if (!current) return current.error();
      if (current->has_value() && (*current)->state == CertificateState::delivered && (*current)->not_after <= now)
        records.push_back(**current);
    }
    if (records.empty()) continue;
    auto ca = signer_for(ca_dir, issuer);
    if (!ca) {
      out.errors.push_back("cannot revoke " + std::to_string(records.size()) + " expired LSCs of " + issuer + ": " +
                           ca.error().message);
      continue;
    }
    auto crl = revoke_records(store, *ca, records, crypto::RevocationReason::cessation_of_operation, actor, now,
                              ", expired (revoke-expired-lscs)");
    if (!crl) {
      out.errors.push_back("revoking the expired LSCs of " + issuer + ": " + crl.error().message);
      continue;
    }
    out.revoked.insert(out.revoked.end(), records.begin(), records.end());
  }
  return out;
}

Result<CrlState> crl_of(store::Store& store, const std::string& ca_dir, const std::string& ca_serial, bool refresh,
                        const util::Clock& clock) {
  std::lock_guard lock(crl_mutex());
  std::optional<crypto::CertificateAuthority> ca;
  if (ca_serial.empty()) {
    auto current = crypto::load_ca(ca_dir);
    if (!current) return current.error();
    ca = std::move(*current);
  } else if (auto current = crypto::load_ca(ca_dir);
             current && current->certificate().serial_hex() == lower(ca_serial)) {
    ca = std::move(*current);  // the current CA named by its serial
  } else {
    auto retired = crypto::retired_cas(ca_dir);
    if (!retired) return retired.error();
    for (const auto& r : *retired)
      if (r.certificate.serial_hex() == lower(ca_serial)) {
        auto signer = signer_for(ca_dir, r.certificate.subject());
        if (!signer) return signer.error();
        ca = std::move(*signer);
      }
    if (!ca)
      return make_error(Errc::not_found, "no retired CAPF CA with serial " + ca_serial + " (see `capf ca retired`)");
  }
  const auto now = clock.now();
  auto stored = stored_crl(store, ca->certificate().serial_hex());
  if (!stored) return stored.error();
  if (*stored && (!refresh || (*stored)->next_update - now > kCrlValiditySeconds / 2)) return **stored;
  store::Transition t;
  auto crl = next_crl(store, *ca, {}, now, t);
  if (!crl) return crl.error();
  t.audit.push_back(
      AuditEntry{now, "capf", "crl.signed", crl->ca_serial,
                 "CRL " + std::to_string(crl->number) + ", " + std::to_string(crl->revoked) + " revoked"});
  if (auto w = store.apply(t); !w) return w.error();
  return crl;
}

}  // namespace capf::monitor
