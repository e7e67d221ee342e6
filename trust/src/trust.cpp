// CAPF-trust and CallManager-trust entries: upload, list, delete, MIC roots, and the trust
// store the daemon verifies against.
#include "capf/trust/trust.hpp"

#include <algorithm>
#include <tuple>
#include <nlohmann/json.hpp>

#include "capf/crypto/bundle.hpp"
#include "capf/util/text.hpp"

namespace capf::trust {

namespace {

constexpr const char* kMicSeededPrefix = "trust.mic_root_seeded.";

Entry entry_of(const crypto::Certificate& c, Kind kind, const std::string& description, const std::string& actor,
               util::UnixTime now, Origin origin) {
  Entry e;
  e.fingerprint = c.sha256_fingerprint();
  e.id = e.fingerprint.substr(0, 16);
  e.store = kind;
  e.subject = c.subject();
  e.issuer = c.issuer();
  e.serial = c.serial_hex();
  e.not_before = c.not_before();
  e.not_after = c.not_after();
  e.ca = c.is_ca();
  e.description = description;
  e.pem = c.to_pem();
  e.added_at = now;
  e.added_by = actor;
  e.origin = origin;
  return e;
}

Error refuse(const crypto::Certificate& c, const std::string& why) {
  return make_error(Errc::invalid_argument, "refused " + c.subject() + ": " + why + "; nothing was uploaded");
}

}  // namespace

std::string_view to_string(Kind k) { return k == Kind::capf_trust ? "CAPF-trust" : "CallManager-trust"; }

std::optional<Kind> parse_kind(std::string_view text) {
  const std::string t = util::to_lower(util::trim(text));
  if (t == "capf-trust" || t == "capf") return Kind::capf_trust;
  if (t == "callmanager-trust" || t == "callmanager") return Kind::callmanager_trust;
  return std::nullopt;
}

std::string_view to_string(Origin o) { return o == Origin::upload ? "upload" : "mic-root"; }

std::string entry_key(Kind k, const std::string& fingerprint) { return std::string(to_string(k)) + "/" + fingerprint; }

std::string encode_entry(const Entry& e) {
  nlohmann::json j{{"id", e.id},
                   {"store", std::string(to_string(e.store))},
                   {"subject", e.subject},
                   {"issuer", e.issuer},
                   {"serial", e.serial},
                   {"not_before", e.not_before},
                   {"not_after", e.not_after},
                   {"fingerprint", e.fingerprint},
                   {"ca", e.ca},
                   {"description", e.description},
                   {"pem", e.pem},
                   {"added_at", e.added_at},
                   {"added_by", e.added_by},
                   {"origin", std::string(to_string(e.origin))}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Entry> decode_entry(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "trust entry is not a JSON object");
  Entry e;
  try {
    e.id = j.at("id").get<std::string>();
    auto kind = parse_kind(j.at("store").get<std::string>());
    if (!kind) return make_error(Errc::io, "trust entry " + e.id + " names an unknown store");
    e.store = *kind;
    e.subject = j.at("subject").get<std::string>();
    e.issuer = j.value("issuer", "");
    e.serial = j.value("serial", "");
    e.not_before = j.value("not_before", util::UnixTime{0});
    e.not_after = j.at("not_after").get<util::UnixTime>();
    e.fingerprint = j.at("fingerprint").get<std::string>();
    e.ca = j.value("ca", false);
    e.description = j.value("description", "");
    e.pem = j.at("pem").get<std::string>();
    e.added_at = j.value("added_at", util::UnixTime{0});
    e.added_by = j.value("added_by", "");
    e.origin = j.value("origin", "upload") == "mic-root" ? Origin::mic_root : Origin::upload;
  } catch (const nlohmann::json::exception& ex) {
    return make_error(Errc::io, "trust entry: " + std::string(ex.what()));
  }
  return e;
}

Result<UploadResult> upload(store::Store& store, Kind kind, crypto::ByteView file, const std::string& description,
                            const std::string& actor, util::UnixTime now) {
  auto certs = crypto::certificates_from_bytes(file);
  if (!certs) return make_error(Errc::invalid_argument, certs.error().message);
  // Every certificate is checked before anything is written: a chain goes in whole or not at all.
  for (const auto& c : *certs) {
    if (c.is_ca() && c.subject_cn().find(kReservedCn) != std::string::npos)
      return refuse(c, "the intermediate or root CA certificate must not contain 'CAPF-' in its Common Name; "
                       "the 'CAPF-' common name is reserved for CAPF certificates");
    if (c.not_after() < now) return refuse(c, "it expired on " + util::format_iso8601(c.not_after()));
    if (c.not_before() > now) return refuse(c, "it is not valid before " + util::format_iso8601(c.not_before()));
  }
  UploadResult result;
  store::Transition t;
  for (const auto& c : *certs) {
    const std::string fp = c.sha256_fingerprint();
    auto existing = store.get_doc(store::Family::trust, entry_key(kind, fp));
    if (!existing) return existing.error();
    if (*existing) {
      if (auto e = decode_entry(**existing)) result.already.push_back(std::move(*e));
      continue;
    }
    if (std::any_of(result.added.begin(), result.added.end(), [&](const Entry& e) { return e.fingerprint == fp; }))
      continue;  // the same certificate twice in one file
    // A MIC root the daemon seeded once and an administrator deleted comes back as a MIC root.
    auto seeded = store.get_meta(kMicSeededPrefix + fp);
    if (!seeded) return seeded.error();
    const Origin origin = (*seeded && kind == Kind::capf_trust) ? Origin::mic_root : Origin::upload;
    Entry e = entry_of(c, kind, description, actor, now, origin);
    t.put_docs.push_back({store::Family::trust, entry_key(kind, fp), encode_entry(e)});
    t.audit.push_back({now, actor, "trust.upload", e.subject,
                       std::string(to_string(kind)) + " id " + e.id + (description.empty() ? "" : ": " + description)});
    result.added.push_back(std::move(e));
  }
  if (!t.put_docs.empty()) {
    if (auto r = store.apply(t); !r) return r.error();
  }
  // The seed's advice (configuration guide, "Upload Certificate Scenarios"): the CA root goes to
  // CAPF-trust and CallManager-trust; an Online CA's HTTPS certificate goes to CAPF-trust.
  const Kind other = kind == Kind::capf_trust ? Kind::callmanager_trust : Kind::capf_trust;
  for (const auto& c : *certs) {
    const bool root = c.is_ca() && c.subject() == c.issuer();
    if (root) {
      auto there = store.get_doc(store::Family::trust, entry_key(other, c.sha256_fingerprint()));
      if (there && !*there)
        result.notes.push_back("the CA root " + c.subject() + " belongs in CAPF-trust and CallManager-trust; upload it to " +
                               util::to_lower(to_string(other)) + " too");
    } else if (!c.is_ca() && kind == Kind::callmanager_trust) {
      result.notes.push_back(c.subject() + " is not a CA; an Online CA's HTTPS certificate belongs in CAPF-trust");
    }
  }
  return result;
}

std::optional<SeedMicRoot> seed_mic_root(const Entry& e) {
  static constexpr std::string_view kNames[] = {"CAP-RTP-001", "CAP-RTP-002", "Cisco_Manufacturing_CA", "Cisco_Root_CA_2048"};
  auto cert = crypto::Certificate::from_pem(e.pem);
  if (!cert) return std::nullopt;
  auto folded = [](std::string_view v) {
    std::string out = util::to_lower(util::trim(v));
    std::replace(out.begin(), out.end(), '_', ' ');
    return out;
  };
  const std::string cn = folded(cert->subject_cn());
  for (auto name : kNames) {
    if (folded(name) != cn) continue;
    SeedMicRoot r{std::string(name), ""};
    if (e.store == Kind::callmanager_trust)
      r.advice = "the seed: remove this MIC root from CallManager-trust (phones should use LSCs for TLS to Unified "
                 "CM; MIC roots can be compromised, and phones that use MICs for TLS do so at their own risk)";
    else
      r.advice = "the seed: use MICs for LSC installation only; keep this MIC root in CAPF-trust only while phones "
                 "still authenticate By Existing Certificate (Precedence to MIC), then delete it";
    return r;
  }
  return std::nullopt;
}

Result<std::vector<Entry>> list(const store::Store& store, std::optional<Kind> kind) {
  std::vector<Entry> out;
  Error failure;
  bool failed = false;
  for (Kind k : {Kind::capf_trust, Kind::callmanager_trust}) {
    if (kind && *kind != k) continue;
    const auto before = out.size();
    auto r = store.for_each_doc(store::Family::trust, std::string(to_string(k)) + "/",
                                [&](const std::string& key, const std::string& json) {
                                  auto e = decode_entry(json);
                                  if (!e) {
                                    failure = make_error(Errc::io, "trust entry " + key + ": " + e.error().message);
                                    failed = true;
                                    return false;
                                  }
                                  out.push_back(std::move(*e));
                                  return true;
                                });
    if (!r) return r.error();
    if (failed) return failure;
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(),
              [](const Entry& a, const Entry& b) { return std::tie(a.subject, a.id) < std::tie(b.subject, b.id); });
  }
  return out;
}

Result<Entry> remove(store::Store& store, const std::string& id, std::optional<Kind> kind, const std::string& actor,
                     util::UnixTime now) {
  const std::string wanted = util::to_lower(util::trim(id));
  if (wanted.empty()) return make_error(Errc::invalid_argument, "give the id of a trust entry (see `capf trust list`)");
  auto all = list(store, kind);
  if (!all) return all.error();
  std::vector<Entry> found;
  for (auto& e : *all)
    if (e.id == wanted || e.fingerprint == wanted) found.push_back(std::move(e));
  if (found.empty())
    return make_error(Errc::not_found, "no trust entry " + id + (kind ? " in " + std::string(to_string(*kind)) : ""));
  if (found.size() > 1)
    return make_error(Errc::invalid_argument,
                      "entry " + id + " is in both CAPF-trust and CallManager-trust; name one with --store");
  const Entry& e = found.front();
  store::Transition t;
  t.delete_docs.emplace_back(store::Family::trust, entry_key(e.store, e.fingerprint));
  t.audit.push_back({now, actor, "trust.delete", e.subject,
                     std::string(to_string(e.store)) + " id " + e.id + " (" + std::string(to_string(e.origin)) + ")"});
  if (auto r = store.apply(t); !r) return r.error();
  return e;
}

Result<std::size_t> add_mic_roots(store::Store& store, const std::vector<crypto::Certificate>& roots,
                                  util::UnixTime now) {
  store::Transition t;
  std::vector<std::string> seen;
  for (const auto& c : roots) {
    const std::string fp = c.sha256_fingerprint();
    if (std::find(seen.begin(), seen.end(), fp) != seen.end()) continue;
    seen.push_back(fp);
    auto seeded = store.get_meta(kMicSeededPrefix + fp);
    if (!seeded) return seeded.error();
    if (*seeded) continue;  // added once already; if it is gone, an administrator deleted it
    Entry e = entry_of(c, Kind::capf_trust, "manufacturer (MIC) root from --mic-root", "daemon", now, Origin::mic_root);
    t.put_docs.push_back({store::Family::trust, entry_key(Kind::capf_trust, fp), encode_entry(e)});
    t.put_meta.emplace_back(kMicSeededPrefix + fp, util::format_iso8601(now));
    t.audit.push_back({now, "daemon", "trust.mic-root", e.subject, "CAPF-trust id " + e.id});
  }
  if (t.put_docs.empty()) return std::size_t{0};
  if (auto r = store.apply(t); !r) return r.error();
  return t.put_docs.size();
}

Result<std::vector<crypto::Certificate>> certificates(const store::Store& store, Kind kind) {
  auto entries = list(store, kind);
  if (!entries) return entries.error();
  std::vector<crypto::Certificate> out;
  for (const auto& e : *entries) {
    auto c = crypto::Certificate::from_pem(e.pem);
    if (!c) return make_error(Errc::io, std::string(to_string(kind)) + " entry " + e.id + ": " + c.error().message);
    out.push_back(std::move(*c));
  }
  return out;
}

Result<crypto::TrustStore> capf_trust(const store::Store& store, const crypto::Certificate* capf_ca) {
  auto certs = certificates(store, Kind::capf_trust);
  if (!certs) return certs.error();
  crypto::TrustStore ts;
  if (capf_ca != nullptr) ts.add(*capf_ca);
  for (const auto& c : *certs) ts.add(c);
  return ts;
}

}  // namespace capf::trust
