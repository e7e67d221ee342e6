// Offline CA import at scale: N certificates signed by another team's root, one PEM file each,
// imported by capf (matched to pending CSRs by public key, chain and usage checked, recorded)
// against single-core `openssl verify` of the same files.
#include <ctime>
#include <filesystem>
#include <fstream>

#include "capf/bench/bench.hpp"
#include "capf/ca_offline/offline.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/sim/simulator.hpp"
#include "capf/trust/trust.hpp"
#include "capf/util/parallel.hpp"
#include "capf/util/text.hpp"
#include "serve_child.hpp"

namespace capf::bench {

namespace {

template <typename T>
T take(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}
void take(Result<void> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
}

}  // namespace

OfflineImportResult bench_offline_import(std::size_t certificates) {
  OfflineImportResult r;
  r.certificates = certificates;
  r.chain = "RSA-2048 root signs P-256 phone keys";
  TempDir dir;
  const std::string certs_dir = dir.path() + "/signed", root_file = dir.path() + "/root.pem";
  std::filesystem::create_directories(certs_dir);
  const util::UnixTime now = static_cast<util::UnixTime>(std::time(nullptr));

  // Another team's root; capf trusts it through CAPF-trust.
  crypto::CaOptions root_options;
  root_options.common_name = "Other Team Root CA";
  root_options.organization = "Other Team";
  const auto root = take(crypto::CertificateAuthority::create(root_options), "root CA");
  const std::string root_pem = root.certificate().to_pem();
  std::ofstream(root_file) << root_pem;
  auto store = take(store::Store::open(dir.path() + "/store"), "store");
  take(trust::upload(*store, trust::Kind::capf_trust, crypto::Bytes(root_pem.begin(), root_pem.end()),
                     "Other Team Root", "bench", now),
       "trust upload");
  const auto trust_store = take(trust::capf_trust(*store), "CAPF-trust");

  // The phones' pending CSRs and the certificates the other team signed for them.
  const double prepare_start = now_seconds();
  const auto names = sim::generated_names(certificates, 0x00CE00000000ull);
  std::vector<CsrRecord> csrs(certificates);
  util::parallel_for(certificates, [&](std::size_t i) {
    const auto key = take(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256}), "phone key");
    const auto der = take(crypto::make_csr(key, names[i]), "CSR");
    const auto spki = key.public_key_der();
    CsrRecord& c = csrs[i];
    c.id = crypto::sha256_hex(der);
    c.device = names[i];
    c.issuer = IssuerKind::offline_ca;
    c.key = "EC-P256";
    c.csr_der_hex = util::to_hex(der);
    c.spki_sha256 = crypto::sha256_hex(spki);
    c.created_at = now - 3600;
    c.updated_at = c.created_at;
    crypto::IssueRequest req;
    req.common_name = names[i];
    req.subject_public_key = spki;
    req.not_before = now - 300;
    req.not_after = now + 365 * 86400;
    req.key_usage = "critical,digitalSignature,keyEncipherment";
    req.ext_key_usage = "serverAuth,clientAuth";
    const auto cert = take(crypto::issue_certificate(req, &root), "certificate");
    std::ofstream(certs_dir + "/" + names[i] + ".pem") << cert.to_pem();
  });
  for (std::size_t start = 0; start < certificates; start += 5000) {
    store::Transition t;
    for (std::size_t i = start; i < std::min(certificates, start + 5000); ++i)
      t.put_docs.push_back({store::Family::csrs, csrs[i].id, encode_csr(csrs[i])});
    take(store->apply(t), "storing CSRs");
  }
  r.prepare_seconds = now_seconds() - prepare_start;

  // Both sides read the same files from the page cache: one warm-up pass first.
  for (const auto& entry : std::filesystem::directory_iterator(certs_dir)) (void)slurp(entry.path().string());

  // capf: what `capf offline import DIR` does, minus the daemon round trip.
  const double capf_start = now_seconds();
  const auto paths = take(offline::expand_paths({certs_dir}), "expand_paths");
  std::vector<offline::InputFile> files;
  files.reserve(paths.size());
  for (const auto& p : paths) {
    const std::string text = slurp(p);
    files.push_back({p, std::vector<std::uint8_t>(text.begin(), text.end())});
  }
  const auto report = take(offline::import_certificates(*store, trust_store, files, "bench", now), "import");
  r.capf_seconds = now_seconds() - capf_start;
  r.imported = report.imported;
  r.failed = report.failed;
  r.capf_per_second = r.capf_seconds > 0 ? r.imported / r.capf_seconds : 0;

  // openssl verify: the same files, one process at a time (xargs without -P), one core.
  const std::string out = dir.path() + "/verify.out";
  const double ossl_start = now_seconds();
  const int status =
      run_process({"sh", "-c", "cd '" + certs_dir + "' && ls | xargs openssl verify -CAfile '" + root_file + "'"}, out,
                  dir.path() + "/verify.err");
  r.openssl_seconds = now_seconds() - ossl_start;
  if (status != 0)
    throw std::runtime_error("openssl verify failed: " + slurp(dir.path() + "/verify.err").substr(0, 500));
  std::istringstream lines(slurp(out));
  for (std::string line; std::getline(lines, line);)
    if (line.size() > 4 && line.compare(line.size() - 4, 4, ": OK") == 0) ++r.openssl_verified;
  r.openssl_per_second = r.openssl_seconds > 0 ? r.openssl_verified / r.openssl_seconds : 0;
  r.ratio = r.openssl_per_second > 0 ? r.capf_per_second / r.openssl_per_second : 0;
  return r;
}

}  // namespace capf::bench
