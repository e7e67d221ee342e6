// The libcsv driver of the phone CSV import: BOM, physical line numbers, blank lines, parse
// errors and recovery. Field meanings and value checks live in phones_csv_rows.cpp.
//
// libcsv reports neither positions nor blank lines, so the driver feeds it one physical line at
// a time (only '\n' ends a record; '\r' counts as trailing white space, so CRLF and LF both
// work). A record starts on the line fed while the parser sat between records; a row callback
// can only fire on the '\n' that ends the line just fed. This keeps line numbers exact across
// quoted newlines at the cost of one csv_parse call per line.
#include "capf/inventory/phones_csv.hpp"

#include <csv.h>

#include <algorithm>
#include <cstring>

#include "phones_csv_rows.hpp"

namespace capf::inventory {

namespace {

constexpr unsigned char kCsvOptions = CSV_STRICT | CSV_STRICT_FINI;
/// Fields kept per record; a record with more is reported by count only.
constexpr std::size_t kMaxFields = 1024;

int is_term(unsigned char c) {
  return c == '\n';
}
int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

bool blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

class Importer {
 public:
  Importer(const std::string& file, const CsvOptions& options, std::size_t chunk_rows = 0,
           const RowSink* sink = nullptr)
      : file_(file), options_(options), chunk_rows_(chunk_rows), sink_(sink) {
    init_parser();
  }
  ~Importer() { csv_free(&parser_); }
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  Result<CsvParseResult> run(std::string_view content) {
    if (content.size() >= 2 &&
        ((content[0] == '\xFF' && content[1] == '\xFE') || (content[0] == '\xFE' && content[1] == '\xFF')))
      return make_error(Errc::invalid_argument, file_ + ": the file is UTF-16; save it as UTF-8 (CSV UTF-8)");
    if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
    if (auto zone = checker_.set_time_zone(options_.time_zone); !zone)
      return make_error(Errc::invalid_argument, file_ + ": Operation Completes By: " + zone.error().message);
    // Records ≤ lines: one memchr sweep sizes the row vector and the name index exactly.
    std::size_t lines = 1;
    const char* const stop = content.data() + content.size();
    for (const char* p = content.data(); p != stop && (p = static_cast<const char*>(std::memchr(p, '\n', stop - p)));
         ++p)
      ++lines;
    checker_.reserve(lines);
    result_.rows.reserve(sink_ ? chunk_rows_ : lines);

    bool in_record = false;
    std::size_t pos = 0;
    while (pos < content.size()) {
      const void* nl = std::memchr(content.data() + pos, '\n', content.size() - pos);
      const std::size_t end =
          nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - content.data()) + 1 : content.size();
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
      // The common record, whole on one line with plain quoting, is split here without a
      // libcsv call per character.
      if (!in_record && line.back() == '\n' && split_simple_line(line)) {
        if (fatal_) return std::move(*fatal_);
        continue;
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
        return make_error(Errc::invalid_argument,
                          file_ + ":" + std::to_string(record_line_) + ":" + std::to_string(nfields_ + 1) +
                              ": quoted field is never closed; the rest of the file cannot be read");
      return make_error(Errc::internal, file_ + ": CSV parser failed: " + csv_strerror(csv_error(&parser_)));
    }
    if (fatal_) return std::move(*fatal_);
    if (!have_header_) return make_error(Errc::invalid_argument, file_ + ":1: no header row (the file is empty)");
    if (sink_ && !result_.rows.empty()) (*sink_)(result_.rows);
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

  /// Splits a record that sits on one line, as libcsv would: unquoted fields trimmed of white
  /// space; a quoted field is taken verbatim from between its quotes, and white space after
  /// the closing quote is dropped. Returns false, having reported nothing, for anything else
  /// (a doubled or stray quote, a quoted field that runs on past the line): libcsv then takes
  /// the line.
  bool split_simple_line(std::string_view line) {
    const char* p = line.data();
    const char* const end = line.data() + line.size() - 1;  // the '\n'
    nfields_ = 0;
    for (;;) {
      while (p < end && is_space(static_cast<unsigned char>(*p))) ++p;
      const char* b = p;
      const char* e;
      if (p < end && *p == '"') {
        b = p + 1;
        e = static_cast<const char*>(std::memchr(b, '"', static_cast<std::size_t>(end - b)));
        if (e == nullptr) return give_up();  // runs on past the line
        p = e + 1;
        while (p < end && is_space(static_cast<unsigned char>(*p))) ++p;
        if (p < end && *p != ',') return give_up();  // a doubled quote, or text after the closing one
      } else {
        const auto* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<std::size_t>(end - p)));
        p = comma ? comma : end;
        if (std::memchr(b, '"', static_cast<std::size_t>(p - b)) != nullptr) return give_up();
        e = p;
        while (e > b && is_space(static_cast<unsigned char>(e[-1]))) --e;
      }
      put_view(b, static_cast<std::size_t>(e - b));  // the field as it stands in the text: no copy
      if (p == end) break;
      ++p;  // past the ','
    }
    views_ready_ = true;
    on_row('\n', this);
    return true;
  }

  void put_view(const char* s, std::size_t len) {
    const std::size_t n = nfields_++;
    if (n >= kMaxFields) return;
    if (n >= views_.size()) views_.emplace_back();
    views_[n] = std::string_view(s, len);
  }

  bool give_up() {
    nfields_ = 0;
    return false;
  }

  static void on_row(int, void* self) {
    auto& me = *static_cast<Importer*>(self);
    me.row_ended_ = true;
    me.end_record();
    me.nfields_ = 0;
  }

  void end_record() {
    if (!views_ready_) {  // libcsv's fields, copied out of its buffer by on_field
      for (std::size_t i = 0; i < std::min(nfields_, kMaxFields); ++i) {
        if (i >= views_.size()) views_.emplace_back();
        views_[i] = fields_[i];
      }
    }
    views_ready_ = false;
    if (fatal_) return;
    if (!have_header_) {
      if (nfields_ > kMaxFields) {
        fatal_ = make_error(Errc::invalid_argument, file_ + ":" + std::to_string(record_line_) + ": header has " +
                                                        std::to_string(nfields_) + " columns");
        return;
      }
      auto header = checker_.read_header({views_.data(), nfields_}, record_line_, file_);
      if (!header.ok()) fatal_ = header.error();
      have_header_ = true;
      header_columns_ = nfields_;
      return;
    }
    ++result_.records;
    if (nfields_ > kMaxFields) {
      issue(record_line_, 0,
            "expected " + std::to_string(header_columns_) + " fields, found " + std::to_string(nfields_));
      return;
    }
    // Checked in place: a bad row is popped again, a good one is never copied.
    auto& row = result_.rows.emplace_back();
    if (!checker_.check({views_.data(), nfields_}, record_line_, file_, row, result_.issues)) {
      result_.rows.pop_back();
      return;
    }
    if (sink_ && result_.rows.size() >= chunk_rows_) {
      (*sink_)(result_.rows);
      result_.rows.clear();
    }
  }

  /// libcsv stopped at `bad` in strict mode: report the record, skip the rest of the line and
  /// start afresh on the next one.
  Result<void> parse_error(char bad) {
    const int code = csv_error(&parser_);
    if (code != CSV_EPARSE) return make_error(Errc::internal, file_ + ": CSV parser failed: " + csv_strerror(code));
    std::string reason = bad == '"'
                             ? "bad quoting: a '\"' inside a field needs the whole field quoted and the quote doubled"
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
  std::size_t chunk_rows_ = 0;
  const RowSink* sink_ = nullptr;
  csv_parser parser_{};
  detail::RowChecker checker_;
  CsvParseResult result_;
  std::vector<std::string> fields_;      ///< libcsv's fields, copied
  std::vector<std::string_view> views_;  ///< the record's fields, in fields_ or in the text
  bool views_ready_ = false;             ///< views_ set by the one-line splitter
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

Result<CsvParseResult> parse_phones_csv(std::string_view content, const std::string& file, const CsvOptions& options,
                                        std::size_t chunk_rows, const RowSink& sink) {
  Importer importer(file, options, std::max<std::size_t>(chunk_rows, 1), &sink);
  auto result = importer.run(content);
  if (result) result->rows.clear();
  return result;
}

}  // namespace capf::inventory
