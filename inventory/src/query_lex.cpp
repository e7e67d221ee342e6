// The device query language, part one: the lexer, token helpers for error messages, and the
// parsing of values (dates, enumeration words) and help texts about fields and operators.
#include <utility>

#include "capf/core/vocabulary.hpp"
#include "query_detail.hpp"

namespace capf::inventory::query_detail {

// ---- lexer

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
    case '.':
    case '_':
    case ':':
    case '/':
    case '@':
    case '*':
    case '?':
    case '+':
    case '-':
      return true;
    default:
      return false;
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

Result<std::vector<Token>> lex(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  const auto push = [&](Tok kind, std::string t, std::size_t at) { out.push_back(Token{kind, std::move(t), at + 1}); };
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
    case Tok::end:
      return "end of query";
    case Tok::string:
      return "\"" + shown(t.text) + "\"";
    default:
      return "'" + shown(t.text) + "'";
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
std::string found(const Token& t) {
  return t.kind == Tok::end ? "" : ", found " + describe(t);
}

// ---- values

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
      case 's':
        scale = 1;
        break;
      case 'm':
        scale = 60;
        break;
      case 'h':
        scale = 3600;
        break;
      case 'd':
        scale = 86400;
        break;
      case 'w':
        scale = 7 * 86400;
        break;
      default:
        return std::nullopt;
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
    case Field::operation:
      return as_byte(parse_operation(text));
    case Field::auth_mode:
      return as_byte(parse_auth_mode(text));
    case Field::operation_status:
      return as_byte(parse_status_word(text));
    case Field::security_mode:
      return as_byte(parse_security_mode(text));
    case Field::lsc_status: {
      const auto t = util::trim(text);
      if (util::iequals(t, "none")) return static_cast<std::uint8_t>(LscStatus::none);
      if (util::iequals(t, "valid")) return static_cast<std::uint8_t>(LscStatus::valid);
      if (util::iequals(t, "expired")) return static_cast<std::uint8_t>(LscStatus::expired);
      if (util::iequals(t, "revoked")) return static_cast<std::uint8_t>(LscStatus::revoked);
      return std::nullopt;
    }
    default:
      return std::nullopt;
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
    case Field::lsc_status:
      return "none, valid, expired, revoked";
    case Field::security_mode:
      return "\"Non Secure\" (or nonsecure), authenticated, encrypted";
    default:
      return "";
  }
}

std::string_view operators_for(Kind kind) {
  switch (kind) {
    case Kind::text:
      return "=, !=, ~, !~, in, not in";
    case Kind::enumeration:
      return "=, !=, in, not in";
    case Kind::date:
      return "=, !=, <, <=, >, >=, before, after";
  }
  return "";
}

std::string_view kind_word(Kind kind) {
  switch (kind) {
    case Kind::text:
      return "a text field";
    case Kind::enumeration:
      return "a field with fixed values";
    case Kind::date:
      return "a date field";
  }
  return "";
}

std::string field_list() {
  std::string out;
  for (const auto& f : kFields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out +
         "; shorthands: lsc_expires_before, lsc_expires_after, last_seen_before, "
         "last_seen_after";
}

}  // namespace capf::inventory::query_detail
