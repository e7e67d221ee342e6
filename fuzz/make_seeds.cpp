// Writes the fuzzer's seed corpus: the §9 golden vectors and the CUCM/Jabber captures, a whole
// session stream, and messages using every element the typed layer knows (cert auth, SUDI,
// CSR tags). Usage: make_seeds OUTPUT_DIR. Built and run by scripts/fuzz.sh.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "capf/protocol/messages.hpp"
#include "capf/util/text.hpp"

using namespace capf::protocol;

namespace {

Bytes hex(const std::string& spaced) {
  std::string compact;
  for (char c : spaced) {
    if (c != ' ') compact += c;
  }
  auto b = capf::util::from_hex(compact);
  if (!b) {
    std::fprintf(stderr, "make_seeds: bad hex %s\n", spaced.c_str());
    std::exit(2);
  }
  return *b;
}

Bytes encoded(const Message& m) {
  auto r = encode(m);
  if (!r) {
    std::fprintf(stderr, "make_seeds: %s\n", r.error().message.c_str());
    std::exit(2);
  }
  return *r;
}

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUTPUT_DIR\n");
    return 2;
  }
  const std::uint32_t sid = 2;
  Bytes spki = hex("30820122 300d06092a864886f70d0101010500 0382010f00 3082010a 02820101 00");
  Bytes modulus = pattern(256, 0x81);
  spki.insert(spki.end(), modulus.begin(), modulus.end());
  Bytes tail = hex("0203010001");
  spki.insert(spki.end(), tail.begin(), tail.end());
  Bytes der = hex("30820360");
  Bytes der_body = pattern(864, 1);
  der.insert(der.end(), der_body.begin(), der_body.end());

  std::vector<std::pair<std::string, Bytes>> seeds;
  // §9, byte for byte.
  seeds.emplace_back("golden_auth_request", hex("55 01 00000002 0008 07 0001 03 08 0001 00"));
  seeds.emplace_back("golden_auth_response",
                     hex("55 02 00000002 0025 07 0001 03 0d 0010 53455030303131323233333434353500 01 0001 01 "
                         "0b 0007 31323334353600"));
  seeds.emplace_back("golden_key_generate_request", hex("55 03 00000002 0009 0a 0002 0800 11 0001 00"));
  seeds.emplace_back("golden_request_in_progress", hex("55 11 00000002 0000"));
  seeds.emplace_back("golden_store_certificate_response", hex("55 0a 00000002 0004 01 0001 01"));
  seeds.emplace_back("golden_end_session", hex("55 0f 00000002 0004 01 0001 01"));
  seeds.emplace_back("golden_key_generate_request_ec", hex("55 03 00000002 0008 11 0001 01 12 0001 00"));
  seeds.emplace_back("cucm_auth_request", hex("55 01 00000007 0004 07 0001 03"));
  seeds.emplace_back("cucm_key_generate_request", hex("55 03 00000007 0005 0a 0002 0800"));
  seeds.emplace_back("jabber_auth_response",
                     hex("55 02 00000007 0018 07 0001 02 0d 000d 4353466a646f6531323334350001 0001 01"));
  KeyGenerateResponse kgr;
  kgr.public_key = spki;
  seeds.emplace_back("golden_key_generate_response", encoded(build(kgr, sid)));
  seeds.emplace_back("golden_store_certificate_request",
                     encoded(build(StoreCertificateRequest{CertificateType::lsc, der}, sid)));

  AuthResponse cert_auth;
  cert_auth.device_name = "SEP001122334455";
  cert_auth.password = "";
  cert_auth.certificate_der = pattern(300, 0x30);
  cert_auth.signed_data = pattern(128, 9);
  cert_auth.sha2_signed = Sha2Signature{WireHash::sha512, pattern(128, 10)};
  cert_auth.sudi = SudiData{pattern(200, 0x30), pattern(64, 1), pattern(64, 3)};
  seeds.emplace_back("auth_response_certificate", encoded(build(cert_auth, sid)));
  seeds.emplace_back("fetch_response", encoded(build_fetch_response(CertificateResponse{1, pattern(100, 0x30)}, sid)));
  // Troubleshoot's lenient reader (§5.5): LSC + MIC as two elements, both in one element,
  // a bare DER after a CERTIFICATE_TYPE, and the phone with nothing to return.
  seeds.emplace_back("fetch_response_lsc_and_mic",
                     encoded(build(FetchResponse{1, {{1, pattern(90, 0x30)}, {2, pattern(70, 0x30)}}, {}}, sid)));
  {
    Bytes both = wrap_certificate(pattern(60, 0x30), CertificateType::lsc);
    Bytes mic = wrap_certificate(pattern(50, 0x30), CertificateType::mic);
    both.insert(both.end(), mic.begin(), mic.end());
    Message m(Command::fetch_certificate_response, sid);
    m.add_u8(Tag::reason, 1).add_bytes(Tag::certificate, both);
    seeds.emplace_back("fetch_response_two_in_one_element", encoded(m));
    Message bare(Command::fetch_certificate_response, sid);
    bare.add_u8(Tag::reason, 1).add_u8(Tag::certificate_type, 2).add_bytes(Tag::certificate, pattern(80, 0x30));
    seeds.emplace_back("fetch_response_bare_der", encoded(bare));
  }
  seeds.emplace_back("fetch_response_none", hex("55 0c 00000002 0004 01 0001 07"));
  seeds.emplace_back("delete_response", encoded(build_delete_response(CertificateResponse{1, {}}, sid)));
  seeds.emplace_back("sign_request", encoded(build_sign_request(pattern(40, 0x30), sid)));
  seeds.emplace_back("sign_response", encoded(build(SignResponse{1, pattern(200, 0x30)}, sid)));

  Bytes session;
  for (const auto& [name, bytes] : seeds) {
    if (name.rfind("golden_", 0) == 0) session.insert(session.end(), bytes.begin(), bytes.end());
  }
  seeds.emplace_back("golden_session_stream", session);

  for (const auto& [name, bytes] : seeds) {
    std::string path = std::string(argv[1]) + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("make_seeds: wrote %zu seeds to %s\n", seeds.size(), argv[1]);
  return 0;
}
