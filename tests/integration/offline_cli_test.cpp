// `capf trust`, `capf offline`, `capf csr list` and `capf stale-lsc` against a running daemon.
// CSRs and stale LSCs are planted in the store while the daemon is stopped (the CAPF session
// that makes them is tested elsewhere); certificates are signed with `openssl ca`.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "capf/core/csr.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/text.hpp"
#include "external_ca.hpp"
#include "harness.hpp"

using namespace capf::it;

namespace {

nlohmann::json json_of(const Run& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

std::string entry_id(const nlohmann::json& entries, const std::string& subject_part, const std::string& store) {
  for (const auto& e : entries)
    if (e["subject"].get<std::string>().find(subject_part) != std::string::npos && e["store"] == store)
      return e["id"].get<std::string>();
  return "";
}

// Plants pending Offline CA CSRs (and stale certificate records) into a stopped daemon's store.
void plant(const std::string& data, const std::vector<std::string>& devices, const std::vector<std::string>& stale) {
  auto store = capf::store::Store::open(data + "/store");
  ASSERT_TRUE(store.ok()) << store.error().message;
  capf::store::Transition t;
  for (const auto& device : devices) {
    auto key = capf::crypto::PrivateKey::generate({capf::KeyAlgorithm::ec, 0, capf::EcCurve::p256});
    ASSERT_TRUE(key.ok());
    auto der = capf::crypto::make_csr(*key, device);
    ASSERT_TRUE(der.ok());
    capf::CsrRecord c;
    c.id = capf::crypto::sha256_hex(*der);
    c.device = device;
    c.job = "job-offline";
    c.issuer = capf::IssuerKind::offline_ca;
    c.key = "EC-P256";
    c.csr_der_hex = capf::util::to_hex(*der);
    c.spki_sha256 = capf::crypto::sha256_hex(key->public_key_der());
    c.created_at = c.updated_at = capf::util::now();
    t.put_docs.push_back({capf::store::Family::csrs, c.id, capf::encode_csr(c)});
  }
  for (const auto& serial : stale) {
    capf::CertificateRecord c;
    c.serial = serial;
    c.device = "SEP0000000E0099";
    c.issuer = "CN=CAPF-old";
    c.issued_at = capf::util::now();
    c.state = capf::CertificateState::stale;
    t.put_certificates.push_back(c);
  }
  ASSERT_TRUE((*store)->apply(t).ok());
}

}  // namespace

TEST(TrustCli, UploadListDeleteAndMicRootsAgainstTheDaemon) {
  Fleet f;
  const std::string& d = f.data;
  auto list = json_of(cli({"trust", "list", "--json", "--data-dir", d}));
  ASSERT_EQ(list["entries"].size(), 1u);
  EXPECT_EQ(list["entries"][0]["origin"], "mic-root");
  EXPECT_EQ(list["entries"][0]["store"], "CAPF-trust");
  const std::string mic_id = list["entries"][0]["id"];

  ExternalCa ca(f.dir / "other-team", "Other Team");
  auto up = cli({"trust", "upload", "--store", "capf-trust", ca.chain(), "--description",
                 "Certificate for External LSC-Signing CA", "--data-dir", d});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("Other Team Issuing CA"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("note: the CA root"), std::string::npos) << up.out;  // the seed: root to both stores
  auto again = cli({"trust", "upload", "--store", "capf-trust", ca.chain(), "--data-dir", d});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already in CAPF-trust"), std::string::npos) << again.out;
  EXPECT_EQ(cli({"trust", "upload", "--store", "callmanager-trust", ca.root(), "--description", "root",
                 "--data-dir", d}).exit_code, 0);

  // A CA named CAPF-… is another CAPF's: refused with the seed's reason.
  shell("cd '" + f.dir.path() + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        " -keyout capf.key -out capf-other.pem -days 30 -subj '/CN=CAPF-0badc0de'"
        " -addext 'basicConstraints=critical,CA:TRUE'");
  auto refused = cli({"trust", "upload", "--store", "capf-trust", f.dir / "capf-other.pem", "--data-dir", d});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("reserved for CAPF certificates"), std::string::npos) << refused.err;
  EXPECT_EQ(cli({"trust", "upload", ca.root(), "--data-dir", d}).exit_code, 2);  // no --store

  list = json_of(cli({"trust", "list", "--json", "--data-dir", d}));
  EXPECT_EQ(list["entries"].size(), 4u);
  const std::string root_id = entry_id(list["entries"], "Other Team Root CA", "CAPF-trust");
  ASSERT_FALSE(root_id.empty());
  auto ambiguous = cli({"trust", "delete", root_id, "--data-dir", d});
  EXPECT_EQ(ambiguous.exit_code, 1);
  EXPECT_NE(ambiguous.err.find("--store"), std::string::npos) << ambiguous.err;
  EXPECT_EQ(cli({"trust", "delete", root_id, "--store", "callmanager-trust", "--data-dir", d}).exit_code, 0);
  auto table = cli({"trust", "list", "--store", "callmanager-trust", "--data-dir", d});
  EXPECT_EQ(table.out.find("Other Team"), std::string::npos) << table.out;

  // The MIC root can be removed; it stays removed across a restart, and comes back by upload.
  EXPECT_EQ(cli({"trust", "delete", mic_id, "--data-dir", d}).exit_code, 0);
  f.daemon->restart();
  list = json_of(cli({"trust", "list", "--json", "--data-dir", d}));
  EXPECT_TRUE(entry_id(list["entries"], "", "CAPF-trust").size() > 0);
  for (const auto& e : list["entries"]) EXPECT_NE(e["id"], mic_id);
  EXPECT_EQ(cli({"trust", "upload", "--store", "capf-trust", f.mic_root, "--data-dir", d}).exit_code, 0);
  list = json_of(cli({"trust", "list", "--store", "capf-trust", "--json", "--data-dir", d}));
  bool mic_back = false;
  for (const auto& e : list["entries"]) mic_back |= e["id"] == mic_id && e["origin"] == "mic-root";
  EXPECT_TRUE(mic_back) << list.dump(2);
}

// Issue 19 item 7: the MIC roots the seed names are recognised by their subject in either store,
// with what the seed advises for them there.
TEST(TrustCli, TheSeedsMicRootsAreRecognisedBySubjectWithTheSeedsAdvice) {
  Fleet f;
  const std::string& d = f.data;
  auto make_root = [&](const std::string& file, const std::string& subject) {
    auto r = shell("cd '" + f.dir.path() + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                   " -keyout '" + file + ".key' -out '" + file + "' -days 30 -subj '" + subject + "'"
                   " -addext 'basicConstraints=critical,CA:TRUE' 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return f.dir / file;
  };
  const std::vector<std::pair<std::string, std::string>> roots{
      {"CAP-RTP-001", "/O=Cisco Systems/CN=CAP-RTP-001"},
      {"CAP-RTP-002", "/O=Cisco Systems/CN=cap-rtp-002"},
      {"Cisco_Manufacturing_CA", "/O=Cisco Systems/CN=Cisco Manufacturing CA"},
      {"Cisco_Root_CA_2048", "/O=Cisco Systems/CN=Cisco_Root_CA_2048"}};
  for (const auto& [name, subject] : roots)
    ASSERT_EQ(cli({"trust", "upload", "--store", "callmanager-trust", make_root(name + ".pem", subject), "--description",
                   name, "--data-dir", d}).exit_code, 0) << name;
  ASSERT_EQ(cli({"trust", "upload", "--store", "capf-trust", f.dir / "CAP-RTP-001.pem", "--data-dir", d}).exit_code, 0);
  ASSERT_EQ(cli({"trust", "upload", "--store", "callmanager-trust", make_root("other.pem", "/CN=Cisco Root CA 2099"),
                 "--data-dir", d}).exit_code, 0);

  auto list = json_of(cli({"trust", "list", "--json", "--data-dir", d}));
  std::map<std::string, std::string> seen;  // "store/name" → advice
  for (const auto& e : list["entries"]) {
    if (!e.contains("seed_mic_root")) {
      EXPECT_FALSE(e.contains("advice")) << e.dump();
      continue;
    }
    seen[e["store"].get<std::string>() + "/" + e["seed_mic_root"].get<std::string>()] = e["advice"];
  }
  ASSERT_EQ(seen.size(), 5u) << list.dump(2);  // four in CallManager-trust, one in CAPF-trust; not the 2099 one
  for (const auto& [name, subject] : roots)
    EXPECT_NE(seen["CallManager-trust/" + name].find("remove this MIC root from CallManager-trust"), std::string::npos)
        << name;
  EXPECT_NE(seen["CAPF-trust/CAP-RTP-001"].find("use MICs for LSC installation only"), std::string::npos);

  // The table marks them and prints the advice under it.
  auto table = cli({"trust", "list", "--data-dir", d});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("MIC root Cisco_Manufacturing_CA"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("(Cisco_Root_CA_2048, CallManager-trust): the seed: remove this MIC root"), std::string::npos)
      << table.out;
}

TEST(OfflineCli, ExportSignImportAndListsAgainstTheDaemon) {
  Fleet f;
  const std::string& d = f.data;
  std::vector<std::string> devices;
  for (int i = 1; i <= 5; ++i) devices.push_back("SEP0000000E000" + std::to_string(i));
  f.daemon->stop();
  plant(d, devices, {"0e01", "0e02"});
  f.daemon->restart();

  auto pending = json_of(cli({"csr", "list", "--json", "--data-dir", d}));
  ASSERT_EQ(pending["csrs"].size(), 5u);
  EXPECT_EQ(pending["csrs"][0]["round"], 0);

  const std::string out = f.dir / "rounds";
  auto exp = cli({"offline", "export", "--out", out, "--data-dir", d});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  EXPECT_NE(exp.out.find("round 1: 5 CSRs written to " + out + "/round-001"), std::string::npos) << exp.out;
  for (const auto& dev : devices) EXPECT_TRUE(std::filesystem::exists(out + "/round-001/" + dev + ".csr.pem")) << dev;
  auto nothing = cli({"offline", "export", "--out", out, "--data-dir", d});
  EXPECT_EQ(nothing.exit_code, 0);
  EXPECT_NE(nothing.out.find("nothing to export"), std::string::npos) << nothing.out;

  // The other team signs: three good, one by a CA capf does not trust, one expired.
  ExternalCa ca(f.dir / "other-team", "Other Team");
  ExternalCa stranger(f.dir / "stranger", "Stranger");
  const std::string answers = f.dir / "answers";
  std::filesystem::create_directories(answers + "/more");
  auto csr = [&](int i) { return out + "/round-001/" + devices[i] + ".csr.pem"; };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ca.sign(csr(i), answers + (i == 2 ? "/more/" : "/") + devices[i] + ".pem").exit_code, 0);
  EXPECT_EQ(stranger.sign(csr(3), answers + "/" + devices[3] + ".pem").exit_code, 0);
  EXPECT_EQ(ca.sign(csr(4), answers + "/" + devices[4] + ".pem", "-startdate 20200101000000Z -enddate 20200201000000Z")
                .exit_code, 0);
  ASSERT_EQ(cli({"trust", "upload", "--store", "capf-trust", ca.chain(), "--description", "Other Team",
                 "--data-dir", d}).exit_code, 0);

  auto imp = cli({"offline", "import", answers, "--data-dir", d});
  EXPECT_EQ(imp.exit_code, 1);
  EXPECT_NE(imp.out.find("imported 3, already imported 0, failed 2"), std::string::npos) << imp.out << imp.err;
  EXPECT_NE(imp.err.find(devices[3] + ".pem: "), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find("does not chain to CAPF-trust"), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find("expired on 2020-02-01"), std::string::npos) << imp.err;
  auto twice = cli({"offline", "import", answers + "/" + devices[0] + ".pem", "--data-dir", d});
  EXPECT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_NE(twice.out.find("imported 0, already imported 1, failed 0"), std::string::npos) << twice.out;

  pending = json_of(cli({"csr", "list", "--json", "--data-dir", d}));
  ASSERT_EQ(pending["csrs"].size(), 2u);
  for (const auto& c : pending["csrs"]) EXPECT_FALSE(c["error"].get<std::string>().empty()) << c.dump();
  auto issued = json_of(cli({"csr", "list", "--state", "issued", "--json", "--data-dir", d}));
  ASSERT_EQ(issued["csrs"].size(), 3u);
  EXPECT_EQ(issued["csrs"][0]["round"], 1);
  auto table = cli({"csr", "list", "--state", "all", "--data-dir", d});
  EXPECT_NE(table.out.find("LAST ERROR"), std::string::npos);
  EXPECT_EQ(cli({"csr", "list", "--state", "sideways", "--data-dir", d}).exit_code, 1);

  auto again = cli({"offline", "export", "--again", "--out", out, "--data-dir", d});
  EXPECT_NE(again.out.find("round 2: 2 CSRs"), std::string::npos) << again.out << again.err;
  auto rounds = json_of(cli({"offline", "rounds", "--json", "--data-dir", d}));
  EXPECT_EQ(rounds["rounds"].size(), 2u);

  auto stale = json_of(cli({"stale-lsc", "list", "--json", "--data-dir", d}));
  ASSERT_EQ(stale["lscs"].size(), 2u);
  EXPECT_EQ(stale["lscs"][0]["device"], "SEP0000000E0099");
  EXPECT_EQ(cli({"stale-lsc", "delete", "--data-dir", d}).exit_code, 2);
  auto del = cli({"stale-lsc", "delete", "--all", "--data-dir", d});
  EXPECT_NE(del.out.find("deleted 2 stale LSCs"), std::string::npos) << del.out << del.err;
  EXPECT_TRUE(json_of(cli({"stale-lsc", "list", "--json", "--data-dir", d}))["lscs"].empty());

  // The CLI's in-process mode answers the same when no daemon runs.
  f.daemon->stop();
  EXPECT_EQ(json_of(cli({"csr", "list", "--json", "--data-dir", d}))["csrs"].size(), 2u);
}
