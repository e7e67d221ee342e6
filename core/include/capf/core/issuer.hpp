// One interface in front of every external CA ("Certificate Issuer to Endpoint": Online CA):
// a submission is issued, pending with a handle, or rejected with an error class.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capf/core/csr.hpp"

namespace capf {

/// What a CA answered.
struct CaOutcome {
  enum class Kind { issued, pending, rejected };
  Kind kind = Kind::rejected;
  std::string certificate_pem;          ///< issued: the certificate
  std::vector<std::string> chain_pem;   ///< issued: its chain (issuing CA first), maybe empty
  std::string handle;                   ///< the CA's request id, when it gave one (pending and issued)
  CaErrorClass error_class = CaErrorClass::none;  ///< rejected: how to handle it
  std::string message;                  ///< rejected: why, in words (the CA's disposition text)
  std::optional<long> retry_after_s;    ///< the CA asked to come back later

  static CaOutcome issued(std::string pem, std::vector<std::string> chain, std::string handle = "") {
    CaOutcome o;
    o.kind = Kind::issued;
    o.certificate_pem = std::move(pem);
    o.chain_pem = std::move(chain);
    o.handle = std::move(handle);
    return o;
  }
  static CaOutcome pending(std::string handle) {
    CaOutcome o;
    o.kind = Kind::pending;
    o.handle = std::move(handle);
    return o;
  }
  static CaOutcome rejected(CaErrorClass c, std::string message) {
    CaOutcome o;
    o.kind = Kind::rejected;
    o.error_class = c;
    o.message = std::move(message);
    return o;
  }
};

/// An online CA. Calls block (HTTP) and may be made from several threads at once.
class OnlineCa {
 public:
  virtual ~OnlineCa() = default;
  /// "adcs", "cfssl".
  virtual std::string name() const = 0;
  /// Sends a DER PKCS#10 request for `device`.
  virtual CaOutcome submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) = 0;
  /// Asks again about a request the CA holds under `handle` (after a pending answer).
  virtual CaOutcome poll(const std::string& handle) = 0;
  /// Whether submit() can answer pending (AD CS manager approval); false for CAs that never hold requests.
  virtual bool can_pend() const { return true; }
};

}  // namespace capf
