// AVX2+FMA kernels for preprocess() (compiled with -mavx2 -mfma, chosen at run time).
// Same contract as resample_scalar.cpp; fused multiply-add changes rounding slightly.
// The vertical pass (most of the work) runs 32 bytes at a time; the horizontal pass is
// the shared 128-bit one with FMA.
#include <immintrin.h>

#include <cstring>

#include "image/resample_kernels.h"

namespace sf::image::kernels {
namespace {

#define SF_MADD _mm_fmadd_ps
#include "image/resample_x86_inl.h"
#undef SF_MADD

inline __m256 u8x8_to_f32(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }

void vertical(const uint8_t* const* rows, const float* w, int taps, size_t n, float* acc) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    for (int k = 0; k < taps; ++k) {
      const __m256 wk = _mm256_set1_ps(w[k]);
      const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + i));
      const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + i + 16));
      s0 = _mm256_fmadd_ps(wk, u8x8_to_f32(lo), s0);
      s1 = _mm256_fmadd_ps(wk, u8x8_to_f32(_mm_srli_si128(lo, 8)), s1);
      s2 = _mm256_fmadd_ps(wk, u8x8_to_f32(hi), s2);
      s3 = _mm256_fmadd_ps(wk, u8x8_to_f32(_mm_srli_si128(hi, 8)), s3);
    }
    _mm256_storeu_ps(acc + i, s0);
    _mm256_storeu_ps(acc + i + 8, s1);
    _mm256_storeu_ps(acc + i + 16, s2);
    _mm256_storeu_ps(acc + i + 24, s3);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 s = _mm256_setzero_ps();
    for (int k = 0; k < taps; ++k) {
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[k] + i));
      s = _mm256_fmadd_ps(_mm256_set1_ps(w[k]), u8x8_to_f32(v), s);
    }
    _mm256_storeu_ps(acc + i, s);
  }
  for (; i < n; ++i) {
    float s = 0.0f;
    for (int k = 0; k < taps; ++k) s += w[k] * float(rows[k][i]);
    acc[i] = s;
  }
}

const table kAvx2{"avx2", vertical, horizontal_x86};

}  // namespace

const table* avx2_table() noexcept { return &kAvx2; }

}  // namespace sf::image::kernels
