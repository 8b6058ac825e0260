// AVX2 + FMA kernels (compiled with -mavx2 -mfma, chosen at run time when the CPU
// has both). Same contract as kernels_scalar.cpp; float results differ from it by
// summation order only, dot_i8u8_batch is exact.
//
// Layout of every batch kernel: four rows at a time share each query load, each row
// keeps its own accumulators, one horizontal add gives the four results at once;
// the last n % 4 rows go through the one-row kernel. Tails shorter than a vector
// use masked loads (floats) or a zero-padded copy (bytes), so no access ever goes
// past the caller's arrays.
#include <immintrin.h>

#include <cstring>

#include "index/kernels_targets.h"

namespace sf::kernels {
namespace {

// Lanes [0, r) of the returned mask are set, r in [0, 8].
inline __m256i tail_mask(size_t r) {
  alignas(32) static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits + 8 - r));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// {sum(a), sum(b), sum(c), sum(d)}
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline __m128i hsum4_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
  __m256i t = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

// 8 codes -> 8 floats.
inline __m256 load_u8x8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// ---------------------------------------------------------------------------- f32

float dot_f32(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void dot_f32_batch(const float* q, const float* base, size_t d, size_t n, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* r0 = base + j * d;
    const float* r1 = r0 + d;
    const float* r2 = r1 + d;
    const float* r3 = r2 + d;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
      const __m256 qa = _mm256_loadu_ps(q + i), qb = _mm256_loadu_ps(q + i + 8);
      a0 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r0 + i), a0);
      a1 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r1 + i), a1);
      a2 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r2 + i), a2);
      a3 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r3 + i), a3);
      b0 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r0 + i + 8), b0);
      b1 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r1 + i + 8), b1);
      b2 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r2 + i + 8), b2);
      b3 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r3 + i + 8), b3);
    }
    if (i + 8 <= d) {
      const __m256 qa = _mm256_loadu_ps(q + i);
      a0 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r0 + i), a0);
      a1 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r1 + i), a1);
      a2 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r2 + i), a2);
      a3 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r3 + i), a3);
      i += 8;
    }
    if (i < d) {
      const __m256i m = tail_mask(d - i);
      const __m256 qb = _mm256_maskload_ps(q + i, m);
      b0 = _mm256_fmadd_ps(qb, _mm256_maskload_ps(r0 + i, m), b0);
      b1 = _mm256_fmadd_ps(qb, _mm256_maskload_ps(r1 + i, m), b1);
      b2 = _mm256_fmadd_ps(qb, _mm256_maskload_ps(r2 + i, m), b2);
      b3 = _mm256_fmadd_ps(qb, _mm256_maskload_ps(r3 + i, m), b3);
    }
    _mm_storeu_ps(out + j, hsum4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                                 _mm256_add_ps(a3, b3)));
  }
  for (; j < n; ++j) out[j] = dot_f32(q, base + j * d, d);
}

// ----------------------------------------------------------------------------- u8

float dot_u8(const float* q, const uint8_t* code, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_u8x8(code + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load_u8x8(code + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), load_u8x8(code + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), load_u8x8(code + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_u8x8(code + i), s0);
  if (i < n) {
    uint8_t pad[8] = {};
    std::memcpy(pad, code + i, n - i);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(q + i, tail_mask(n - i)), load_u8x8(pad), s1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void dot_u8_batch(const float* q, const uint8_t* codes, size_t d, size_t n, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r0 = codes + j * d;
    const uint8_t* r1 = r0 + d;
    const uint8_t* r2 = r1 + d;
    const uint8_t* r3 = r2 + d;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
      const __m256 qa = _mm256_loadu_ps(q + i), qb = _mm256_loadu_ps(q + i + 8);
      a0 = _mm256_fmadd_ps(qa, load_u8x8(r0 + i), a0);
      a1 = _mm256_fmadd_ps(qa, load_u8x8(r1 + i), a1);
      a2 = _mm256_fmadd_ps(qa, load_u8x8(r2 + i), a2);
      a3 = _mm256_fmadd_ps(qa, load_u8x8(r3 + i), a3);
      b0 = _mm256_fmadd_ps(qb, load_u8x8(r0 + i + 8), b0);
      b1 = _mm256_fmadd_ps(qb, load_u8x8(r1 + i + 8), b1);
      b2 = _mm256_fmadd_ps(qb, load_u8x8(r2 + i + 8), b2);
      b3 = _mm256_fmadd_ps(qb, load_u8x8(r3 + i + 8), b3);
    }
    if (i + 8 <= d) {
      const __m256 qa = _mm256_loadu_ps(q + i);
      a0 = _mm256_fmadd_ps(qa, load_u8x8(r0 + i), a0);
      a1 = _mm256_fmadd_ps(qa, load_u8x8(r1 + i), a1);
      a2 = _mm256_fmadd_ps(qa, load_u8x8(r2 + i), a2);
      a3 = _mm256_fmadd_ps(qa, load_u8x8(r3 + i), a3);
      i += 8;
    }
    if (i < d) {
      const size_t r = d - i;
      uint8_t p0[8] = {}, p1[8] = {}, p2[8] = {}, p3[8] = {};
      std::memcpy(p0, r0 + i, r);
      std::memcpy(p1, r1 + i, r);
      std::memcpy(p2, r2 + i, r);
      std::memcpy(p3, r3 + i, r);
      const __m256 qb = _mm256_maskload_ps(q + i, tail_mask(r));
      b0 = _mm256_fmadd_ps(qb, load_u8x8(p0), b0);
      b1 = _mm256_fmadd_ps(qb, load_u8x8(p1), b1);
      b2 = _mm256_fmadd_ps(qb, load_u8x8(p2), b2);
      b3 = _mm256_fmadd_ps(qb, load_u8x8(p3), b3);
    }
    _mm_storeu_ps(out + j, hsum4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                                 _mm256_add_ps(a3, b3)));
  }
  for (; j < n; ++j) out[j] = dot_u8(q, codes + j * d, d);
}

// --------------------------------------------------------------------------- i8u8
// Both operands widened to int16 and multiplied with vpmaddwd: each pair sum is at
// most 2 * 127 * 255, exact in int32 (vpmaddubsw would saturate at int16). Lane sums
// are bounded by sum |q8[i]| * 255 <= 65536 * 32385 < 2^31, so int32 never wraps.

inline __m256i load_u8x16_i16(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256i load_i8x16_i16(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

int32_t dot_i8u8(const int8_t* q8, const uint8_t* c, size_t d) {
  __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(load_i8x16_i16(q8 + i), load_u8x16_i16(c + i)));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(load_i8x16_i16(q8 + i + 16), load_u8x16_i16(c + i + 16)));
  }
  for (; i + 16 <= d; i += 16)
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(load_i8x16_i16(q8 + i), load_u8x16_i16(c + i)));
  if (i < d) {
    int8_t pq[16] = {};
    uint8_t pc[16] = {};
    std::memcpy(pq, q8 + i, d - i);
    std::memcpy(pc, c + i, d - i);
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(load_i8x16_i16(pq), load_u8x16_i16(pc)));
  }
  return hsum_epi32(_mm256_add_epi32(s0, s1));
}

void dot_i8u8_batch(const int8_t* q8, const uint8_t* codes, size_t d, size_t n, int32_t* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r0 = codes + j * d;
    const uint8_t* r1 = r0 + d;
    const uint8_t* r2 = r1 + d;
    const uint8_t* r3 = r2 + d;
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    __m256i a2 = _mm256_setzero_si256(), a3 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= d; i += 32) {
      const __m256i qa = load_i8x16_i16(q8 + i), qb = load_i8x16_i16(q8 + i + 16);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(qa, load_u8x16_i16(r0 + i)));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(qa, load_u8x16_i16(r1 + i)));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(qa, load_u8x16_i16(r2 + i)));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(qa, load_u8x16_i16(r3 + i)));
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(qb, load_u8x16_i16(r0 + i + 16)));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(qb, load_u8x16_i16(r1 + i + 16)));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(qb, load_u8x16_i16(r2 + i + 16)));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(qb, load_u8x16_i16(r3 + i + 16)));
    }
    if (i + 16 <= d) {
      const __m256i qa = load_i8x16_i16(q8 + i);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(qa, load_u8x16_i16(r0 + i)));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(qa, load_u8x16_i16(r1 + i)));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(qa, load_u8x16_i16(r2 + i)));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(qa, load_u8x16_i16(r3 + i)));
      i += 16;
    }
    if (i < d) {
      const size_t r = d - i;
      int8_t pq[16] = {};
      uint8_t p0[16] = {}, p1[16] = {}, p2[16] = {}, p3[16] = {};
      std::memcpy(pq, q8 + i, r);
      std::memcpy(p0, r0 + i, r);
      std::memcpy(p1, r1 + i, r);
      std::memcpy(p2, r2 + i, r);
      std::memcpy(p3, r3 + i, r);
      const __m256i qa = load_i8x16_i16(pq);
      a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(qa, load_u8x16_i16(p0)));
      a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(qa, load_u8x16_i16(p1)));
      a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(qa, load_u8x16_i16(p2)));
      a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(qa, load_u8x16_i16(p3)));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + j), hsum4_epi32(a0, a1, a2, a3));
  }
  for (; j < n; ++j) out[j] = dot_i8u8(q8, codes + j * d, d);
}

// ------------------------------------------------------------------------------ pq
// Scalar code on purpose: measured at n = 4096, m = 8..64 (AMD EPYC, Zen 4 class),
// vpgatherdps over 8 codes was 2.4x slower than this at m = 8 (tables in L1) and
// only 5-10% faster at m = 32..64. Four codes at a time, four sub-quantizer bytes
// per 32-bit load: four independent add chains and a quarter of the byte loads.
// Per code the sum still runs over s in order, so the result equals the scalar
// reference bit for bit.

void pq_scan(const float* lut, size_t m, const uint8_t* codes, size_t n, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* c0 = codes + j * m;
    const uint8_t* c1 = c0 + m;
    const uint8_t* c2 = c1 + m;
    const uint8_t* c3 = c2 + m;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const float* t = lut;
    size_t s = 0;
    for (; s + 4 <= m; s += 4, t += 1024) {
      uint32_t w0, w1, w2, w3;  // four sub-quantizer codes per load (little-endian)
      std::memcpy(&w0, c0 + s, 4);
      std::memcpy(&w1, c1 + s, 4);
      std::memcpy(&w2, c2 + s, 4);
      std::memcpy(&w3, c3 + s, 4);
      s0 += t[w0 & 255], s1 += t[w1 & 255], s2 += t[w2 & 255], s3 += t[w3 & 255];
      s0 += t[256 + ((w0 >> 8) & 255)], s1 += t[256 + ((w1 >> 8) & 255)];
      s2 += t[256 + ((w2 >> 8) & 255)], s3 += t[256 + ((w3 >> 8) & 255)];
      s0 += t[512 + ((w0 >> 16) & 255)], s1 += t[512 + ((w1 >> 16) & 255)];
      s2 += t[512 + ((w2 >> 16) & 255)], s3 += t[512 + ((w3 >> 16) & 255)];
      s0 += t[768 + (w0 >> 24)], s1 += t[768 + (w1 >> 24)], s2 += t[768 + (w2 >> 24)], s3 += t[768 + (w3 >> 24)];
    }
    for (; s < m; ++s, t += 256) s0 += t[c0[s]], s1 += t[c1[s]], s2 += t[c2[s]], s3 += t[c3[s]];
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < n; ++j) {
    const uint8_t* c = codes + j * m;
    float s = 0;
    for (size_t k = 0; k < m; ++k) s += lut[k * 256 + c[k]];
    out[j] = s;
  }
}

}  // namespace

const table* avx2_table() noexcept {
  static const table t{"avx2", dot_f32, dot_f32_batch, dot_u8, dot_u8_batch, dot_i8u8_batch, pq_scan};
  return &t;
}

}  // namespace sf::kernels
