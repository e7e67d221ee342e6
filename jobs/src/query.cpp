// The device query language: lexer, recursive-descent parser into a flat node array, and an
// evaluator that neither allocates nor uses regular expressions (a 100,000-device inventory is
// filtered on every `phones list --where` and job preview).
#include "capf/jobs/query.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "capf/core/vocabulary.hpp"
#include "capf/util/text.hpp"

namespace capf::jobs {

namespace {

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
};

struct FieldInfo {
  std::string_view name;
  Field field;
  Kind kind;
};

constexpr std::array<FieldInfo, 13> kFields{{
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
}};

const FieldInfo* find_field(std::string_view name) {
  for (const auto& f : kFields)
    if (util::iequals(f.name, name)) return &f;
  return nullptr;
}

const FieldInfo& info_of(Field field) { return kFields[static_cast<std::size_t>(field)]; }

// ---- predicates and nodes

/// Comparison. `eq`/`ne` test membership in a value set, so `in (...)` and `not in (...)` are
/// the same operators with more than one value.
enum class Op : std::uint8_t { eq, ne, glob, nglob, lt, le, gt, ge };

enum class LscStatus : std::uint8_t { none, valid, expired };

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
  std::string text;  ///< word as written, string unescaped, operator spelling
  std::size_t pos = 0;  ///< 1-based
};

Error error_at(std::size_t pos, std::string message) {
  return make_error(Errc::invalid_argument, "query:" + std::to_string(pos) + ": " + message);
}

/// Untrusted text for an error message: at most 40 bytes, non-printables as \xNN.
std::string shown(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  const std::size_t n = s.size() > 40 ? 40 : s.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (n < s.size()) out += "...";
  return out;
}

bool is_word_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '.': case '_': case ':': case '/': case '@': case '*': case '?': case '+': case '-':
      return true;
    default:
      return false;
  }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

Result<std::vector<Token>> lex(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  const auto push = [&](Tok kind, std::string t, std::size_t at) {
    out.push_back(Token{kind, std::move(t), at + 1});
  };
  while (i < text.size()) {
    const char c = text[i];
    const std::size_t start = i;
    if (is_space(c)) {
      ++i;
    } else if (c == '(') {
      push(Tok::lparen, "(", i++);
    } else if (c == ')') {
      push(Tok::rparen, ")", i++);
    } else if (c == ',') {
      push(Tok::comma, ",", i++);
    } else if (c == '"') {
      std::string value;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\') {
          if (i + 1 >= text.size()) break;
          const char e = text[i + 1];
          if (e != '"' && e != '\\')
            return error_at(i + 1, "unknown escape '\\" + shown(std::string_view(&e, 1)) +
                                       "' in a quoted value (only \\\" and \\\\)");
          value += e;
          i += 2;
          continue;
        }
        value += d;
        ++i;
      }
      if (!closed) return error_at(start + 1, "unterminated quoted value (missing '\"')");
      push(Tok::string, std::move(value), start);
    } else if (c == '=') {
      const bool twice = i + 1 < text.size() && text[i + 1] == '=';
      push(Tok::op, twice ? "==" : "=", i);
      i += twice ? 2 : 1;
    } else if (c == '!') {
      if (i + 1 >= text.size() || (text[i + 1] != '=' && text[i + 1] != '~'))
        return error_at(i + 1, "expected '=' or '~' after '!'");
      push(Tok::op, std::string(text.substr(i, 2)), i);
      i += 2;
    } else if (c == '~') {
      push(Tok::op, "~", i++);
    } else if (c == '<' || c == '>') {
      const bool eq = i + 1 < text.size() && text[i + 1] == '=';
      push(Tok::op, std::string(text.substr(i, eq ? 2 : 1)), i);
      i += eq ? 2 : 1;
    } else if (is_word_char(c)) {
      while (i < text.size() && is_word_char(text[i])) ++i;
      push(Tok::word, std::string(text.substr(start, i - start)), start);
    } else {
      std::string msg = "unexpected character '" + shown(text.substr(i, 1)) + "'";
      if (c == '\'') msg += " (quote values with double quotes)";
      if (c == '&' || c == '|') msg += " (use AND / OR)";
      return error_at(i + 1, std::move(msg));
    }
  }
  out.push_back(Token{Tok::end, "", text.size() + 1});
  return out;
}

bool is_keyword(const Token& t, std::string_view word) {
  return t.kind == Tok::word && util::iequals(t.text, word);
}

bool is_reserved(const Token& t) {
  return is_keyword(t, "and") || is_keyword(t, "or") || is_keyword(t, "not");
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::end: return "end of query";
    case Tok::string: return "\"" + shown(t.text) + "\"";
    default: return "'" + shown(t.text) + "'";
  }
}

/// Why a token may follow a finished condition: a missing AND/OR or an unquoted value.
std::string continuation_hint(const Token& t) {
  if (t.kind == Tok::op) return " (put a value containing '=', '<', '>', '!' or '~' in double quotes)";
  if (t.kind == Tok::word || t.kind == Tok::string)
    return " (join conditions with AND / OR; put a value containing spaces in double quotes)";
  return "";
}

/// ", found X", or nothing at the end of the text (the message already says what is missing).
std::string found(const Token& t) { return t.kind == Tok::end ? "" : ", found " + describe(t); }

// ---- values

constexpr std::string_view kDateForms =
    "use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, now+30d, now-12h (units s, m, h, d, w)";

std::optional<DateValue> parse_date(std::string_view text) {
  const std::string lower = util::to_lower(util::trim(text));
  if (lower == "never" || lower == "none") return DateValue{DateValue::Base::never, 0, 0};
  if (lower.rfind("now", 0) == 0) {
    std::string_view rest = std::string_view(lower).substr(3);
    if (rest.empty()) return DateValue{DateValue::Base::now, 0, 1};
    if (rest.size() < 3 || (rest[0] != '+' && rest[0] != '-')) return std::nullopt;
    const bool minus = rest[0] == '-';
    const char unit = rest.back();
    const std::string_view digits = rest.substr(1, rest.size() - 2);
    if (digits.size() > 9) return std::nullopt;
    std::int64_t n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    std::int64_t scale = 0;
    switch (unit) {
      case 's': scale = 1; break;
      case 'm': scale = 60; break;
      case 'h': scale = 3600; break;
      case 'd': scale = 86400; break;
      case 'w': scale = 7 * 86400; break;
      default: return std::nullopt;
    }
    return DateValue{DateValue::Base::now, (minus ? -n : n) * scale, 1};
  }
  const auto t = util::parse_iso8601(util::trim(text));
  if (!t) return std::nullopt;
  // Every accepted form with a time of day has a ':'; a bare date stands for its whole day.
  const bool whole_day = text.find(':') == std::string_view::npos;
  return DateValue{DateValue::Base::absolute, *t, whole_day ? 86400 : 1};
}

std::optional<OperationStatus> parse_status_word(std::string_view text) {
  if (auto s = parse_status(text)) return s;
  std::string dashed(text);
  for (char& c : dashed)
    if (c == '_') c = '-';
  return parse_status(dashed);
}

std::optional<std::uint8_t> parse_enum(Field field, std::string_view text) {
  const auto as_byte = [](auto v) -> std::optional<std::uint8_t> {
    if (!v) return std::nullopt;
    return static_cast<std::uint8_t>(*v);
  };
  switch (field) {
    case Field::operation: return as_byte(parse_operation(text));
    case Field::auth_mode: return as_byte(parse_auth_mode(text));
    case Field::operation_status: return as_byte(parse_status_word(text));
    case Field::lsc_status: {
      const auto t = util::trim(text);
      if (util::iequals(t, "none")) return static_cast<std::uint8_t>(LscStatus::none);
      if (util::iequals(t, "valid")) return static_cast<std::uint8_t>(LscStatus::valid);
      if (util::iequals(t, "expired")) return static_cast<std::uint8_t>(LscStatus::expired);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::string_view accepted_values(Field field) {
  switch (field) {
    case Field::operation:
      return "none, install, delete, troubleshoot, \"No Pending Operation\", \"Install/Upgrade\"";
    case Field::auth_mode:
      return "string, null, lsc, mic, \"By Authentication String\", \"By Null String\", "
             "\"By Existing Certificate (Precedence to LSC)\", "
             "\"By Existing Certificate (Precedence to MIC)\"";
    case Field::operation_status:
      return "none, pending, in-progress, success, failed, locked, expired";
    case Field::lsc_status: return "none, valid, expired";
    default: return "";
  }
}

std::string_view operators_for(Kind kind) {
  switch (kind) {
    case Kind::text: return "=, !=, ~, !~, in, not in";
    case Kind::enumeration: return "=, !=, in, not in";
    case Kind::date: return "=, !=, <, <=, >, >=, before, after";
  }
  return "";
}

std::string_view kind_word(Kind kind) {
  switch (kind) {
    case Kind::text: return "a text field";
    case Kind::enumeration: return "a field with fixed values";
    case Kind::date: return "a date field";
  }
  return "";
}

std::string field_list() {
  std::string out;
  for (const auto& f : kFields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out + "; shorthands: lsc_expires_before, lsc_expires_after, last_seen_before, "
               "last_seen_after";
}

struct Shorthand {
  std::string_view name;
  Field field;
  Op op;
};

constexpr std::array<Shorthand, 4> kShorthands{{
    {"lsc_expires_before", Field::lsc_expires, Op::lt},
    {"lsc_expires_after", Field::lsc_expires, Op::gt},
    {"last_seen_before", Field::last_seen, Op::lt},
    {"last_seen_after", Field::last_seen, Op::gt},
}};

// ---- the parsed form

/// Nodes in one flat array; and/or children are contiguous runs of `kids`.
struct Tree {
  std::vector<Node> nodes;
  std::vector<std::uint32_t> kids;
  std::vector<Pred> preds;
  std::uint32_t root = 0;

  bool eval(std::uint32_t index, const Device& d, util::UnixTime now) const;
};

// ---- parser

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, Tree& out) : toks_(tokens), out_(out) {}

  Result<std::uint32_t> parse_query();

 private:
  const Token& peek() const { return toks_[i_]; }
  const Token& next() { return toks_[i_++]; }

  std::uint32_t add_node(NodeKind kind, std::uint32_t first, std::uint32_t count) {
    out_.nodes.push_back(Node{kind, first, count});
    return static_cast<std::uint32_t>(out_.nodes.size() - 1);
  }

  std::uint32_t add_nary(NodeKind kind, const std::vector<std::uint32_t>& items) {
    if (items.size() == 1) return items.front();
    const auto first = static_cast<std::uint32_t>(out_.kids.size());
    out_.kids.insert(out_.kids.end(), items.begin(), items.end());
    return add_node(kind, first, static_cast<std::uint32_t>(items.size()));
  }

  std::uint32_t add_pred(Pred p) {
    out_.preds.push_back(std::move(p));
    return add_node(NodeKind::pred, static_cast<std::uint32_t>(out_.preds.size() - 1), 0);
  }

  Result<std::uint32_t> parse_or();
  Result<std::uint32_t> parse_and();
  Result<std::uint32_t> parse_not();
  Result<std::uint32_t> parse_primary();
  Result<std::uint32_t> parse_predicate();
  Result<Token> expect_value(const std::string& after);
  Result<void> add_value(Pred& p, const Token& value, const std::string& context);

  const std::vector<Token>& toks_;
  Tree& out_;
  std::size_t i_ = 0;
  int depth_ = 0;
  std::vector<std::size_t> open_;  // positions of the open '('s
};

Result<std::uint32_t> Parser::parse_query() {
  const Token& t = peek();
  if (t.kind == Tok::end) return add_node(NodeKind::all, 0, 0);
  auto root = parse_or();
  if (!root) return root;
  const Token& rest = peek();
  if (rest.kind == Tok::rparen) return error_at(rest.pos, "')' without a matching '('");
  if (rest.kind != Tok::end)
    return error_at(rest.pos, "expected AND, OR or the end of the query, found " + describe(rest) +
                                  continuation_hint(rest));
  return root;
}

Result<std::uint32_t> Parser::parse_or() {
  auto first = parse_and();
  if (!first) return first;
  std::vector<std::uint32_t> items{*first};
  while (is_keyword(peek(), "or")) {
    next();
    auto item = parse_and();
    if (!item) return item;
    items.push_back(*item);
  }
  return add_nary(NodeKind::disj, items);
}

Result<std::uint32_t> Parser::parse_and() {
  auto first = parse_not();
  if (!first) return first;
  std::vector<std::uint32_t> items{*first};
  while (is_keyword(peek(), "and")) {
    next();
    auto item = parse_not();
    if (!item) return item;
    items.push_back(*item);
  }
  return add_nary(NodeKind::conj, items);
}

Result<std::uint32_t> Parser::parse_not() {
  // Iterative, so a long NOT NOT NOT … chain cannot deepen the stack; pairs cancel.
  bool negate = false;
  while (is_keyword(peek(), "not")) {
    next();
    negate = !negate;
  }
  auto inner = parse_primary();
  if (!inner || !negate) return inner;
  return add_node(NodeKind::negate, *inner, 0);
}

Result<std::uint32_t> Parser::parse_primary() {
  const Token& t = peek();
  if (t.kind == Tok::lparen) {
    if (depth_ >= kMaxQueryDepth)
      return error_at(t.pos, "parentheses nested deeper than " + std::to_string(kMaxQueryDepth) +
                                 " levels");
    ++depth_;
    open_.push_back(t.pos);
    next();
    auto inner = parse_or();
    if (!inner) return inner;
    const Token& close = peek();
    if (close.kind != Tok::rparen)
      return error_at(close.pos, "expected AND, OR or ')' to close the '(' at position " +
                                     std::to_string(open_.back()) + found(close) +
                                     continuation_hint(close));
    next();
    open_.pop_back();
    --depth_;
    return inner;
  }
  if (t.kind == Tok::word && !is_reserved(t)) {
    if (t.text == "*" || util::iequals(t.text, "all")) {
      next();
      return add_node(NodeKind::all, 0, 0);
    }
    return parse_predicate();
  }
  std::string msg = "expected a field name, NOT or '('";
  if (i_ > 0) msg += " after '" + shown(toks_[i_ - 1].text) + "'";
  return error_at(t.pos, msg + found(t));
}

Result<Token> Parser::expect_value(const std::string& after) {
  const Token& t = peek();
  if (t.kind == Tok::string || (t.kind == Tok::word && !is_reserved(t))) return next();
  std::string msg = "expected a value after '" + after + "'" + found(t);
  if (is_reserved(t)) msg += " (quote it to use it as a value)";
  return error_at(t.pos, std::move(msg));
}

Result<void> Parser::add_value(Pred& p, const Token& value, const std::string& context) {
  const auto& field = info_of(p.field);
  switch (p.kind) {
    case Kind::text:
      p.texts.push_back(p.op == Op::glob || p.op == Op::nglob ? util::to_lower(value.text)
                                                              : value.text);
      return ok();
    case Kind::enumeration: {
      const auto v = parse_enum(p.field, value.text);
      if (!v)
        return error_at(value.pos, "unknown value '" + shown(value.text) + "' for " +
                                       std::string(field.name) + " (accepted: " +
                                       std::string(accepted_values(p.field)) + ")");
      p.enums.push_back(*v);
      return ok();
    }
    case Kind::date: {
      const auto v = parse_date(value.text);
      if (!v)
        return error_at(value.pos, "bad date '" + shown(value.text) + "' after '" + context +
                                       "' (" + std::string(kDateForms) + ")");
      if (v->base == DateValue::Base::never && p.op != Op::eq && p.op != Op::ne)
        return error_at(value.pos, "'" + shown(value.text) + "' only works with = and != (after '" +
                                       context + "')");
      p.date = *v;
      return ok();
    }
  }
  return ok();
}

Result<std::uint32_t> Parser::parse_predicate() {
  const Token& name = next();

  for (const auto& s : kShorthands) {
    if (!util::iequals(s.name, name.text)) continue;
    Pred p;
    p.field = s.field;
    p.kind = Kind::date;
    p.op = s.op;
    const std::string context(s.name);
    auto value = expect_value(context);
    if (!value) return value.error();
    if (auto r = add_value(p, *value, context); !r) return r.error();
    return add_pred(std::move(p));
  }

  const FieldInfo* field = find_field(name.text);
  if (!field)
    return error_at(name.pos, "unknown field '" + shown(name.text) + "' (fields: " + field_list() + ")");

  Pred p;
  p.field = field->field;
  p.kind = field->kind;

  // The operator: a symbol, or the words in / not in / before / after.
  const Token& op = peek();
  std::string op_text = op.text;
  bool list = false;
  if (op.kind == Tok::op) {
    if (op.text == "=" || op.text == "==") p.op = Op::eq;
    else if (op.text == "!=") p.op = Op::ne;
    else if (op.text == "~") p.op = Op::glob;
    else if (op.text == "!~") p.op = Op::nglob;
    else if (op.text == "<") p.op = Op::lt;
    else if (op.text == "<=") p.op = Op::le;
    else if (op.text == ">") p.op = Op::gt;
    else p.op = Op::ge;
    next();
  } else if (is_keyword(op, "before")) {
    p.op = Op::lt;
    next();
  } else if (is_keyword(op, "after")) {
    p.op = Op::gt;
    next();
  } else if (is_keyword(op, "in")) {
    p.op = Op::eq;
    list = true;
    next();
  } else if (is_keyword(op, "not") && is_keyword(toks_[i_ + 1], "in")) {
    p.op = Op::ne;
    list = true;
    op_text = op.text + " " + toks_[i_ + 1].text;
    next();
    next();
  } else {
    return error_at(op.pos, "expected an operator after '" + std::string(field->name) + "' (" +
                                std::string(operators_for(field->kind)) + ")" + found(op));
  }

  // Operators the field's kind does not take.
  const bool is_date_op = p.op == Op::lt || p.op == Op::le || p.op == Op::gt || p.op == Op::ge;
  const bool is_glob = p.op == Op::glob || p.op == Op::nglob;
  const std::string kind_hint = "'" + std::string(field->name) + "' is " +
                                std::string(kind_word(field->kind)) + " (use " +
                                std::string(operators_for(field->kind)) + ")";
  if (is_date_op && field->kind != Kind::date)
    return error_at(op.pos, "'" + shown(op_text) + "' compares dates, but " + kind_hint);
  if (is_glob && field->kind != Kind::text)
    return error_at(op.pos, "'" + op_text + "' matches text patterns, but " + kind_hint);
  if (list && field->kind == Kind::date)
    return error_at(op.pos, "'" + shown(op_text) + "' takes a list of values, but " + kind_hint);

  const std::string context = std::string(field->name) + " " + shown(op_text);
  if (!list) {
    auto value = expect_value(context);
    if (!value) return value.error();
    if (auto r = add_value(p, *value, context); !r) return r.error();
    return add_pred(std::move(p));
  }

  const Token& open = peek();
  if (open.kind != Tok::lparen)
    return error_at(open.pos, "expected '(' after '" + context + "'" + found(open));
  next();
  std::string after = context + " (";
  for (;;) {
    auto value = expect_value(after);
    if (!value) return value.error();
    if (auto r = add_value(p, *value, context); !r) return r.error();
    const Token& sep = peek();
    if (sep.kind == Tok::rparen) {
      next();
      break;
    }
    if (sep.kind != Tok::comma)
      return error_at(sep.pos, "expected ',' or ')' in the list after '" + context + "'" + found(sep));
    next();
    after = ",";
  }
  return add_pred(std::move(p));
}

// ---- evaluation

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Whole-string glob, `*` any run and `?` any one byte; `pattern` is already lower-case.
bool glob_match(std::string_view pattern, std::string_view s) {
  std::size_t p = 0, i = 0;
  std::size_t star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == lower(s[i]))) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view text_of(const Device& d, Field f) {
  switch (f) {
    case Field::name: return d.name;
    case Field::description: return d.description;
    case Field::device_type: return d.device_type;
    case Field::device_pool: return d.device_pool;
    case Field::security_profile: return d.security_profile;
    case Field::lsc_issuer: return d.lsc_issuer;
    default: return {};
  }
}

std::uint8_t enum_of(const Device& d, Field f, util::UnixTime now) {
  switch (f) {
    case Field::operation: return static_cast<std::uint8_t>(d.operation);
    case Field::auth_mode: return static_cast<std::uint8_t>(d.auth_mode);
    case Field::operation_status: return static_cast<std::uint8_t>(d.status);
    case Field::lsc_status: {
      LscStatus s = LscStatus::valid;
      if (d.lsc_serial.empty()) s = LscStatus::none;
      else if (d.lsc_not_after <= now) s = LscStatus::expired;
      return static_cast<std::uint8_t>(s);
    }
    default: return 0xff;
  }
}

/// The date a device has for the field; nullopt when unset (no LSC, never seen, no deadline).
std::optional<util::UnixTime> date_of(const Device& d, Field f) {
  switch (f) {
    case Field::lsc_expires:
      if (d.lsc_serial.empty()) return std::nullopt;
      return d.lsc_not_after;
    case Field::last_seen:
      if (d.last_seen == 0) return std::nullopt;
      return d.last_seen;
    case Field::completes_by: return d.completes_by;
    default: return std::nullopt;
  }
}

bool eval_pred(const Pred& p, const Device& d, util::UnixTime now) {
  switch (p.kind) {
    case Kind::text: {
      const std::string_view v = text_of(d, p.field);
      if (p.op == Op::glob) return glob_match(p.texts.front(), v);
      if (p.op == Op::nglob) return !glob_match(p.texts.front(), v);
      bool any = false;
      for (const auto& t : p.texts)
        if (util::iequals(v, t)) {
          any = true;
          break;
        }
      return p.op == Op::eq ? any : !any;
    }
    case Kind::enumeration: {
      const std::uint8_t v = enum_of(d, p.field, now);
      bool any = false;
      for (std::uint8_t e : p.enums) any = any || e == v;
      return p.op == Op::eq ? any : !any;
    }
    case Kind::date: {
      const auto x = date_of(d, p.field);
      if (p.date.base == DateValue::Base::never) return p.op == Op::eq ? !x : x.has_value();
      if (!x) {
        // Never seen = infinitely old; an unset LSC date or deadline matches nothing.
        if (p.field == Field::last_seen) return p.op == Op::lt || p.op == Op::le || p.op == Op::ne;
        return false;
      }
      const std::int64_t lo = p.date.base == DateValue::Base::now ? now + p.date.offset : p.date.offset;
      const std::int64_t hi = lo + p.date.span;
      switch (p.op) {
        case Op::eq: return *x >= lo && *x < hi;
        case Op::ne: return *x < lo || *x >= hi;
        case Op::lt: return *x < lo;
        case Op::le: return *x < hi;
        case Op::gt: return *x >= hi;
        case Op::ge: return *x >= lo;
        default: return false;
      }
    }
  }
  return false;
}

bool Tree::eval(std::uint32_t index, const Device& d, util::UnixTime now) const {
  const Node& n = nodes[index];
  switch (n.kind) {
    case NodeKind::all: return true;
    case NodeKind::pred: return eval_pred(preds[n.first], d, now);
    case NodeKind::negate: return !eval(n.first, d, now);
    case NodeKind::conj:
      for (std::uint32_t k = 0; k < n.count; ++k)
        if (!eval(kids[n.first + k], d, now)) return false;
      return true;
    case NodeKind::disj:
      for (std::uint32_t k = 0; k < n.count; ++k)
        if (eval(kids[n.first + k], d, now)) return true;
      return false;
  }
  return false;
}

}  // namespace

struct Query::Impl {
  std::string text;
  Tree tree;
};

// ---- public API

Query::Query(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Query> Query::parse(std::string_view text) {
  if (text.size() > kMaxQueryLength)
    return error_at(kMaxQueryLength + 1, "query longer than " + std::to_string(kMaxQueryLength) +
                                             " characters (" + std::to_string(text.size()) + ")");
  auto tokens = lex(text);
  if (!tokens) return tokens.error();
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  Parser parser(*tokens, impl->tree);
  auto root = parser.parse_query();
  if (!root) return root.error();
  impl->tree.root = *root;
  return Query(std::move(impl));
}

bool Query::matches(const Device& d, util::UnixTime now) const { return impl_->tree.eval(impl_->tree.root, d, now);
}

const std::string& Query::text() const { return impl_->text; }

const std::vector<std::string>& Query::fields() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : kFields) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

}  // namespace capf::jobs
