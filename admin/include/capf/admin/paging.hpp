// Pages of a listing, cut on the server: the sort column and direction, the page size, and a
// cursor that says where the previous page ended, so that no client ever holds a 40,000-device
// list. The count is that of the whole query, not of the page.
//
// Query parameters of a paged listing: page_size=N (1–1000; without it a route answers its whole
// list as before), sort=COLUMN, order=asc|desc, after=CURSOR (the `next` of the previous page),
// count=0 (skip counting the matches, for the pages after the first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capf/util/result.hpp"

namespace capf::admin {

/// Rows a page may hold.
inline constexpr std::size_t kMaxPageSize = 1000;

/// What one page request asks for.
struct PageRequest {
  std::string sort;         ///< one of the listing's columns
  bool descending = false;  ///< order=desc
  std::size_t size = 50;    ///< rows on the page
  std::string after;        ///< sort key of the previous page's last row; "" = the first page
  bool count = true;        ///< count every match
};

/// Reads a paged request from a query string; nullopt when it has no page_size (the route then
/// answers its whole list). `columns` are the sortable columns, the first the default, in
/// `default_descending` order. Errors (Errc::invalid_argument) name the parameter: an unknown
/// column, a size out of range, or a cursor made for another sort.
Result<std::optional<PageRequest>> page_request(const std::string& query, const std::vector<std::string_view>& columns,
                                                bool default_descending = false);

/// The cursor text of a page's last sort key (hex, tied to the sort column and order).
std::string page_cursor(const PageRequest& r, std::string_view sort_key);

/// Sort keys that compare as bytes: a value, then NUL and the record's unique key, so that
/// equal values keep a stable order and every key names one record.
std::string sort_key(std::string_view value, std::string_view unique);
/// The same for a number (big-endian, sign bit flipped).
std::string sort_key(std::int64_t value, std::string_view unique);

/// Keeps the rows of one page from matches offered in any order: those after the cursor in the
/// sort order, the first `size` of them. O(matches × log size).
template <class Row>
class PageCollector {
 public:
  explicit PageCollector(const PageRequest& r) : request_(r) {}

  /// Counts a match; true when a row with this key would be on the page (so the caller builds
  /// it and calls add()).
  bool offer(const std::string& key) {
    ++matched_;
    if (!request_.after.empty() && !before(request_.after, key)) return false;
    ++after_cursor_;
    return rows_.size() < request_.size || before(key, rows_.front().first);
  }
  /// Adds a row that offer() wanted.
  void add(std::string key, Row row) {
    rows_.emplace_back(std::move(key), std::move(row));
    std::push_heap(rows_.begin(), rows_.end(), Earlier{request_.descending});
    if (rows_.size() > request_.size) {
      std::pop_heap(rows_.begin(), rows_.end(), Earlier{request_.descending});
      rows_.pop_back();
    }
  }
  /// True once a scan in the sort order may stop: the page is full and more is known to follow.
  bool full() const { return after_cursor_ > request_.size; }
  std::size_t matched() const { return matched_; }
  /// The page in order, and the cursor of the next page ("" when this is the last).
  std::vector<Row> take(std::string& next) {
    std::sort_heap(rows_.begin(), rows_.end(), Earlier{request_.descending});
    next = after_cursor_ > rows_.size() && !rows_.empty() ? page_cursor(request_, rows_.back().first) : "";
    std::vector<Row> out;
    out.reserve(rows_.size());
    for (auto& r : rows_) out.push_back(std::move(r.second));
    rows_.clear();
    return out;
  }

 private:
  /// a comes before b in the requested order.
  bool before(const std::string& a, const std::string& b) const { return request_.descending ? a > b : a < b; }
  struct Earlier {
    bool descending;
    bool operator()(const std::pair<std::string, Row>& a, const std::pair<std::string, Row>& b) const {
      return descending ? a.first > b.first : a.first < b.first;
    }
  };
  PageRequest request_;
  std::size_t matched_ = 0, after_cursor_ = 0;
  /// The page so far as a heap, its last row at the front.
  std::vector<std::pair<std::string, Row>> rows_;
};

}  // namespace capf::admin
