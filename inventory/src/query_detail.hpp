// Private to the query implementation: the field table, the parsed form (predicates, nodes, the
// flat tree), tokens, and the functions shared between the lexer (query_lex.cpp), the parser
// (query_parse.cpp) and the evaluator (query_eval.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/util/result.hpp"
#include "capf/util/text.hpp"
#include "capf/util/time.hpp"

namespace capf::inventory {
struct EvalContext;
}

namespace capf::inventory::query_detail {

// ---- fields

enum class Kind : std::uint8_t { text, enumeration, date };

enum class Field : std::uint8_t {
  name,
  description,
  device_type,
  device_pool,
  security_profile,
  operation,
  auth_mode,
  operation_status,
  lsc_status,
  lsc_expires,
  lsc_issuer,
  last_seen,
  completes_by,
  security_mode,
};

struct FieldInfo {
  std::string_view name;
  Field field;
  Kind kind;
};

inline constexpr std::array<FieldInfo, 14> kFields{{
    {"name", Field::name, Kind::text},
    {"description", Field::description, Kind::text},
    {"device_type", Field::device_type, Kind::text},
    {"device_pool", Field::device_pool, Kind::text},
    {"security_profile", Field::security_profile, Kind::text},
    {"operation", Field::operation, Kind::enumeration},
    {"auth_mode", Field::auth_mode, Kind::enumeration},
    {"operation_status", Field::operation_status, Kind::enumeration},
    {"lsc_status", Field::lsc_status, Kind::enumeration},
    {"lsc_expires", Field::lsc_expires, Kind::date},
    {"lsc_issuer", Field::lsc_issuer, Kind::text},
    {"last_seen", Field::last_seen, Kind::date},
    {"completes_by", Field::completes_by, Kind::date},
    {"security_mode", Field::security_mode, Kind::enumeration},
}};

inline const FieldInfo* find_field(std::string_view name) {
  for (const auto& f : kFields)
    if (util::iequals(f.name, name)) return &f;
  return nullptr;
}

inline const FieldInfo& info_of(Field field) {
  return kFields[static_cast<std::size_t>(field)];
}

// ---- predicates and nodes

/// Comparison. `eq`/`ne` test membership in a value set, so `in (...)` and `not in (...)` are
/// the same operators with more than one value.
enum class Op : std::uint8_t { eq, ne, glob, nglob, lt, le, gt, ge };

enum class LscStatus : std::uint8_t { none, valid, expired, revoked };

/// A date operand: absolute [offset, offset + span), relative to `now`, or "unset".
struct DateValue {
  enum class Base : std::uint8_t { absolute, now, never };
  Base base = Base::absolute;
  std::int64_t offset = 0;  ///< the time itself, or seconds added to now
  std::int64_t span = 1;    ///< 86400 for a date without a time of day
};

struct Pred {
  Field field = Field::name;
  Kind kind = Kind::text;
  Op op = Op::eq;
  std::vector<std::string> texts;   ///< text values; lower-cased for globs
  std::vector<std::uint8_t> enums;  ///< enum values as their underlying integers
  DateValue date;
};

enum class NodeKind : std::uint8_t { all, pred, negate, conj, disj };

struct Node {
  NodeKind kind = NodeKind::all;
  std::uint32_t first = 0;  ///< pred: index into preds; negate: child; conj/disj: into kids
  std::uint32_t count = 0;  ///< conj/disj: number of children
};

// ---- lexer

enum class Tok : std::uint8_t { word, string, op, lparen, rparen, comma, end };

struct Token {
  Tok kind = Tok::end;
  std::string text;     ///< word as written, string unescaped, operator spelling
  std::size_t pos = 0;  ///< 1-based
};

// ---- the parsed form

/// Nodes in one flat array; and/or children are contiguous runs of `kids`.
struct Tree {
  std::vector<Node> nodes;
  std::vector<std::uint32_t> kids;
  std::vector<Pred> preds;
  std::uint32_t root = 0;

  /// Defined in query_eval.cpp.
  bool eval(std::uint32_t index, const Device& d, const EvalContext& c) const;
};

// ---- lexer and token helpers (query_lex.cpp)

Error error_at(std::size_t pos, std::string message);
/// Untrusted text for an error message: at most 40 bytes, non-printables as \xNN.
std::string shown(std::string_view s);
Result<std::vector<Token>> lex(std::string_view text);
bool is_keyword(const Token& t, std::string_view word);
bool is_reserved(const Token& t);
std::string describe(const Token& t);
/// Why a token may follow a finished condition: a missing AND/OR or an unquoted value.
std::string continuation_hint(const Token& t);
/// ", found X", or nothing at the end of the text (the message already says what is missing).
std::string found(const Token& t);

// ---- values (query_lex.cpp)

inline constexpr std::string_view kDateForms =
    "use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, now+30d, now-12h (units s, m, h, d, w)";

std::optional<DateValue> parse_date(std::string_view text);
std::optional<std::uint8_t> parse_enum(Field field, std::string_view text);
std::string_view accepted_values(Field field);
std::string_view operators_for(Kind kind);
std::string_view kind_word(Kind kind);
std::string field_list();

// ---- parser (query_parse.cpp)

/// Parses the whole token stream into `out`; returns the root node index.
Result<std::uint32_t> parse_tokens(const std::vector<Token>& tokens, Tree& out);

}  // namespace capf::inventory::query_detail
