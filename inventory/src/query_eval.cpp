// The device query language, part three: an evaluator that neither allocates nor uses regular
// expressions (a 100,000-device inventory is filtered on every `phones list --where` and job
// preview), and the public Query API.
#include <memory>
#include <optional>
#include <utility>

#include "capf/inventory/query.hpp"
#include "query_detail.hpp"

namespace capf::inventory {

namespace query_detail {

namespace {

// ---- evaluation

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

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
    case Field::name:
      return d.name;
    case Field::description:
      return d.description;
    case Field::device_type:
      return d.device_type;
    case Field::device_pool:
      return d.device_pool;
    case Field::security_profile:
      return d.security_profile;
    case Field::lsc_issuer:
      return d.lsc_issuer;
    default:
      return {};
  }
}

std::uint8_t enum_of(const Device& d, Field f, const EvalContext& c) {
  switch (f) {
    case Field::operation:
      return static_cast<std::uint8_t>(d.operation);
    case Field::auth_mode:
      return static_cast<std::uint8_t>(d.auth_mode);
    case Field::operation_status:
      return static_cast<std::uint8_t>(d.status);
    case Field::security_mode:
      return static_cast<std::uint8_t>(d.security_mode);
    case Field::lsc_status: {
      LscStatus s = LscStatus::valid;
      if (d.lsc_serial.empty())
        s = LscStatus::none;
      else if (c.revoked != nullptr && c.revoked->count(d.lsc_serial) != 0)
        s = LscStatus::revoked;
      else if (d.lsc_not_after <= c.now)
        s = LscStatus::expired;
      return static_cast<std::uint8_t>(s);
    }
    default:
      return 0xff;
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
    case Field::completes_by:
      return d.completes_by;
    default:
      return std::nullopt;
  }
}

bool eval_pred(const Pred& p, const Device& d, const EvalContext& c) {
  const util::UnixTime now = c.now;
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
      const std::uint8_t v = enum_of(d, p.field, c);
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
        case Op::eq:
          return *x >= lo && *x < hi;
        case Op::ne:
          return *x < lo || *x >= hi;
        case Op::lt:
          return *x < lo;
        case Op::le:
          return *x < hi;
        case Op::gt:
          return *x >= hi;
        case Op::ge:
          return *x >= lo;
        default:
          return false;
      }
    }
  }
  return false;
}

}  // namespace

bool Tree::eval(std::uint32_t index, const Device& d, const EvalContext& c) const {
  const Node& n = nodes[index];
  switch (n.kind) {
    case NodeKind::all:
      return true;
    case NodeKind::pred:
      return eval_pred(preds[n.first], d, c);
    case NodeKind::negate:
      return !eval(n.first, d, c);
    case NodeKind::conj:
      for (std::uint32_t k = 0; k < n.count; ++k)
        if (!eval(kids[n.first + k], d, c)) return false;
      return true;
    case NodeKind::disj:
      for (std::uint32_t k = 0; k < n.count; ++k)
        if (eval(kids[n.first + k], d, c)) return true;
      return false;
  }
  return false;
}

}  // namespace query_detail

struct Query::Impl {
  std::string text;
  query_detail::Tree tree;
};

// ---- public API

Query::Query(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Query> Query::parse(std::string_view text) {
  if (text.size() > kMaxQueryLength)
    return query_detail::error_at(kMaxQueryLength + 1, "query longer than " + std::to_string(kMaxQueryLength) +
                                                           " characters (" + std::to_string(text.size()) + ")");
  auto tokens = query_detail::lex(text);
  if (!tokens) return tokens.error();
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  auto root = query_detail::parse_tokens(*tokens, impl->tree);
  if (!root) return root.error();
  impl->tree.root = *root;
  return Query(std::move(impl));
}

bool Query::matches(const Device& d, util::UnixTime now) const {
  return matches(d, EvalContext{now, nullptr});
}

bool Query::matches(const Device& d, const EvalContext& c) const {
  return impl_->tree.eval(impl_->tree.root, d, c);
}

bool Query::uses_revocation() const {
  for (const auto& p : impl_->tree.preds)
    if (p.field == query_detail::Field::lsc_status) return true;
  return false;
}

const std::string& Query::text() const {
  return impl_->text;
}

const std::vector<std::string>& Query::fields() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : query_detail::kFields) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

}  // namespace capf::inventory
