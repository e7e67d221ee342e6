// Result<T>: the value or the error a caller is expected to handle.
// Exceptions are kept for start-up and configuration; everything else returns Result.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace capf {

/// Broad class of an error; callers branch on it, humans read the message.
enum class Errc {
  invalid_argument,  ///< bad input from a user or a file
  not_found,         ///< the named thing does not exist
  already_exists,    ///< a duplicate
  io,                ///< file system or database failure
  crypto,            ///< a key, certificate or signature problem
  protocol,          ///< a malformed or unexpected CAPF message
  timeout,           ///< a step took longer than allowed
  auth_failed,       ///< a phone or caller failed authentication
  unavailable,       ///< a peer could not be reached
  no_answer,         ///< a request reached the peer but no answer came back: its outcome is unknown
  internal,          ///< a bug or an impossible state
};

/// An error with its class and one human-readable line naming what and where.
struct Error {
  Errc code = Errc::internal;
  std::string message;
};

/// Builds an Error; short to read at call sites.
inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

/// Holds either a T or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  /// True when a value is held.
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

/// Convenience for `return ok();` in Result<void> functions.
inline Result<void> ok() { return {}; }

}  // namespace capf
