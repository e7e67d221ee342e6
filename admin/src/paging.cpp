#include "capf/admin/paging.hpp"

#include <span>

#include "capf/admin/admin_service.hpp"
#include "capf/util/text.hpp"

namespace capf::admin {

namespace {

/// Longest cursor accepted: a sort key of a long description and a long name, in hex.
constexpr std::size_t kMaxCursor = 4096;

/// "name.a." — what a cursor is for.
std::string cursor_prefix(const PageRequest& r) { return r.sort + (r.descending ? ".d." : ".a."); }

}  // namespace

Result<std::optional<PageRequest>> page_request(const std::string& query, const std::vector<std::string_view>& columns,
                                                bool default_descending) {
  const std::string size_text = query_param(query, "page_size");
  if (size_text.empty()) return std::optional<PageRequest>{};
  auto bad = [](std::string m) { return make_error(Errc::invalid_argument, std::move(m)); };
  PageRequest r;
  const auto size = util::parse_int(size_text);
  if (!size || *size < 1 || *size > static_cast<std::int64_t>(kMaxPageSize))
    return bad("page_size must be 1 to " + std::to_string(kMaxPageSize));
  r.size = static_cast<std::size_t>(*size);
  r.sort = query_param(query, "sort");
  if (r.sort.empty()) r.sort = std::string(columns.front());
  if (std::find(columns.begin(), columns.end(), r.sort) == columns.end()) {
    std::string list;
    for (auto c : columns) list += (list.empty() ? "" : ", ") + std::string(c);
    return bad("cannot sort by \"" + r.sort.substr(0, 40) + "\" (sort by " + list + ")");
  }
  const std::string order = query_param(query, "order");
  if (order.empty()) r.descending = default_descending;
  else if (order == "asc" || order == "desc") r.descending = order == "desc";
  else return bad("order must be asc or desc");
  r.count = query_param(query, "count") != "0";
  const std::string after = query_param(query, "after");
  if (!after.empty()) {
    const std::string prefix = cursor_prefix(r);
    if (after.size() > kMaxCursor || after.rfind(prefix, 0) != 0)
      return bad("after is not a cursor of this listing sorted by " + r.sort + (r.descending ? " desc" : " asc") +
                 " (start again from the first page)");
    auto bytes = util::from_hex(std::string_view(after).substr(prefix.size()));
    if (!bytes || bytes->empty()) return bad("after is not a cursor (start again from the first page)");
    r.after.assign(bytes->begin(), bytes->end());
  }
  return std::optional<PageRequest>{std::move(r)};
}

std::string page_cursor(const PageRequest& r, std::string_view sort_key) {
  return cursor_prefix(r) + util::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(sort_key.data()), sort_key.size()));
}

std::string sort_key(std::string_view value, std::string_view unique) {
  std::string key;
  key.reserve(value.size() + 1 + unique.size());
  // Case-insensitive, and no NUL inside the value, so the separator keeps every key unique.
  for (char c : value) key.push_back(c == '\0' ? '\x01' : c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  key.push_back('\0');
  key.append(unique);
  return key;
}

std::string sort_key(std::int64_t value, std::string_view unique) {
  const auto v = static_cast<std::uint64_t>(value) ^ (std::uint64_t{1} << 63);
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(v >> (56 - 8 * i));
  key.push_back('\0');
  key.append(unique);
  return key;
}

}  // namespace capf::admin
