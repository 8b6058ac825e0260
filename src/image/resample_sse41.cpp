// SSE4.1 kernels for preprocess() (compiled with -msse4.1, chosen at run time). Same
// contract and summation order as resample_scalar.cpp (multiply, then add; no FMA), so
// results match the reference to float rounding of identical operations.
#include <smmintrin.h>

#include <cstring>

#include "image/resample_kernels.h"

namespace sf::image::kernels {
namespace {

inline __m128 madd(__m128 a, __m128 b, __m128 acc) { return _mm_add_ps(_mm_mul_ps(a, b), acc); }
#define SF_MADD madd
#include "image/resample_x86_inl.h"
#undef SF_MADD

inline __m128 u8x4_to_f32(__m128i v) { return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(v)); }

void vertical(const uint8_t* const* rows, const float* w, int taps, size_t n, float* acc) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps(), s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
    for (int k = 0; k < taps; ++k) {
      const __m128 wk = _mm_set1_ps(w[k]);
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + i));
      s0 = madd(wk, u8x4_to_f32(v), s0);
      s1 = madd(wk, u8x4_to_f32(_mm_srli_si128(v, 4)), s1);
      s2 = madd(wk, u8x4_to_f32(_mm_srli_si128(v, 8)), s2);
      s3 = madd(wk, u8x4_to_f32(_mm_srli_si128(v, 12)), s3);
    }
    _mm_storeu_ps(acc + i, s0);
    _mm_storeu_ps(acc + i + 4, s1);
    _mm_storeu_ps(acc + i + 8, s2);
    _mm_storeu_ps(acc + i + 12, s3);
  }
  for (; i + 4 <= n; i += 4) {
    __m128 s = _mm_setzero_ps();
    for (int k = 0; k < taps; ++k) {
      int32_t b4;
      std::memcpy(&b4, rows[k] + i, 4);
      s = madd(_mm_set1_ps(w[k]), u8x4_to_f32(_mm_cvtsi32_si128(b4)), s);
    }
    _mm_storeu_ps(acc + i, s);
  }
  for (; i < n; ++i) {
    float s = 0.0f;
    for (int k = 0; k < taps; ++k) s += w[k] * float(rows[k][i]);
    acc[i] = s;
  }
}

const table kSse41{"sse41", vertical, horizontal_x86};

}  // namespace

const table* sse41_table() noexcept { return &kSse41; }

}  // namespace sf::image::kernels
