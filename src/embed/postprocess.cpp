// Embedding post-processing (see embed.h): power and L2 normalisation, averaging.
// Plain loops the compiler vectorises; norms go through the run-time selected kernels.
#include <cmath>

#include "embed/embed.h"
#include "index/kernels.h"

namespace sf::embed {

void power_normalize(const float* in, float* out, size_t count, float alpha) {
  if (!in || !out) return;
  if (alpha == 0.5f) {
    for (size_t i = 0; i < count; ++i) out[i] = std::copysign(std::sqrt(std::fabs(in[i])), in[i]);
  } else if (alpha == 1.0f) {
    if (out != in)
      for (size_t i = 0; i < count; ++i) out[i] = in[i];
  } else {
    for (size_t i = 0; i < count; ++i) out[i] = std::copysign(std::pow(std::fabs(in[i]), alpha), in[i]);
  }
}

void power_normalize(float* x, size_t count, float alpha) { power_normalize(x, x, count, alpha); }

void l2_normalize(const float* in, float* out, size_t n, size_t d) {
  if (!in || !out || d == 0) return;
  const kernels::table& kt = kernels::active();
  for (size_t r = 0; r < n; ++r) {
    const float* xr = in + r * d;
    float* yr = out + r * d;
    const float s = kt.dot_f32(xr, xr, d);
    const float scale = (s > 0 && std::isfinite(s)) ? 1.0f / std::sqrt(s) : 1.0f;
    for (size_t j = 0; j < d; ++j) yr[j] = xr[j] * scale;
  }
}

void l2_normalize(float* x, size_t n, size_t d) { l2_normalize(x, x, n, d); }

void average(const float* a, const float* b, float* out, size_t count) {
  if (!a || !b || !out) return;
  for (size_t i = 0; i < count; ++i) out[i] = 0.5f * (a[i] + b[i]);
}

void mean_rows(const float* rows, size_t m, size_t d, float* out) {
  if (!rows || !out || m == 0) return;
  // Row 0 is read before out (which may alias it) is written; later rows never alias out.
  const float inv = 1.0f / float(m);
  if (m == 1) {
    for (size_t j = 0; j < d; ++j) out[j] = rows[j];
    return;
  }
  for (size_t j = 0; j < d; ++j) out[j] = rows[j] + rows[d + j];
  for (size_t r = 2; r < m; ++r) {
    const float* xr = rows + r * d;
    for (size_t j = 0; j < d; ++j) out[j] += xr[j];
  }
  for (size_t j = 0; j < d; ++j) out[j] *= inv;
}

}  // namespace sf::embed
