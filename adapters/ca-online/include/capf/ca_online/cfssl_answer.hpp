// Reading cfssl's JSON answers (online-ca.md §2(a)) without trusting their shape: any field may
// be missing, of another type, or out of range, and none of that may throw.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace capf::ca_online {

/// What capf takes from `{"success":bool,"result":{…},"errors":[{"code":N,"message":"…"}],…}`.
struct CfsslAnswer {
  bool success = false;     ///< `success` when it is a boolean, else false
  std::string certificate;  ///< `result.certificate` when it is a string (PEM), else ""
  std::string errors;       ///< "message (code N); …" of the first errors, at most about 1,000 characters
  int code = 0;             ///< the first error's code when it is an integer in 0–999,999, else 0
};

/// The answer in `body`, or nullopt when it is not a JSON object. Never throws.
std::optional<CfsslAnswer> read_cfssl_answer(std::string_view body);

}  // namespace capf::ca_online
