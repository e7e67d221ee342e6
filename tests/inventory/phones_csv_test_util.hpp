// Helpers shared by the phone CSV tests: samples, parsing that expects success or failure.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "capf/inventory/phones_csv.hpp"

namespace capf::inventory::csv_test {

inline std::string read_sample(const std::string& name) {
  std::ifstream in(std::string(CAPF_SAMPLES_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline std::vector<std::string> issue_texts(const CsvParseResult& r) {
  std::vector<std::string> out;
  for (const auto& i : r.issues) out.push_back(i.to_string());
  return out;
}

inline CsvParseResult parse_ok(std::string_view text, const CsvOptions& options = {}) {
  auto r = parse_phones_csv(text, "t.csv", options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : CsvParseResult{};
}

inline std::string parse_error(std::string_view text) {
  auto r = parse_phones_csv(text, "t.csv", {});
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().message;
}

inline const std::string kFullHeader =
    "Device Name,Description,Device Type,Device Pool,Device Security Profile,Certificate Operation,"
    "Authentication Mode,Authentication String,Key Size (Bits),Key Order,EC Key Size (Bits),"
    "Operation Completes By,IPv4 Address,IPv6 Address\n";

}  // namespace capf::inventory::csv_test
