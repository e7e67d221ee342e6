// The device query language, part two: the recursive-descent parser from tokens into the flat
// node array of a Tree.
#include <utility>

#include "capf/inventory/query.hpp"
#include "query_detail.hpp"

namespace capf::inventory::query_detail {

namespace {

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

/// An operator as written: its text (for messages) and whether a list of values follows.
struct OperatorRead {
  std::string text;
  bool list = false;
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
  /// The operator after a field name: a symbol, or the words in / not in / before / after; sets
  /// p.op and refuses one the field's kind does not take.
  Result<OperatorRead> parse_operator(const FieldInfo& field, Pred& p);
  /// The values of `in (…)` / `not in (…)`, from the '('.
  Result<void> parse_list(Pred& p, const std::string& context);
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
    return error_at(rest.pos,
                    "expected AND, OR or the end of the query, found " + describe(rest) + continuation_hint(rest));
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
      return error_at(t.pos, "parentheses nested deeper than " + std::to_string(kMaxQueryDepth) + " levels");
    ++depth_;
    open_.push_back(t.pos);
    next();
    auto inner = parse_or();
    if (!inner) return inner;
    const Token& close = peek();
    if (close.kind != Tok::rparen)
      return error_at(close.pos, "expected AND, OR or ')' to close the '(' at position " +
                                     std::to_string(open_.back()) + found(close) + continuation_hint(close));
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
      p.texts.push_back(p.op == Op::glob || p.op == Op::nglob ? util::to_lower(value.text) : value.text);
      return ok();
    case Kind::enumeration: {
      const auto v = parse_enum(p.field, value.text);
      if (!v)
        return error_at(value.pos, "unknown value '" + shown(value.text) + "' for " + std::string(field.name) +
                                       " (accepted: " + std::string(accepted_values(p.field)) + ")");
      p.enums.push_back(*v);
      return ok();
    }
    case Kind::date: {
      const auto v = parse_date(value.text);
      if (!v)
        return error_at(value.pos, "bad date '" + shown(value.text) + "' after '" + context + "' (" +
                                       std::string(kDateForms) + ")");
      if (v->base == DateValue::Base::never && p.op != Op::eq && p.op != Op::ne)
        return error_at(value.pos, "'" + shown(value.text) + "' only works with = and != (after '" + context + "')");
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
  if (!field) return error_at(name.pos, "unknown field '" + shown(name.text) + "' (fields: " + field_list() + ")");

  Pred p;
  p.field = field->field;
  p.kind = field->kind;
  auto op = parse_operator(*field, p);
  if (!op) return op.error();

  const std::string context = std::string(field->name) + " " + shown(op->text);
  if (op->list) {
    if (auto r = parse_list(p, context); !r) return r.error();
    return add_pred(std::move(p));
  }
  auto value = expect_value(context);
  if (!value) return value.error();
  if (auto r = add_value(p, *value, context); !r) return r.error();
  return add_pred(std::move(p));
}

Result<OperatorRead> Parser::parse_operator(const FieldInfo& field, Pred& p) {
  const Token& op = peek();
  OperatorRead read{op.text, false};
  if (op.kind == Tok::op) {
    if (op.text == "=" || op.text == "==")
      p.op = Op::eq;
    else if (op.text == "!=")
      p.op = Op::ne;
    else if (op.text == "~")
      p.op = Op::glob;
    else if (op.text == "!~")
      p.op = Op::nglob;
    else if (op.text == "<")
      p.op = Op::lt;
    else if (op.text == "<=")
      p.op = Op::le;
    else if (op.text == ">")
      p.op = Op::gt;
    else
      p.op = Op::ge;
    next();
  } else if (is_keyword(op, "before")) {
    p.op = Op::lt;
    next();
  } else if (is_keyword(op, "after")) {
    p.op = Op::gt;
    next();
  } else if (is_keyword(op, "in")) {
    p.op = Op::eq;
    read.list = true;
    next();
  } else if (is_keyword(op, "not") && is_keyword(toks_[i_ + 1], "in")) {
    p.op = Op::ne;
    read.list = true;
    read.text = op.text + " " + toks_[i_ + 1].text;
    next();
    next();
  } else {
    return error_at(op.pos, "expected an operator after '" + std::string(field.name) + "' (" +
                                std::string(operators_for(field.kind)) + ")" + found(op));
  }

  // Operators the field's kind does not take.
  const bool is_date_op = p.op == Op::lt || p.op == Op::le || p.op == Op::gt || p.op == Op::ge;
  const bool is_glob = p.op == Op::glob || p.op == Op::nglob;
  const std::string kind_hint = "'" + std::string(field.name) + "' is " + std::string(kind_word(field.kind)) +
                                " (use " + std::string(operators_for(field.kind)) + ")";
  if (is_date_op && field.kind != Kind::date)
    return error_at(op.pos, "'" + shown(read.text) + "' compares dates, but " + kind_hint);
  if (is_glob && field.kind != Kind::text)
    return error_at(op.pos, "'" + read.text + "' matches text patterns, but " + kind_hint);
  if (read.list && field.kind == Kind::date)
    return error_at(op.pos, "'" + shown(read.text) + "' takes a list of values, but " + kind_hint);
  return read;
}

Result<void> Parser::parse_list(Pred& p, const std::string& context) {
  const Token& open = peek();
  if (open.kind != Tok::lparen) return error_at(open.pos, "expected '(' after '" + context + "'" + found(open));
  next();
  std::string after = context + " (";
  for (;;) {
    auto value = expect_value(after);
    if (!value) return value.error();
    if (auto r = add_value(p, *value, context); !r) return r.error();
    const Token& sep = peek();
    if (sep.kind == Tok::rparen) {
      next();
      return ok();
    }
    if (sep.kind != Tok::comma)
      return error_at(sep.pos, "expected ',' or ')' in the list after '" + context + "'" + found(sep));
    next();
    after = ",";
  }
}

}  // namespace

Result<std::uint32_t> parse_tokens(const std::vector<Token>& tokens, Tree& out) {
  Parser parser(tokens, out);
  return parser.parse_query();
}

}  // namespace capf::inventory::query_detail
