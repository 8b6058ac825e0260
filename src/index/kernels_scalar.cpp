// Scalar reference kernels: the definition every SIMD table is tested against.
#include "index/kernels.h"
#include "index/kernels_targets.h"

namespace sf::kernels {
namespace {

float dot_f32(const float* a, const float* b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void dot_f32_batch(const float* q, const float* base, size_t d, size_t n, float* out) {
  for (size_t j = 0; j < n; ++j) out[j] = dot_f32(q, base + j * d, d);
}

float dot_u8(const float* q, const uint8_t* code, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += q[i] * float(code[i]);
  return s;
}

void dot_u8_batch(const float* q, const uint8_t* codes, size_t d, size_t n, float* out) {
  for (size_t j = 0; j < n; ++j) out[j] = dot_u8(q, codes + j * d, d);
}

void dot_i8u8_batch(const int8_t* q8, const uint8_t* codes, size_t d, size_t n, int32_t* out) {
  for (size_t j = 0; j < n; ++j) {
    int32_t s = 0;
    const uint8_t* c = codes + j * d;
    for (size_t i = 0; i < d; ++i) s += int32_t(q8[i]) * int32_t(c[i]);
    out[j] = s;
  }
}

void pq_scan(const float* lut, size_t m, const uint8_t* codes, size_t n, float* out) {
  for (size_t j = 0; j < n; ++j) {
    const uint8_t* c = codes + j * m;
    float s = 0;
    for (size_t k = 0; k < m; ++k) s += lut[k * 256 + c[k]];
    out[j] = s;
  }
}

}  // namespace

const table& scalar() noexcept {
  static const table t{"scalar", dot_f32, dot_f32_batch, dot_u8, dot_u8_batch, dot_i8u8_batch, pq_scan};
  return t;
}

}  // namespace sf::kernels
