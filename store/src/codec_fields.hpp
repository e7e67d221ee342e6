// Private to store/src: the value envelope (schema byte + JSON) and a field reader that
// keeps the first problem instead of throwing.
#pragma once

#include <limits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "capf/store/store.hpp"

namespace capf::store::codec {

using nlohmann::json;

inline std::string seal(const json& j) {
  std::string out(1, static_cast<char>(kSchemaVersion));
  // Text fields come from CSV files and phones; JSON cannot carry invalid UTF-8, and a store
  // write must not throw, so such bytes are replaced rather than refused.
  out += j.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

inline Result<json> unseal(std::string_view bytes, const std::string& what) {
  if (bytes.empty()) return make_error(Errc::io, what + " value is empty");
  const auto version = static_cast<std::uint8_t>(bytes.front());
  if (version == 0 || version > kSchemaVersion)
    return make_error(Errc::io, what + " value has schema version " + std::to_string(version) +
                                    "; this build understands up to " + std::to_string(kSchemaVersion));
  json j = json::parse(bytes.begin() + 1, bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(Errc::io, what + " value is not valid JSON");
  return j;
}

// Reads fields by name and keeps the first problem, so a decoder reads like a list of fields
// and reports one precise message instead of throwing from deep inside nlohmann.
class Fields {
 public:
  Fields(const json& j, std::string what) : j_(j), what_(std::move(what)) {
    if (!j_.is_object()) fail("", "is not a JSON object");
  }

  std::string text(const char* key) {
    const json* v = find(key);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      fail(key, "is not a string");
      return {};
    }
    return v->get<std::string>();
  }

  std::int64_t integer(const char* key) {
    const json* v = find(key);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) {
      fail(key, "is not an integer");
      return 0;
    }
    return v->get<std::int64_t>();
  }

  int small_integer(const char* key) {
    const std::int64_t v = integer(key);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      fail(key, "is out of range");
      return 0;
    }
    return static_cast<int>(v);
  }

  // Absent and null both mean "not set", so a hand-edited or older value still decodes.
  std::optional<std::int64_t> optional_integer(const char* key) {
    if (!j_.is_object()) return std::nullopt;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    return integer(key);
  }

  // Fields added after version 1 values were written: absent means empty.
  std::string optional_text(const char* key) {
    if (!j_.is_object() || !j_.contains(key)) return {};
    return text(key);
  }

  template <class E>
  E enumeration(const char* key, std::optional<E> (*parse)(std::string_view)) {
    const std::string t = text(key);
    if (error_) return E{};
    auto e = parse(t);
    if (!e) {
      fail(key, "has unknown value \"" + t + "\"");
      return E{};
    }
    return *e;
  }

  template <class T>
  Result<T> finish(T value) {
    if (error_) return make_error(Errc::io, *error_);
    return value;
  }

 private:
  const json* find(const char* key) {
    if (error_) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  void fail(const std::string& key, const std::string& problem) {
    if (error_) return;
    error_ = what_ + " value" + (key.empty() ? "" : ": field '" + key + "'") + " " + problem;
  }

  const json& j_;
  std::string what_;
  std::optional<std::string> error_;
};

}  // namespace capf::store::codec
