// Internal to capf_inventory: the header map and the per-record checks of the phone CSV import,
// kept apart from the libcsv driver in phones_csv.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capf/inventory/phones_csv.hpp"
#include "capf/util/huge_pages.hpp"
#include "capf/util/time.hpp"

namespace date {
class time_zone;
}

namespace capf::inventory::detail {

/// The columns of known_columns(), in that order.
enum class Column : std::uint8_t {
  name,
  description,
  device_type,
  device_pool,
  security_profile,
  operation,
  auth_mode,
  auth_string,
  rsa_key_bits,
  key_order,
  ec_key_bits,
  completes_by,
  ipv4,
  ipv6,
  security_mode,
};
inline constexpr std::size_t kColumnCount = 15;

/// Device name → line of its first record, case-insensitive. Names are at most 15 bytes
/// (valid_device_name), so a key is the lower-cased name zero-padded to 16 bytes in an
/// open-addressing table: no allocation per row, unlike a node-based map of strings.
class NameIndex {
 public:
  /// Sizes the table for about `names` entries.
  void reserve(std::size_t names);
  /// Records `line` (> 0) for `name` (a valid device name, so ≤ 15 bytes) unless it is already
  /// there; returns the first line either way.
  std::size_t insert(std::string_view name, std::size_t line);

 private:
  // No member initializers: an implicit-lifetime type, so the zeroed buffer holds empty slots
  // as it is, without a second pass to construct them.
  struct Slot {
    std::uint64_t lo, hi;
    std::size_t line;  ///< 0 = empty
  };
  void grow();
  // Zero bytes are empty slots; a large table sits on huge pages (util/huge_pages.hpp): it is
  // probed at random once per row.
  std::unique_ptr<std::byte[], util::FreeDeleter> memory_;
  Slot* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

/// True when the bytes are well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool valid_utf8(std::string_view s);

/// Operation Completes By as util::parse_iso8601 reads it, with a fast path for "YYYY-MM-DD"
/// and "YYYY-MM-DD[ T]HH:MM[:SS][Z]" (UTC).
std::optional<util::UnixTime> parse_deadline(std::string_view v);

/// Turns records into PhoneRows: owns the header map and the duplicate-name index.
class RowChecker {
 public:
  /// The zone of Operation Completes By in Unified CM's "YYYY:MM:DD:HH" form (default UTC).
  Result<void> set_time_zone(std::string_view name);

  /// Reads the header record (found at `line`); a problem is an Error naming file:line[:column].
  Result<void> read_header(std::span<const std::string_view> fields, std::size_t line, const std::string& file);

  /// Checks one data record that starts at `line`. On success fills `row` and returns true; on
  /// any problem appends every issue found to `issues` and returns false.
  bool check(std::span<const std::string_view> fields, std::size_t line, const std::string& file, PhoneRow& row,
             std::vector<CsvIssue>& issues);

  /// Sizes the duplicate-name index for about `rows` records.
  void reserve(std::size_t rows);

 private:
  const date::time_zone& zone();
  /// One non-empty cell of column `id` into `row`; each problem is appended to `problems`.
  void check_cell(Column id, std::string_view v, const std::optional<AuthMode>& mode, std::size_t line, PhoneRow& row,
                  std::vector<std::string>& problems);
  std::vector<Column> columns_;            ///< csv column → meaning
  std::array<int, kColumnCount> index_{};  ///< meaning → csv column, -1 when absent
  NameIndex first_line_;
  const date::time_zone* zone_ = nullptr;  ///< null until set: UTC
};

}  // namespace capf::inventory::detail
