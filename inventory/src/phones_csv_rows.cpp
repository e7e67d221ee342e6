// Header map, per-record checks, apply_row and check_capf_settings of the phone CSV import.
#include "phones_csv_rows.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "capf/core/vocabulary.hpp"
#include "capf/inventory/completes_by.hpp"
#include "capf/util/text.hpp"
#include "capf/util/time.hpp"

namespace capf::inventory {

namespace detail {

namespace {

constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);

std::string_view column_name(Column c) {
  return known_columns()[static_cast<std::size_t>(c)];
}

/// A value quoted for a message: control characters escaped, long values cut on a UTF-8
/// boundary so one issue stays one readable line.
std::string show(std::string_view v) {
  constexpr std::size_t kMax = 60;
  bool cut = false;
  if (v.size() > kMax) {
    std::size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
    v = v.substr(0, n);
    cut = true;
  }
  std::string out;
  out.reserve(v.size() + 8);
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += '?';
        else
          out.push_back(c);
    }
  }
  if (cut) out += "…";
  out.push_back('"');
  return out;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool valid_ip(int family, std::string_view v) {
  char buf[64];
  if (v.size() >= sizeof buf) return false;
  std::memcpy(buf, v.data(), v.size());
  buf[v.size()] = '\0';
  unsigned char out[16];
  return inet_pton(family, buf, out) == 1;
}

std::optional<int> parse_bits(std::string_view v) {
  auto n = util::parse_int(v);
  if (!n || *n < 0 || *n > 1'000'000) return std::nullopt;
  return static_cast<int>(*n);
}

const char* const kAcceptedOperations = R"x("No Pending Operation", "Install/Upgrade", "Delete", "Troubleshoot")x";
const char* const kAcceptedModes =
    R"x("By Authentication String", "By Null String", "By Existing Certificate (Precedence to LSC)", )x"
    R"x("By Existing Certificate (Precedence to MIC)")x";
const char* const kAcceptedSecurityModes = R"x("Non Secure", "Authenticated", "Encrypted")x";
const char* const kAcceptedKeyOrders =
    R"x("RSA Only", "EC Only", "EC Preferred, RSA Backup", "RSA Preferred, EC Backup")x";

// The value is a secret: messages give its length, never the text.
void check_auth_string(std::string_view v, const std::optional<AuthMode>& mode, PhoneRow& row,
                       std::vector<std::string>& problems) {
  bool good = true;
  if (!valid_auth_string(v)) {
    const std::size_t n = utf8_length(v);
    problems.push_back("Authentication String must be 4–10 digits (got " + std::to_string(n) + " characters" +
                       (n >= 4 && n <= 10 ? ", not all digits)" : ")"));
    good = false;
  }
  if (mode && *mode != AuthMode::auth_string) {
    problems.push_back("Authentication String is set but Authentication Mode is \"" + std::string(to_string(*mode)) +
                       "\" (only By Authentication String uses it)");
    good = false;
  }
  if (good) row.auth_string.emplace(v);
}

}  // namespace

Result<void> RowChecker::read_header(std::span<const std::string_view> fields, std::size_t line,
                                     const std::string& file) {
  index_.fill(-1);
  columns_.clear();
  columns_.reserve(fields.size());
  const auto& known = known_columns();
  const auto where = [&](std::size_t col) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  };
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto name = util::trim(fields[i]);
    if (!valid_utf8(name)) return make_error(Errc::invalid_argument, where(i + 1) + "column name is not valid UTF-8");
    if (name.empty()) return make_error(Errc::invalid_argument, where(i + 1) + "empty column name");
    std::size_t id = kNoColumn;
    for (std::size_t k = 0; k < known.size(); ++k)
      if (util::iequals(known[k], name)) id = k;
    if (id == kNoColumn) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return make_error(Errc::invalid_argument,
                        where(i + 1) + "unknown column " + show(name) + " (known: " + list + ")");
    }
    if (index_[id] >= 0)
      return make_error(Errc::invalid_argument, where(i + 1) + "duplicate column " + show(known[id]) +
                                                    " (first in column " + std::to_string(index_[id] + 1) + ")");
    index_[id] = static_cast<int>(i);
    columns_.push_back(static_cast<Column>(id));
  }
  if (index_[static_cast<std::size_t>(Column::name)] < 0)
    return make_error(Errc::invalid_argument,
                      file + ":" + std::to_string(line) + ": missing required column \"" + known[0] + "\"");
  return ok();
}

void RowChecker::check_cell(Column id, std::string_view v, const std::optional<AuthMode>& mode, std::size_t line,
                            PhoneRow& row, std::vector<std::string>& problems) {
  const auto problem = [&](std::string reason) { problems.push_back(std::move(reason)); };
  switch (id) {
    case Column::name: {
      if (!valid_device_name(v)) {
        problem("invalid Device Name " + show(v) + ": expected SEP + 12 hex digits, or 1–15 of A–Z a–z 0–9 . _ -");
        break;
      }
      row.name.assign(v);
      if (const auto first = first_line_.insert(v, line); first != line)
        problem("duplicate device " + row.name + " (first on line " + std::to_string(first) + ")");
      break;
    }
    case Column::description:
      row.description.emplace(v);
      break;
    case Column::device_type:
      row.device_type.emplace(v);
      break;
    case Column::device_pool:
      row.device_pool.emplace(v);
      break;
    case Column::security_profile:
      row.security_profile.emplace(v);
      break;
    case Column::operation:
      if (auto op = parse_operation(v))
        row.operation = op;
      else
        problem("unknown Certificate Operation " + show(v) + " (accepted: " + kAcceptedOperations + ")");
      break;
    case Column::auth_mode:
      if (mode)
        row.auth_mode = mode;
      else
        problem("unknown Authentication Mode " + show(v) + " (accepted: " + kAcceptedModes + ")");
      break;
    case Column::auth_string:
      check_auth_string(v, mode, row, problems);
      break;
    case Column::rsa_key_bits: {
      auto bits = parse_bits(v);
      if (bits && valid_rsa_bits(*bits))
        row.rsa_key_bits = bits;
      else
        problem("Key Size (Bits) must be 1024, 2048, 3072 or 4096 (got " + show(v) + ")");
      break;
    }
    case Column::key_order:
      if (auto k = parse_key_order(v))
        row.key_order = k;
      else
        problem("unknown Key Order " + show(v) + " (accepted: " + kAcceptedKeyOrders + ")");
      break;
    case Column::ec_key_bits: {
      auto bits = parse_bits(v);
      if (bits && curve_from_bits(*bits))
        row.ec_key_bits = bits;
      else
        problem("EC Key Size (Bits) must be 256, 384 or 521 (got " + show(v) + ")");
      break;
    }
    case Column::completes_by:
      if (util::iequals(v, "none")) {
        row.completes_by.emplace(std::nullopt);  // explicit "None" clears the deadline
      } else if (auto t = v.size() == 13 && v[4] == ':' ? parse_ucm_completes_by(v, zone()) : parse_deadline(v)) {
        row.completes_by.emplace(*t);
      } else {
        problem("Operation Completes By " + show(v) + " is not a date (use " + kCompletesByForms + ", or None)");
      }
      break;
    case Column::ipv4:
      if (valid_ip(AF_INET, v))
        row.ipv4.emplace(v);
      else
        problem("IPv4 Address " + show(v) + " is not a valid IPv4 address");
      break;
    case Column::ipv6:
      if (valid_ip(AF_INET6, v))
        row.ipv6.emplace(v);
      else
        problem("IPv6 Address " + show(v) + " is not a valid IPv6 address");
      break;
    case Column::security_mode:
      if (auto m = parse_security_mode(v))
        row.security_mode = m;
      else
        problem("unknown Device Security Mode " + show(v) + " (accepted: " + kAcceptedSecurityModes + ")");
      break;
  }
}

bool RowChecker::check(std::span<const std::string_view> fields, std::size_t line, const std::string& file,
                       PhoneRow& row, std::vector<CsvIssue>& issues) {
  const std::size_t before = issues.size();
  const auto issue = [&](std::size_t column, std::string reason) {
    issues.push_back(CsvIssue{file, line, column, std::move(reason)});
  };
  if (fields.size() != columns_.size()) {
    issue(0, "expected " + std::to_string(columns_.size()) + " fields, found " + std::to_string(fields.size()));
    return false;
  }
  row = PhoneRow{};
  row.line = line;

  // The mode decides whether an Authentication String belongs in the row at all.
  std::optional<AuthMode> mode;
  if (const int m = index_[static_cast<std::size_t>(Column::auth_mode)]; m >= 0)
    mode = parse_auth_mode(fields[static_cast<std::size_t>(m)]);

  std::vector<std::string> problems;  // one cell's
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const Column id = columns_[i];
    const std::size_t col = i + 1;
    const std::string_view v = util::trim(fields[i]);
    if (!valid_utf8(v)) {
      issue(col, std::string(column_name(id)) + " is not valid UTF-8");
      continue;
    }
    if (v.empty()) {
      if (id == Column::name) issue(col, "Device Name is empty");
      continue;  // an empty optional cell leaves the device's value as it is
    }
    problems.clear();
    check_cell(id, v, mode, line, row, problems);
    for (auto& reason : problems) issue(col, std::move(reason));
  }
  return issues.size() == before;
}

void RowChecker::reserve(std::size_t rows) {
  first_line_.reserve(rows);
}

Result<void> RowChecker::set_time_zone(std::string_view name) {
  auto zone = find_time_zone(name);
  if (!zone) return zone.error();
  zone_ = *zone;
  return ok();
}

const date::time_zone& RowChecker::zone() {
  if (zone_ == nullptr) zone_ = *find_time_zone("UTC");
  return *zone_;
}

}  // namespace detail

const std::vector<std::string>& known_columns() {
  static const std::vector<std::string> kColumns{"Device Name",
                                                 "Description",
                                                 "Device Type",
                                                 "Device Pool",
                                                 "Device Security Profile",
                                                 "Certificate Operation",
                                                 "Authentication Mode",
                                                 "Authentication String",
                                                 "Key Size (Bits)",
                                                 "Key Order",
                                                 "EC Key Size (Bits)",
                                                 "Operation Completes By",
                                                 "IPv4 Address",
                                                 "IPv6 Address",
                                                 "Device Security Mode"};
  return kColumns;
}

std::string CsvIssue::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
}

void apply_row(Device& device, const PhoneRow& row, util::UnixTime now) {
  if (device.name.empty()) device.name = row.name;
  if (row.description) device.description = *row.description;
  if (row.device_type) device.device_type = *row.device_type;
  if (row.device_pool) device.device_pool = *row.device_pool;
  if (row.security_profile) device.security_profile = *row.security_profile;
  // The mode a row gives wins; a row that gives none but names a profile takes the mode the
  // profile's name implies (the rule in security_mode_from_profile).
  if (row.security_mode)
    device.security_mode = *row.security_mode;
  else if (row.security_profile)
    device.security_mode = security_mode_from_profile(*row.security_profile);
  if (row.auth_mode) device.auth_mode = *row.auth_mode;
  if (row.auth_string) device.auth_string = *row.auth_string;
  if (row.rsa_key_bits) device.rsa_key_bits = *row.rsa_key_bits;
  if (row.key_order) device.key_order = *row.key_order;
  if (row.ec_key_bits) device.ec_key_bits = *row.ec_key_bits;
  if (row.completes_by) device.completes_by = *row.completes_by;
  if (row.ipv4) device.ipv4 = *row.ipv4;
  if (row.ipv6) device.ipv6 = *row.ipv6;
  if (row.operation) {
    device.operation = *row.operation;
    // Arming starts a fresh attempt: an old failure, lock or count must not carry over.
    device.status = device.armed() ? OperationStatus::pending : OperationStatus::none;
    device.status_reason.clear();
    device.auth_failures = 0;
    device.keygen_failures = 0;
  }
  device.updated_at = now;
}

std::optional<std::string> check_capf_settings(const Device& d) {
  if (d.armed() && d.auth_mode == AuthMode::auth_string) {
    if (auto why = auth_string_refusal(d.security_mode)) return why;
    if (!valid_auth_string(d.auth_string))
      return std::string("Authentication Mode By Authentication String needs a 4–10 digit Authentication String");
  }
  if (!valid_rsa_bits(d.rsa_key_bits))
    return "Key Size (Bits) " + std::to_string(d.rsa_key_bits) + " is not 1024, 2048, 3072 or 4096";
  if (!curve_from_bits(d.ec_key_bits))
    return "EC Key Size (Bits) " + std::to_string(d.ec_key_bits) + " is not 256, 384 or 521";
  return std::nullopt;
}

}  // namespace capf::inventory
