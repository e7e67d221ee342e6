// BAT-style phone CSV (SPEC §5): RFC 4180 through libcsv, UTF-8 with or without BOM.
// Each bad row yields an issue naming file:line:column and the reason; good rows go on.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/util/result.hpp"

namespace capf::inventory {

/// One problem in a CSV file.
struct CsvIssue {
  std::string file;
  std::size_t line = 0;    ///< 1-based physical line where the record starts
  std::size_t column = 0;  ///< 1-based column; 0 when the whole row is at fault
  std::string reason;
  /// "file:line:column: reason".
  std::string to_string() const;
};

/// The values one CSV row sets. Only the columns present in the file are set; the rest stay
/// nullopt so an import updates just what the file names.
/// An empty cell also leaves its field nullopt (unchanged). Operation Completes By follows the
/// same rule: empty leaves the deadline alone; the word `None` clears it (completes_by then
/// holds an empty inner optional).
struct PhoneRow {
  std::size_t line = 0;
  std::string name;
  std::optional<std::string> description, device_type, device_pool, security_profile;
  std::optional<CertificateOperation> operation;
  std::optional<AuthMode> auth_mode;
  std::optional<std::string> auth_string;
  std::optional<int> rsa_key_bits;
  std::optional<KeyOrder> key_order;
  std::optional<int> ec_key_bits;
  std::optional<std::optional<util::UnixTime>> completes_by;  ///< set-to-empty clears it
  std::optional<std::string> ipv4, ipv6;
  /// "Device Security Mode"; when the row has none, a profile it names implies one.
  std::optional<SecurityMode> security_mode;
};

/// Parse options.
struct CsvOptions {
  bool strict = false;  ///< any issue rejects the whole file (no rows returned)
  /// IANA zone of Operation Completes By in Unified CM's "YYYY:MM:DD:HH" form (the `time-zone`
  /// service parameter); an unknown zone is a file-level error.
  std::string time_zone = "UTC";
};

/// Parse outcome: good rows and issues. A file-level problem (no header, unknown or missing
/// required column, not UTF-8) is an Error instead.
struct CsvParseResult {
  std::vector<PhoneRow> rows;
  std::vector<CsvIssue> issues;
  std::size_t records = 0;  ///< data records seen (good + bad)
};

/// The header names understood, as the bulk administration tool spells them.
const std::vector<std::string>& known_columns();

/// Parses CSV text. `file` names the source in issues.
Result<CsvParseResult> parse_phones_csv(std::string_view content, const std::string& file, const CsvOptions& options);

/// Receives good rows, in file order, a chunk at a time; it may move from them.
using RowSink = std::function<void(std::vector<PhoneRow>&)>;

/// Parses as above but hands the good rows to `sink` in chunks of `chunk_rows` as it goes,
/// so a large file is never held as rows all at once; the result then holds issues and counts
/// and no rows. In strict mode the sink still sees every good row: the caller discards them
/// when the result has issues. On an Error the rows already handed over mean nothing.
Result<CsvParseResult> parse_phones_csv(std::string_view content, const std::string& file, const CsvOptions& options,
                                        std::size_t chunk_rows, const RowSink& sink);

/// The same with the parse on a thread of its own: `sink` runs on the calling thread, a chunk
/// behind the parser, so parsing and what the sink does with the rows share two cores. An
/// exception from `sink` stops the parser and is rethrown.
Result<CsvParseResult> parse_phones_csv_alongside(std::string_view content, const std::string& file,
                                                  const CsvOptions& options, std::size_t chunk_rows,
                                                  const RowSink& sink);

/// Applies a row onto a device (a new one starts from defaults). A row that arms an
/// operation sets the status to pending and clears the failure count.
void apply_row(Device& device, const PhoneRow& row, util::UnixTime now);

/// Checks a device's CAPF settings together (e.g. auth-string mode needs a 4–10 digit
/// string; EC key sizes 256/384/521). Empty when fine, else the reason.
std::optional<std::string> check_capf_settings(const Device& d);

}  // namespace capf::inventory
