// Internal helpers shared by the decoders (not part of the public API).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "detect/detect.h"

namespace sf::det_internal {

constexpr int kMaxInputSide = 65536;
constexpr float kMaxExpArg = 20.0f;  // exp(20) * 32 ~ 1.5e10: finite, clipped afterwards

// "[1, 3549, 85]"
std::string shape_string(const std::vector<int64_t>& shape);

// Checks data != nullptr, every dim >= 1, product of dims == t.size (no overflow).
result<void> check_tensor(const det_tensor& t, const char* what);

// Drops a leading batch dimension of 1: {1, A, N} -> {A, N}. Errors (naming `what`) when the
// rank after that is not `rank` or the batch is larger than 1.
result<std::vector<int64_t>> squeeze_batch(const det_tensor& t, size_t rank, const char* what);

result<void> check_decode_options(const det_decode_options& opt, const char* what);

// Box from centre/size; false when not finite or empty after clipping to [0, w] x [0, h].
bool make_box(float cx, float cy, float bw, float bh, float w, float h, det_box* out) noexcept;

// Clips in place to [0, w] x [0, h]; false when not finite or empty afterwards.
bool clip_box(det_box* b, float w, float h) noexcept;

// Sorts by (score desc, source asc) and keeps the first k.
void keep_top(std::vector<detection>* d, size_t k);

// Best class among n scores read at p[0], p[stride], ...; non-finite scores are ignored.
// Returns -1 (and *best = 0) when none is finite.
inline int32_t best_class(const float* p, size_t n, size_t stride, float* best) noexcept {
  int32_t id = -1;
  float v = 0;
  for (size_t c = 0; c < n; ++c) {
    const float s = p[c * stride];
    if (!std::isfinite(s)) continue;
    if (id < 0 || s > v) {
      id = static_cast<int32_t>(c);
      v = s;
    }
  }
  *best = v;
  return id;
}

}  // namespace sf::det_internal
