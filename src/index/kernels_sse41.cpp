// SSE4.1 kernels (compiled with -msse4.1, chosen at run time). Same contract as
// kernels_scalar.cpp; float results differ from it by summation order only,
// dot_i8u8_batch is exact. No FMA at this level: multiply, then add.
//
// Batch kernels take four rows at a time so each query load serves four rows; the
// last n % 4 rows go through the one-row kernel. Tails shorter than a vector are
// finished in scalar code, so no access goes past the caller's arrays.
#include <smmintrin.h>

#include <cstring>

#include "index/kernels_targets.h"

namespace sf::kernels {
namespace {

inline float hsum(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

// {sum(a), sum(b), sum(c), sum(d)}
inline __m128 hsum4(__m128 a, __m128 b, __m128 c, __m128 d) {
  return _mm_hadd_ps(_mm_hadd_ps(a, b), _mm_hadd_ps(c, d));
}

inline int32_t hsum_epi32(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(v);
}

inline __m128i hsum4_epi32(__m128i a, __m128i b, __m128i c, __m128i d) {
  return _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));
}

// 4 codes -> 4 floats.
inline __m128 load_u8x4(const uint8_t* p) {
  int32_t w;
  std::memcpy(&w, p, 4);
  return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(w)));
}

inline __m128 madd(__m128 a, __m128 b, __m128 acc) { return _mm_add_ps(acc, _mm_mul_ps(a, b)); }

// ---------------------------------------------------------------------------- f32

float dot_f32(const float* a, const float* b, size_t n) {
  __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps(), s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = madd(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i), s0);
    s1 = madd(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4), s1);
    s2 = madd(_mm_loadu_ps(a + i + 8), _mm_loadu_ps(b + i + 8), s2);
    s3 = madd(_mm_loadu_ps(a + i + 12), _mm_loadu_ps(b + i + 12), s3);
  }
  for (; i + 4 <= n; i += 4) s0 = madd(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i), s0);
  float s = hsum(_mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void dot_f32_batch(const float* q, const float* base, size_t d, size_t n, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* r0 = base + j * d;
    const float* r1 = r0 + d;
    const float* r2 = r1 + d;
    const float* r3 = r2 + d;
    __m128 a0 = _mm_setzero_ps(), a1 = _mm_setzero_ps(), a2 = _mm_setzero_ps(), a3 = _mm_setzero_ps();
    __m128 b0 = _mm_setzero_ps(), b1 = _mm_setzero_ps(), b2 = _mm_setzero_ps(), b3 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const __m128 qa = _mm_loadu_ps(q + i), qb = _mm_loadu_ps(q + i + 4);
      a0 = madd(qa, _mm_loadu_ps(r0 + i), a0);
      a1 = madd(qa, _mm_loadu_ps(r1 + i), a1);
      a2 = madd(qa, _mm_loadu_ps(r2 + i), a2);
      a3 = madd(qa, _mm_loadu_ps(r3 + i), a3);
      b0 = madd(qb, _mm_loadu_ps(r0 + i + 4), b0);
      b1 = madd(qb, _mm_loadu_ps(r1 + i + 4), b1);
      b2 = madd(qb, _mm_loadu_ps(r2 + i + 4), b2);
      b3 = madd(qb, _mm_loadu_ps(r3 + i + 4), b3);
    }
    if (i + 4 <= d) {
      const __m128 qa = _mm_loadu_ps(q + i);
      a0 = madd(qa, _mm_loadu_ps(r0 + i), a0);
      a1 = madd(qa, _mm_loadu_ps(r1 + i), a1);
      a2 = madd(qa, _mm_loadu_ps(r2 + i), a2);
      a3 = madd(qa, _mm_loadu_ps(r3 + i), a3);
      i += 4;
    }
    alignas(16) float s[4];
    _mm_store_ps(s, hsum4(_mm_add_ps(a0, b0), _mm_add_ps(a1, b1), _mm_add_ps(a2, b2), _mm_add_ps(a3, b3)));
    for (; i < d; ++i) {
      s[0] += q[i] * r0[i];
      s[1] += q[i] * r1[i];
      s[2] += q[i] * r2[i];
      s[3] += q[i] * r3[i];
    }
    std::memcpy(out + j, s, sizeof s);
  }
  for (; j < n; ++j) out[j] = dot_f32(q, base + j * d, d);
}

// ----------------------------------------------------------------------------- u8

float dot_u8(const float* q, const uint8_t* code, size_t n) {
  __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps(), s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(code + i));
    s0 = madd(_mm_loadu_ps(q + i), _mm_cvtepi32_ps(_mm_cvtepu8_epi32(c)), s0);
    s1 = madd(_mm_loadu_ps(q + i + 4), _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_srli_si128(c, 4))), s1);
    s2 = madd(_mm_loadu_ps(q + i + 8), _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_srli_si128(c, 8))), s2);
    s3 = madd(_mm_loadu_ps(q + i + 12), _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_srli_si128(c, 12))), s3);
  }
  for (; i + 4 <= n; i += 4) s0 = madd(_mm_loadu_ps(q + i), load_u8x4(code + i), s0);
  float s = hsum(_mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)));
  for (; i < n; ++i) s += q[i] * float(code[i]);
  return s;
}

void dot_u8_batch(const float* q, const uint8_t* codes, size_t d, size_t n, float* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r0 = codes + j * d;
    const uint8_t* r1 = r0 + d;
    const uint8_t* r2 = r1 + d;
    const uint8_t* r3 = r2 + d;
    __m128 a0 = _mm_setzero_ps(), a1 = _mm_setzero_ps(), a2 = _mm_setzero_ps(), a3 = _mm_setzero_ps();
    __m128 b0 = _mm_setzero_ps(), b1 = _mm_setzero_ps(), b2 = _mm_setzero_ps(), b3 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const __m128 qa = _mm_loadu_ps(q + i), qb = _mm_loadu_ps(q + i + 4);
      a0 = madd(qa, load_u8x4(r0 + i), a0);
      a1 = madd(qa, load_u8x4(r1 + i), a1);
      a2 = madd(qa, load_u8x4(r2 + i), a2);
      a3 = madd(qa, load_u8x4(r3 + i), a3);
      b0 = madd(qb, load_u8x4(r0 + i + 4), b0);
      b1 = madd(qb, load_u8x4(r1 + i + 4), b1);
      b2 = madd(qb, load_u8x4(r2 + i + 4), b2);
      b3 = madd(qb, load_u8x4(r3 + i + 4), b3);
    }
    if (i + 4 <= d) {
      const __m128 qa = _mm_loadu_ps(q + i);
      a0 = madd(qa, load_u8x4(r0 + i), a0);
      a1 = madd(qa, load_u8x4(r1 + i), a1);
      a2 = madd(qa, load_u8x4(r2 + i), a2);
      a3 = madd(qa, load_u8x4(r3 + i), a3);
      i += 4;
    }
    alignas(16) float s[4];
    _mm_store_ps(s, hsum4(_mm_add_ps(a0, b0), _mm_add_ps(a1, b1), _mm_add_ps(a2, b2), _mm_add_ps(a3, b3)));
    for (; i < d; ++i) {
      s[0] += q[i] * float(r0[i]);
      s[1] += q[i] * float(r1[i]);
      s[2] += q[i] * float(r2[i]);
      s[3] += q[i] * float(r3[i]);
    }
    std::memcpy(out + j, s, sizeof s);
  }
  for (; j < n; ++j) out[j] = dot_u8(q, codes + j * d, d);
}

// --------------------------------------------------------------------------- i8u8
// Both operands widened to int16, multiplied with pmaddwd: each pair sum is at most
// 2 * 127 * 255, exact in int32 (pmaddubsw would saturate at int16). Lane sums are
// bounded by sum |q8[i]| * 255 <= 65536 * 32385 < 2^31, so int32 never wraps.

inline __m128i load_u8x8_i16(const uint8_t* p) {
  return _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline __m128i load_i8x8_i16(const int8_t* p) {
  return _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

int32_t dot_i8u8(const int8_t* q8, const uint8_t* c, size_t d) {
  __m128i s0 = _mm_setzero_si128(), s1 = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    s0 = _mm_add_epi32(s0, _mm_madd_epi16(load_i8x8_i16(q8 + i), load_u8x8_i16(c + i)));
    s1 = _mm_add_epi32(s1, _mm_madd_epi16(load_i8x8_i16(q8 + i + 8), load_u8x8_i16(c + i + 8)));
  }
  if (i + 8 <= d) {
    s0 = _mm_add_epi32(s0, _mm_madd_epi16(load_i8x8_i16(q8 + i), load_u8x8_i16(c + i)));
    i += 8;
  }
  int32_t s = hsum_epi32(_mm_add_epi32(s0, s1));
  for (; i < d; ++i) s += int32_t(q8[i]) * int32_t(c[i]);
  return s;
}

void dot_i8u8_batch(const int8_t* q8, const uint8_t* codes, size_t d, size_t n, int32_t* out) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r0 = codes + j * d;
    const uint8_t* r1 = r0 + d;
    const uint8_t* r2 = r1 + d;
    const uint8_t* r3 = r2 + d;
    __m128i a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128();
    __m128i a2 = _mm_setzero_si128(), a3 = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const __m128i qa = load_i8x8_i16(q8 + i);
      a0 = _mm_add_epi32(a0, _mm_madd_epi16(qa, load_u8x8_i16(r0 + i)));
      a1 = _mm_add_epi32(a1, _mm_madd_epi16(qa, load_u8x8_i16(r1 + i)));
      a2 = _mm_add_epi32(a2, _mm_madd_epi16(qa, load_u8x8_i16(r2 + i)));
      a3 = _mm_add_epi32(a3, _mm_madd_epi16(qa, load_u8x8_i16(r3 + i)));
    }
    alignas(16) int32_t s[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(s), hsum4_epi32(a0, a1, a2, a3));
    for (; i < d; ++i) {
      const int32_t qi = q8[i];
      s[0] += qi * int32_t(r0[i]);
      s[1] += qi * int32_t(r1[i]);
      s[2] += qi * int32_t(r2[i]);
      s[3] += qi * int32_t(r3[i]);
    }
    std::memcpy(out + j, s, sizeof s);
  }
  for (; j < n; ++j) out[j] = dot_i8u8(q8, codes + j * d, d);
}

// ------------------------------------------------------------------------------ pq
// No gather at this level: scalar code that takes four codes at a time and four
// sub-quantizer bytes per 32-bit load (four independent add chains, a quarter of
// the byte loads). Per code the sum still runs over s in order, so the result
// equals the scalar reference bit for bit.

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

const table* sse41_table() noexcept {
  static const table t{"sse41", dot_f32, dot_f32_batch, dot_u8, dot_u8_batch, dot_i8u8_batch, pq_scan};
  return &t;
}

}  // namespace sf::kernels
