// Another team's CA, driven with the openssl command line the way that team would: a root, an
// issuing CA under it, and `openssl ca` signing the CSRs capf exported. Made at test time.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "harness.hpp"

namespace capf::it {

class ExternalCa {
 public:
  /// Creates `dir` with root.pem, sub.pem (issuing CA), chain.pem (issuing CA + root) and an
  /// `openssl ca` configuration. `name` goes into both CAs' Common Names.
  ExternalCa(const std::string& dir, const std::string& name) : dir_(dir) {
    shell("mkdir -p '" + dir + "/newcerts' && : > '" + dir + "/index.txt' && echo 1000 > '" + dir + "/serial'");
    std::ofstream(dir + "/ca.cnf") << "[ ca ]\ndefault_ca = CA_default\n"
        "[ CA_default ]\n"
        "database = " + dir + "/index.txt\nnew_certs_dir = " + dir + "/newcerts\n"
        "certificate = " + dir + "/sub.pem\nprivate_key = " + dir + "/sub.key\nserial = " + dir + "/serial\n"
        "rand_serial = yes\ndefault_md = sha256\ndefault_days = 365\npolicy = policy_any\nunique_subject = no\n"
        "copy_extensions = none\nx509_extensions = lsc\nemail_in_dn = no\n"
        "[ policy_any ]\ncommonName = supplied\norganizationName = optional\n"
        "[ lsc ]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage = serverAuth,clientAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
        "[ v3_sub ]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    auto r = shell("cd '" + dir + "' && openssl req -x509" + ec + " -keyout root.key -out root.pem -days 3650"
                   " -subj '/O=Other Team/CN=" + name + " Root CA'"
                   " -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'"
                   " && openssl req -new" + ec + " -keyout sub.key -out sub.csr -subj '/O=Other Team/CN=" + name +
                   " Issuing CA' && openssl x509 -req -in sub.csr -CA root.pem -CAkey root.key -CAcreateserial"
                   " -out sub.pem -days 1825 -extfile ca.cnf -extensions v3_sub && cat sub.pem root.pem > chain.pem");
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }

  /// `openssl ca` signs one CSR into `out`; `extra` adds options (e.g. -startdate/-enddate).
  Run sign(const std::string& csr, const std::string& out, const std::string& extra = "") const {
    return shell("openssl ca -batch -notext -config '" + dir_ + "/ca.cnf' -in '" + csr + "' -out '" + out + "' " + extra);
  }

  std::string root() const { return dir_ + "/root.pem"; }
  std::string chain() const { return dir_ + "/chain.pem"; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace capf::it
