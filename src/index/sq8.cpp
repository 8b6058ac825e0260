// 8-bit scalar quantizer: per-dimension [vmin, vmin + 255*step] mapped to codes 0..255.
#include "index/sq8.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sf {
namespace {

// Smallest step: constant dimensions (max == min) still get a positive step, so the
// encoder never divides by zero; such a dimension encodes to 0 and decodes exactly.
constexpr float k_min_step = 1e-12f;

uint8_t quantize(float x, float vmin, float step) {
  const float v = (x - vmin) / step;
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 255.0f) return 255;
  return uint8_t(std::floor(v + 0.5f));
}

}  // namespace

sq8_codec sq8_train(const float* data, size_t n, size_t d) {
  sq8_codec c;
  c.d = d;
  c.vmin.assign(d, 0.0f);
  c.step.assign(d, 1.0f / 255.0f);
  if (!data) n = 0;
  for (size_t j = 0; j < d; ++j) {
    float lo = std::numeric_limits<float>::infinity();
    float hi = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < n; ++i) {
      const float v = data[i * d + j];
      if (!std::isfinite(v)) continue;  // non-finite values clamp at encode time
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (!(lo <= hi)) continue;  // no finite value: keep [0, 1]
    float step = float((double(hi) - double(lo)) / 255.0);
    if (!(step >= k_min_step)) step = k_min_step;  // (hi - lo) / 255 in double always fits a float
    c.vmin[j] = lo;
    c.step[j] = step;
  }
  return c;
}

void sq8_codec::encode(const float* data, size_t n, uint8_t* codes) const {
  for (size_t i = 0; i < n; ++i) {
    const float* x = data + i * d;
    uint8_t* out = codes + i * d;
    for (size_t j = 0; j < d; ++j) out[j] = quantize(x[j], vmin[j], step[j]);
  }
}

void sq8_codec::decode(const uint8_t* codes, size_t n, float* out) const {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* c = codes + i * d;
    float* o = out + i * d;
    for (size_t j = 0; j < d; ++j) o[j] = vmin[j] + step[j] * float(c[j]);
  }
}

sq8_query sq8_codec::prepare_query(const float* q) const {
  sq8_query r;
  r.scaled.resize(d);
  r.q8.assign(d, 0);
  double bias = 0;
  float maxabs = 0;
  for (size_t j = 0; j < d; ++j) {
    r.scaled[j] = q[j] * step[j];
    bias += double(q[j]) * double(vmin[j]);
    maxabs = std::max(maxabs, std::fabs(r.scaled[j]));
  }
  r.bias = float(bias);
  // q8_scale = max|scaled| / 127; an all-zero (or non-finite) query keeps q8 = 0, scale 0.
  if (maxabs > 0 && std::isfinite(maxabs)) {
    r.q8_scale = maxabs / 127.0f;
    const float inv = 127.0f / maxabs;
    for (size_t j = 0; j < d; ++j) {
      float v = std::floor(r.scaled[j] * inv + 0.5f);
      if (!(v >= -127.0f)) v = -127.0f;  // NaN maps to -127 here; guarded below
      if (v > 127.0f) v = 127.0f;
      r.q8[j] = std::isfinite(r.scaled[j]) ? int8_t(v) : int8_t(0);
    }
  }
  return r;
}

}  // namespace sf
