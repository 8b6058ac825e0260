// What the fuzz harnesses (fuzz/harness/*.h) share: contract checks, the byte reader, small
// helpers.
//
// A harness checks documented contracts of the results with SF_FUZZ_CHECK. A violated contract
// calls sf_fuzz::fail(): by default it prints the condition and aborts (libFuzzer then saves
// the input); the Catch2 test installs a handler that records it instead
// (sf_fuzz::set_failure_handler).
//
// The byte formats of fuzz_detect and fuzz_track are read with sf_fuzz::reader: bytes are
// consumed front to back, and reading past the end yields zeros, so every input is valid.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "detect/detect.h"  // sf::det_box (finite_box, used by detect and track)

namespace sf_fuzz {

// ---------------------------------------------------------------------------------------
// Contract failures

using failure_handler = void (*)(const char* condition, const char* file, int line);

inline failure_handler& failure_handler_slot() {
  static failure_handler h = nullptr;
  return h;
}
// nullptr (the default): print and abort.
inline void set_failure_handler(failure_handler h) { failure_handler_slot() = h; }

// Always returns false so that `return fail(...)` leaves a bool (or int: 0) function.
inline bool fail(const char* condition, const char* file, int line) {
  if (failure_handler h = failure_handler_slot()) {
    h(condition, file, line);
    return false;
  }
  std::fprintf(stderr, "fuzz contract violated: %s at %s:%d\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}

// Checks a contract; on failure reports it and returns from the enclosing function (which
// returns bool or int: a failed check never continues into code that relies on it).
#define SF_FUZZ_CHECK(cond)                                                       \
  do {                                                                            \
    if (!(cond)) return ::sf_fuzz::fail(#cond, __FILE__, __LINE__);               \
  } while (0)

// Compile with -DSF_FUZZ_DEBUG to see what a structured input does (seed writing).
#ifdef SF_FUZZ_DEBUG
#define SF_FUZZ_TRACE(...) std::fprintf(stderr, __VA_ARGS__)
#else
#define SF_FUZZ_TRACE(...) ((void)0)
#endif

// ---------------------------------------------------------------------------------------
// Byte reader for the structured targets

// Values that break arithmetic: selected by the top 12 values of a selector byte.
inline float special_value(unsigned i) {
  const float lim_max = std::numeric_limits<float>::max();
  switch (i % 12) {
    case 0: return std::numeric_limits<float>::quiet_NaN();
    case 1: return std::numeric_limits<float>::infinity();
    case 2: return -std::numeric_limits<float>::infinity();
    case 3: return lim_max;
    case 4: return -lim_max;
    case 5: return std::numeric_limits<float>::denorm_min();
    case 6: return -0.0f;
    case 7: return 1e30f;
    case 8: return -1e30f;
    case 9: return std::numeric_limits<float>::min();
    case 10: return 1e-30f;
    default: return -1.0f;
  }
}

constexpr unsigned k_special_selectors = 12;             // selector bytes 0xF4..0xFF
constexpr unsigned k_plain_max = 255 - k_special_selectors;  // 0..0xF3 map onto [lo, hi]

class reader {
 public:
  reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}

  size_t remaining() const { return n_; }
  bool empty() const { return n_ == 0; }
  const uint8_t* data() const { return p_; }

  uint8_t u8() {
    if (!n_) return 0;
    --n_;
    return *p_++;
  }
  uint16_t u16() { return uint16_t(u8() | (unsigned(u8()) << 8)); }
  uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
  bool flag() { return (u8() & 1) != 0; }
  // Raw IEEE bits (NaN payloads, denormals, everything).
  float raw_f32() {
    uint32_t b = u32();
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  // One selector byte: 0..0xF3 spread evenly over [lo, hi], 0xF4..0xFF special values.
  float num(float lo, float hi) {
    const unsigned s = u8();
    if (s > k_plain_max) return special_value(s - k_plain_max - 1);
    return lo + (hi - lo) * (float(s) / float(k_plain_max));
  }
  // The rest of the input (consumed).
  std::vector<uint8_t> rest() {
    std::vector<uint8_t> v(p_, p_ + n_);
    p_ += n_;
    n_ = 0;
    return v;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

inline bool finite_box(const sf::det_box& b) {
  return std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1);
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace sf_fuzz
