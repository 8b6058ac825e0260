// shopframe common error handling: no exceptions cross the core's API.
//
//   sf::result<int> parse(std::string_view s);
//   auto r = parse("12");
//   if (!r) { log(r.err().message); return r.err(); }   // error converts to any result<U>
//   int v = r.value();
//
// A status names the kind of failure (stable numbers, exposed to JS as `code`);
// the message names what and where (file, line, field, section, byte offset).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace sf {

enum class status : int {
  ok = 0,
  invalid_argument = 1,  // a caller passed something unusable (bad option, wrong dimension)
  parse_error = 2,       // text input (JSON, JSONL, factory string) is malformed
  io_error = 3,          // reading or writing a file failed
  corrupt = 4,           // binary input fails validation (magic, checksum, bounds)
  truncated = 5,         // binary input ends early
  unsupported = 6,       // valid but not supported by this build (version, metric, quantizer)
  limit_exceeded = 7,    // input larger than a documented limit
  out_of_memory = 8,
  not_found = 9,
};

// Short, stable name of a status ("corrupt", "parse_error", ...).
const char* status_name(status s) noexcept;
// One-line human description of a status.
const char* status_message(status s) noexcept;

struct error {
  status code = status::ok;
  std::string message;
};

inline error make_error(status code, std::string message) { return error{code, std::move(message)}; }

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  result(error e) : v_(std::move(e)) {}      // NOLINT
  explicit operator bool() const noexcept { return v_.index() == 0; }
  bool ok() const noexcept { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  // By value: `for (auto& x : f().value())` must not dangle.
  T value() && { return std::get<0>(std::move(v_)); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

// result<void>: success or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)) {}  // NOLINT
  explicit operator bool() const noexcept { return e_.code == status::ok; }
  bool ok() const noexcept { return e_.code == status::ok; }
  const error& err() const { return e_; }

 private:
  error e_;
};

using result_void = result<void>;

}  // namespace sf

// Propagate an error from an expression yielding a result<...>.
#define SF_TRY(expr)                              \
  do {                                            \
    auto sf_try_r_ = (expr);                      \
    if (!sf_try_r_) return sf_try_r_.err();       \
  } while (0)
