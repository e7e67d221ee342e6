// Private to server/src: what the CA-mode parts of EnrollmentService (enrollment_ca.cpp,
// enrollment_online.cpp) share.
#pragma once

#include <string>

#include "capf/server/enrollment.hpp"
#include "capf/util/log.hpp"

namespace capf::server::ca_detail {

inline auto log() {
  static auto l = util::logger("capf");
  return l;
}

inline store::Doc csr_doc(const CsrRecord& r) { return store::Doc{store::Family::csrs, r.id, encode_csr(r)}; }

inline std::string short_id(const std::string& id) { return id.substr(0, 12); }

}  // namespace capf::server::ca_detail
