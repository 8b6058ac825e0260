// Small vector helpers shared by the index builder and search.
#pragma once
#include <cmath>
#include <cstddef>

#include "index/kernels.h"

namespace sf {

// Scale v to unit L2 length. Returns false (v unchanged) when its norm is 0 or not finite.
inline bool normalize(float* v, size_t d) {
  float n2 = kernels::active().dot_f32(v, v, d);
  if (!(n2 > 0) || !std::isfinite(n2)) return false;
  float inv = 1.0f / std::sqrt(n2);
  for (size_t i = 0; i < d; ++i) v[i] *= inv;
  return true;
}

// Signed square root of each component (power normalisation, alpha = 0.5).
inline void power_normalize(float* v, size_t d) {
  for (size_t i = 0; i < d; ++i) v[i] = v[i] < 0 ? -std::sqrt(-v[i]) : std::sqrt(v[i]);
}

}  // namespace sf
