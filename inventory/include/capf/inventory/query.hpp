// The query language over the phone inventory (SPEC §5 "Query"): field–operator–value
// predicates joined with AND / OR / NOT and parentheses, used by `phones list --where` and
// `job submit --where` to select devices.
//
// Grammar (keywords, field names and operator words are case-insensitive):
//
//   query     := <empty> | "all" | "*" | or
//   or        := and { OR and }
//   and       := not { AND not }
//   not       := { NOT } primary
//   primary   := "(" or ")" | "all" | "*" | predicate
//   predicate := FIELD op VALUE
//              | FIELD [NOT] IN "(" VALUE { "," VALUE } ")"
//              | SHORTHAND VALUE
//   op        := "=" | "==" | "!=" | "~" | "!~" | "<" | "<=" | ">" | ">=" | BEFORE | AFTER
//   SHORTHAND := lsc_expires_before | lsc_expires_after | last_seen_before | last_seen_after
//   VALUE     := bare word of [A-Za-z0-9._:/@*?+-] | "double-quoted" with \" and \\ escapes
//
// Fields and what they accept:
//   text  name, description, device_type, device_pool, security_profile, lsc_issuer:
//         = != (case-insensitive equality), ~ !~ (case-insensitive whole-string glob with * and
//         ?), in, not in.
//   enum  operation (parse_operation), auth_mode (parse_auth_mode), operation_status
//         (parse_status), security_mode (parse_security_mode: Non Secure, Authenticated,
//         Encrypted), lsc_status (derived at evaluation time, the first that holds: none = no
//         LSC, revoked = its serial was revoked (EvalContext::revoked), expired = notAfter passed,
//         else valid): = != in, not in; the value must be one of the accepted words (a parse
//         error lists them).
//   date  lsc_expires (lsc_not_after), last_seen, completes_by:
//         = != < <= > >= before (= <) after (= >). A value is an ISO 8601 date or time
//         (util::parse_iso8601), `now`, or `now±N{s,m,h,d,w}` resolved against the evaluation
//         time. A date without a time of day stands for the whole UTC day: `= 2027-03-01` is any
//         time that day, `< 2027-03-01` is before it starts, `<= 2027-03-01` up to its end,
//         `> 2027-03-01` from the next day on. `= never` / `!= never` (or `none`) test whether
//         the field is unset.
//   Unset dates: a device with no LSC (empty lsc_serial) or no Operation Completes By matches
//   no comparison on that field, `!=` included. A device never seen (last_seen 0) counts as
//   infinitely old: it matches `last_seen < X`, `<= X`, `before X` and `!= X`, never `>`, `>=`,
//   `after` or `=`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf::inventory {

/// Longest filter text accepted, in bytes.
inline constexpr std::size_t kMaxQueryLength = 4096;
/// Deepest parenthesis nesting accepted.
inline constexpr int kMaxQueryDepth = 32;

/// What a query is evaluated against besides the device record.
struct EvalContext {
  util::UnixTime now = 0;
  /// Serials of revoked LSCs (lsc_status = revoked); null = none known, so a revoked LSC
  /// counts as valid or expired by its date.
  const std::unordered_set<std::string>* revoked = nullptr;
};

/// A parsed device filter. Cheap to copy; thread-safe to evaluate.
class Query {
 public:
  /// Parses the filter text; errors name the 1-based character position and what was expected,
  /// e.g. "query:18: expected a value after 'device_pool ='" or "query:1: unknown field 'pool' (fields: device_pool,
  /// ...)".
  static Result<Query> parse(std::string_view text);
  /// True when the device matches at time `now` (needed for lsc_status=expired etc.), with no
  /// revocations known.
  bool matches(const Device& d, util::UnixTime now) const;
  /// True when the device matches in context `c`.
  bool matches(const Device& d, const EvalContext& c) const;
  /// True when the answer depends on revocations (lsc_status): callers then pass them.
  bool uses_revocation() const;
  /// The text it was parsed from.
  const std::string& text() const;
  /// Field names understood, for help texts.
  static const std::vector<std::string>& fields();

 private:
  /// The parsed form (nodes in one flat array); defined in query_eval.cpp.
  struct Impl;
  /// Wraps a finished parse.
  explicit Query(std::shared_ptr<const Impl> impl);
  /// Shared, immutable: copies share it and evaluation never writes to it.
  std::shared_ptr<const Impl> impl_;
};

}  // namespace capf::inventory
