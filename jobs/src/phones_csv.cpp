// The libcsv driver of the phone CSV import: BOM, physical line numbers, blank lines, parse
// errors and recovery. Field meanings and value checks live in phones_csv_rows.cpp.
//
// libcsv reports neither positions nor blank lines, so the driver feeds it one physical line at
// a time (only '\n' ends a record; '\r' counts as trailing white space, so CRLF and LF both
// work). A record starts on the line fed while the parser sat between records; a row callback
// can only fire on the '\n' that ends the line just fed. This keeps line numbers exact across
// quoted newlines at the cost of one csv_parse call per line.
#include <csv.h>

#include <cstring>

#include "capf/jobs/phones_csv.hpp"
#include "phones_csv_rows.hpp"

namespace capf::jobs {

namespace {

constexpr unsigned char kCsvOptions = CSV_STRICT | CSV_STRICT_FINI;
/// Fields kept per record; a record with more is reported by count only.
constexpr std::size_t kMaxFields = 1024;

int is_term(unsigned char c) { return c == '\n'; }
int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

class Importer {
 public:
  Importer(const std::string& file, const CsvOptions& options) : file_(file), options_(options) { init_parser(); }
  ~Importer() { csv_free(&parser_); }
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  Result<CsvParseResult> run(std::string_view content) {
    if (content.size() >= 2 && ((content[0] == '\xFF' && content[1] == '\xFE') || (content[0] == '\xFE' && content[1] == '\xFF')))
      return make_error(Errc::invalid_argument, file_ + ": the file is UTF-16; save it as UTF-8 (CSV UTF-8)");
    if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
    // Records ≤ lines: one memchr sweep sizes the row vector and the name index exactly.
    std::size_t lines = 1;
    const char* const stop = content.data() + content.size();
    for (const char* p = content.data(); p != stop && (p = static_cast<const char*>(std::memchr(p, '\n', stop - p))); ++p)
      ++lines;
    checker_.reserve(lines);
    result_.rows.reserve(lines);

    bool in_record = false;
    std::size_t pos = 0;
    while (pos < content.size()) {
      const void* nl = std::memchr(content.data() + pos, '\n', content.size() - pos);
      const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - content.data()) + 1 : content.size();
      const std::string_view line = content.substr(pos, end - pos);
      pos = end;
      ++line_;
      if (!in_record) {
        if (blank(line)) {
          issue(line_, 0, "blank line");
          continue;
        }
        record_line_ = line_;
        nfields_ = 0;
      }
      row_ended_ = false;
      const std::size_t used = csv_parse(&parser_, line.data(), line.size(), on_field, on_row, this);
      if (fatal_) return std::move(*fatal_);
      if (used < line.size()) {
        if (auto err = parse_error(line[used]); !err.ok()) return err.error();
        in_record = false;
        continue;
      }
      in_record = !row_ended_;
    }
    if (in_record && csv_fini(&parser_, on_field, on_row, this) != 0) {
      if (csv_error(&parser_) == CSV_EPARSE)
        return make_error(Errc::invalid_argument, file_ + ":" + std::to_string(record_line_) + ":" +
                                                      std::to_string(nfields_ + 1) +
                                                      ": quoted field is never closed; the rest of the file cannot be read");
      return make_error(Errc::internal, file_ + ": CSV parser failed: " + csv_strerror(csv_error(&parser_)));
    }
    if (fatal_) return std::move(*fatal_);
    if (!have_header_) return make_error(Errc::invalid_argument, file_ + ":1: no header row (the file is empty)");
    if (options_.strict && !result_.issues.empty()) result_.rows.clear();
    return std::move(result_);
  }

 private:
  void init_parser() {
    csv_init(&parser_, kCsvOptions);
    csv_set_term_func(&parser_, is_term);
    csv_set_space_func(&parser_, is_space);
  }

  void issue(std::size_t line, std::size_t column, std::string reason) {
    result_.issues.push_back(CsvIssue{file_, line, column, std::move(reason)});
  }

  static void on_field(void* data, std::size_t len, void* self) {
    auto& me = *static_cast<Importer*>(self);
    const std::size_t n = me.nfields_++;
    if (n >= kMaxFields) return;
    if (n >= me.fields_.size()) me.fields_.emplace_back();
    auto& f = me.fields_[n];
    const char* s = static_cast<const char*>(data);
    if (len == 0 || s == nullptr) {
      f.clear();
    } else if (std::memchr(s, '\r', len) == nullptr) {
      f.assign(s, len);
    } else {
      // A quoted newline from a CRLF file keeps its meaning as one "\n".
      f.clear();
      for (std::size_t i = 0; i < len; ++i)
        if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) f.push_back(s[i]);
    }
  }

  static void on_row(int, void* self) {
    auto& me = *static_cast<Importer*>(self);
    me.row_ended_ = true;
    me.end_record();
    me.nfields_ = 0;
  }

  void end_record() {
    if (fatal_) return;
    if (!have_header_) {
      if (nfields_ > kMaxFields) {
        fatal_ = make_error(Errc::invalid_argument, file_ + ":" + std::to_string(record_line_) + ": header has " +
                                                        std::to_string(nfields_) + " columns");
        return;
      }
      auto header = checker_.read_header({fields_.data(), nfields_}, record_line_, file_);
      if (!header.ok()) fatal_ = header.error();
      have_header_ = true;
      header_columns_ = nfields_;
      return;
    }
    ++result_.records;
    if (nfields_ > kMaxFields) {
      issue(record_line_, 0, "expected " + std::to_string(header_columns_) + " fields, found " + std::to_string(nfields_));
      return;
    }
    // Checked in place: a bad row is popped again, a good one is never copied.
    auto& row = result_.rows.emplace_back();
    if (!checker_.check({fields_.data(), nfields_}, record_line_, file_, row, result_.issues)) result_.rows.pop_back();
  }

  /// libcsv stopped at `bad` in strict mode: report the record, skip the rest of the line and
  /// start afresh on the next one.
  Result<void> parse_error(char bad) {
    const int code = csv_error(&parser_);
    if (code != CSV_EPARSE) return make_error(Errc::internal, file_ + ": CSV parser failed: " + csv_strerror(code));
    std::string reason = bad == '"' ? "bad quoting: a '\"' inside a field needs the whole field quoted and the quote doubled"
                                    : "bad quoting: unexpected text after the closing quote";
    if (line_ != record_line_) reason += " (on line " + std::to_string(line_) + ")";
    if (!have_header_)
      return make_error(Errc::invalid_argument, file_ + ":" + std::to_string(record_line_) + ":" +
                                                    std::to_string(nfields_ + 1) + ": header row: " + reason);
    ++result_.records;
    issue(record_line_, nfields_ + 1, std::move(reason));
    csv_free(&parser_);
    init_parser();
    nfields_ = 0;
    return ok();
  }

  const std::string& file_;
  const CsvOptions& options_;
  csv_parser parser_{};
  detail::RowChecker checker_;
  CsvParseResult result_;
  std::vector<std::string> fields_;
  std::size_t nfields_ = 0;
  std::size_t line_ = 0;         ///< physical line being fed
  std::size_t record_line_ = 0;  ///< physical line where the current record started
  std::size_t header_columns_ = 0;
  bool row_ended_ = false;
  bool have_header_ = false;
  std::optional<Error> fatal_;
};

}  // namespace

Result<CsvParseResult> parse_phones_csv(std::string_view content, const std::string& file, const CsvOptions& options) {
  Importer importer(file, options);
  return importer.run(content);
}

}  // namespace capf::jobs
