// SSE4.1 kernels for preprocess() (compiled with -msse4.1, chosen at run time). The
// vertical pass is integer (_mm_madd_epi16 over row pairs, resample_vertical_inl.h) and
// bit-identical to resample_scalar.cpp; the horizontal pass keeps the scalar summation
// order (multiply, then add; no FMA), so it matches to float rounding of identical operations.
#include <smmintrin.h>

#include <cstring>

#include "image/resample_kernels.h"

namespace sf::image::kernels {
namespace {

inline __m128 madd(__m128 a, __m128 b, __m128 acc) { return _mm_add_ps(_mm_mul_ps(a, b), acc); }
#define SF_MADD madd
#include "image/resample_x86_inl.h"
#undef SF_MADD

#include "image/resample_vertical_inl.h"

// Rows j, j+1 of a pair: bytes interleaved (a0 b0 a1 b1 ...), widened to i16, one
// _mm_madd_epi16 with (w_j, w_j+1) per 32-bit lane.
template <int P>
void vertical_pairs(const uint8_t* const* r, const int16_t* w, size_t n, float* acc, bool first, bool last) {
  __m128i wv[P];
  for (int p = 0; p < P; ++p)
    wv[p] = _mm_set1_epi32(int32_t(uint32_t(uint16_t(w[2 * p])) | (uint32_t(uint16_t(w[2 * p + 1])) << 16)));
  const __m128i zero = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i s0, s1, s2, s3;
    if (first) {
      s0 = s1 = s2 = s3 = zero;
    } else {
      s0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i));
      s1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i + 4));
      s2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i + 8));
      s3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i + 12));
    }
    for (int p = 0; p < P; ++p) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[2 * p] + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[2 * p + 1] + i));
      const __m128i lo = _mm_unpacklo_epi8(a, b), hi = _mm_unpackhi_epi8(a, b);
      s0 = _mm_add_epi32(s0, _mm_madd_epi16(_mm_cvtepu8_epi16(lo), wv[p]));
      s1 = _mm_add_epi32(s1, _mm_madd_epi16(_mm_unpackhi_epi8(lo, zero), wv[p]));
      s2 = _mm_add_epi32(s2, _mm_madd_epi16(_mm_cvtepu8_epi16(hi), wv[p]));
      s3 = _mm_add_epi32(s3, _mm_madd_epi16(_mm_unpackhi_epi8(hi, zero), wv[p]));
    }
    if (last) {
      _mm_storeu_ps(acc + i, _mm_cvtepi32_ps(s0));
      _mm_storeu_ps(acc + i + 4, _mm_cvtepi32_ps(s1));
      _mm_storeu_ps(acc + i + 8, _mm_cvtepi32_ps(s2));
      _mm_storeu_ps(acc + i + 12, _mm_cvtepi32_ps(s3));
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i), s0);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i + 4), s1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i + 8), s2);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i + 12), s3);
    }
  }
  vertical_tail(r, w, 2 * P, i, n, acc, first, last);
}

const table kSse41{"sse41", vertical_grouped, horizontal_x86};

}  // namespace

const table* sse41_table() noexcept { return &kSse41; }

}  // namespace sf::image::kernels
