// AVX2+FMA kernels for preprocess() (compiled with -mavx2 -mfma, chosen at run time).
// Same contract as resample_scalar.cpp. The vertical pass (most of the work) is integer
// (_mm256_madd_epi16 over row pairs, resample_vertical_inl.h), 32 bytes at a time, and
// bit-identical to the scalar one; the horizontal pass is the shared 128-bit one with FMA
// (fused multiply-add changes rounding slightly).
#include <immintrin.h>

#include <cstring>

#include "image/resample_kernels.h"

namespace sf::image::kernels {
namespace {

#define SF_MADD _mm_fmadd_ps
#include "image/resample_x86_inl.h"
#undef SF_MADD

#include "image/resample_vertical_inl.h"

// Rows j, j+1 of a pair: 16 bytes of each interleaved (a0 b0 a1 b1 ...), widened to 16
// i16 lanes, one _mm256_madd_epi16 with (w_j, w_j+1) per 32-bit lane; 32 columns a step.
template <int P>
void vertical_pairs(const uint8_t* const* r, const int16_t* w, size_t n, float* acc, bool first, bool last) {
  __m256i wv[P];
  for (int p = 0; p < P; ++p)
    wv[p] = _mm256_set1_epi32(int32_t(uint32_t(uint16_t(w[2 * p])) | (uint32_t(uint16_t(w[2 * p + 1])) << 16)));
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i s0, s1, s2, s3;
    if (first) {
      s0 = s1 = s2 = s3 = _mm256_setzero_si256();
    } else {
      s0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
      s1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i + 8));
      s2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i + 16));
      s3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i + 24));
    }
    for (int p = 0; p < P; ++p) {
      const __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[2 * p] + i));
      const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[2 * p + 1] + i));
      const __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[2 * p] + i + 16));
      const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[2 * p + 1] + i + 16));
      s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a0, b0)), wv[p]));
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a0, b0)), wv[p]));
      s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a1, b1)), wv[p]));
      s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a1, b1)), wv[p]));
    }
    if (last) {
      _mm256_storeu_ps(acc + i, _mm256_cvtepi32_ps(s0));
      _mm256_storeu_ps(acc + i + 8, _mm256_cvtepi32_ps(s1));
      _mm256_storeu_ps(acc + i + 16, _mm256_cvtepi32_ps(s2));
      _mm256_storeu_ps(acc + i + 24, _mm256_cvtepi32_ps(s3));
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i), s0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i + 8), s1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i + 16), s2);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i + 24), s3);
    }
  }
  vertical_tail(r, w, 2 * P, i, n, acc, first, last);
}

const table kAvx2{"avx2", vertical_grouped, horizontal_x86};

}  // namespace

const table* avx2_table() noexcept { return &kAvx2; }

}  // namespace sf::image::kernels
