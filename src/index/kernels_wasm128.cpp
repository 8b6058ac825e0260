// WASM SIMD128 kernels (compiled only for WASM with -msimd128; the build has no
// run-time choice there, the table is available whenever compiled in). Same contract
// as kernels_scalar.cpp; float results differ from it by summation order only,
// dot_i8u8_batch is exact. Only intrinsics present in clang 14's wasm_simd128.h
// (Debian's emscripten 3.1.6); no relaxed SIMD, so no fused multiply-add.
//
// Batch kernels take four rows at a time so each query load serves four rows; the
// last n % 4 rows go through the one-row kernel. Tails shorter than a vector are
// finished in scalar code, so no access goes past the caller's arrays.
#include <wasm_simd128.h>

#include <cstring>

#include "index/kernels_targets.h"

namespace sf::kernels {
namespace {

inline float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

// {sum(a), sum(b), sum(c), sum(d)}
inline v128_t hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
  // transpose-and-add: pairs first, then halves
  v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
  v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 2, 4, 6), wasm_i32x4_shuffle(c, d, 1, 3, 5, 7));
  // ab = {a01, a23, b01, b23}, cd = {c01, c23, d01, d23}
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

inline int32_t hsum_i32(v128_t v) {
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_i32x4_extract_lane(v, 0);
}

inline v128_t hsum4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
  v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 2, 4, 6), wasm_i32x4_shuffle(c, d, 1, 3, 5, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

inline v128_t madd(v128_t a, v128_t b, v128_t acc) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
inline v128_t ld(const float* p) { return wasm_v128_load(p); }

// Zero-extended codes (u32 lanes < 2^23) -> f32 exactly: OR the exponent of 2^23
// in and subtract 2^23. clang turns convert_i32x4 of a zero-extension into
// f32x4.convert_i32x4_u, which V8 lowers to a slow multi-instruction sequence.
inline v128_t u32_to_f32(v128_t u) {
  const v128_t magic = wasm_i32x4_splat(0x4B000000);  // bits of 8388608.0f
  return wasm_f32x4_sub(wasm_v128_or(u, magic), magic);
}

// 4 codes -> 4 floats.
inline v128_t load_u8x4(const uint8_t* p) {
  return u32_to_f32(wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p))));
}

// ---------------------------------------------------------------------------- f32

float dot_f32(const float* a, const float* b, size_t n) {
  v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = madd(ld(a + i), ld(b + i), s0);
    s1 = madd(ld(a + i + 4), ld(b + i + 4), s1);
    s2 = madd(ld(a + i + 8), ld(b + i + 8), s2);
    s3 = madd(ld(a + i + 12), ld(b + i + 12), s3);
  }
  for (; i + 4 <= n; i += 4) s0 = madd(ld(a + i), ld(b + i), s0);
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
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
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const v128_t qa = ld(q + i), qb = ld(q + i + 4);
      a0 = madd(qa, ld(r0 + i), a0);
      a1 = madd(qa, ld(r1 + i), a1);
      a2 = madd(qa, ld(r2 + i), a2);
      a3 = madd(qa, ld(r3 + i), a3);
      b0 = madd(qb, ld(r0 + i + 4), b0);
      b1 = madd(qb, ld(r1 + i + 4), b1);
      b2 = madd(qb, ld(r2 + i + 4), b2);
      b3 = madd(qb, ld(r3 + i + 4), b3);
    }
    if (i + 4 <= d) {
      const v128_t qa = ld(q + i);
      a0 = madd(qa, ld(r0 + i), a0);
      a1 = madd(qa, ld(r1 + i), a1);
      a2 = madd(qa, ld(r2 + i), a2);
      a3 = madd(qa, ld(r3 + i), a3);
      i += 4;
    }
    float s[4];
    wasm_v128_store(s, hsum4(wasm_f32x4_add(a0, b0), wasm_f32x4_add(a1, b1), wasm_f32x4_add(a2, b2),
                             wasm_f32x4_add(a3, b3)));
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
  v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t c = wasm_v128_load(code + i);
    const v128_t lo = wasm_u16x8_extend_low_u8x16(c), hi = wasm_u16x8_extend_high_u8x16(c);
    s0 = madd(ld(q + i), u32_to_f32(wasm_u32x4_extend_low_u16x8(lo)), s0);
    s1 = madd(ld(q + i + 4), u32_to_f32(wasm_u32x4_extend_high_u16x8(lo)), s1);
    s2 = madd(ld(q + i + 8), u32_to_f32(wasm_u32x4_extend_low_u16x8(hi)), s2);
    s3 = madd(ld(q + i + 12), u32_to_f32(wasm_u32x4_extend_high_u16x8(hi)), s3);
  }
  for (; i + 4 <= n; i += 4) s0 = madd(ld(q + i), load_u8x4(code + i), s0);
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
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
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
      const v128_t qa = ld(q + i), qb = ld(q + i + 4);
      // 8 codes per row -> two f32x4
      const v128_t w0 = wasm_u16x8_load8x8(r0 + i), w1 = wasm_u16x8_load8x8(r1 + i);
      const v128_t w2 = wasm_u16x8_load8x8(r2 + i), w3 = wasm_u16x8_load8x8(r3 + i);
      a0 = madd(qa, u32_to_f32(wasm_u32x4_extend_low_u16x8(w0)), a0);
      a1 = madd(qa, u32_to_f32(wasm_u32x4_extend_low_u16x8(w1)), a1);
      a2 = madd(qa, u32_to_f32(wasm_u32x4_extend_low_u16x8(w2)), a2);
      a3 = madd(qa, u32_to_f32(wasm_u32x4_extend_low_u16x8(w3)), a3);
      b0 = madd(qb, u32_to_f32(wasm_u32x4_extend_high_u16x8(w0)), b0);
      b1 = madd(qb, u32_to_f32(wasm_u32x4_extend_high_u16x8(w1)), b1);
      b2 = madd(qb, u32_to_f32(wasm_u32x4_extend_high_u16x8(w2)), b2);
      b3 = madd(qb, u32_to_f32(wasm_u32x4_extend_high_u16x8(w3)), b3);
    }
    if (i + 4 <= d) {
      const v128_t qa = ld(q + i);
      a0 = madd(qa, load_u8x4(r0 + i), a0);
      a1 = madd(qa, load_u8x4(r1 + i), a1);
      a2 = madd(qa, load_u8x4(r2 + i), a2);
      a3 = madd(qa, load_u8x4(r3 + i), a3);
      i += 4;
    }
    float s[4];
    wasm_v128_store(s, hsum4(wasm_f32x4_add(a0, b0), wasm_f32x4_add(a1, b1), wasm_f32x4_add(a2, b2),
                             wasm_f32x4_add(a3, b3)));
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
// Both operands widened to i16x8 and multiplied with i32x4.dot_i16x8_s: each pair
// sum is at most 2 * 127 * 255, exact in int32. Lane sums are bounded by
// sum |q8[i]| * 255 <= 65536 * 32385 < 2^31, so int32 never wraps.

int32_t dot_i8u8(const int8_t* q8, const uint8_t* c, size_t d) {
  v128_t s0 = wasm_i32x4_splat(0), s1 = s0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const v128_t qv = wasm_v128_load(q8 + i), cv = wasm_v128_load(c + i);
    s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(qv), wasm_u16x8_extend_low_u8x16(cv)));
    s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(qv), wasm_u16x8_extend_high_u8x16(cv)));
  }
  if (i + 8 <= d) {
    s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(q8 + i), wasm_u16x8_load8x8(c + i)));
    i += 8;
  }
  int32_t s = hsum_i32(wasm_i32x4_add(s0, s1));
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
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
      const v128_t qv = wasm_v128_load(q8 + i);
      const v128_t ql = wasm_i16x8_extend_low_i8x16(qv), qh = wasm_i16x8_extend_high_i8x16(qv);
      const v128_t c0 = wasm_v128_load(r0 + i), c1 = wasm_v128_load(r1 + i);
      const v128_t c2 = wasm_v128_load(r2 + i), c3 = wasm_v128_load(r3 + i);
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_extend_low_u8x16(c0)));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_extend_low_u8x16(c1)));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_extend_low_u8x16(c2)));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_extend_low_u8x16(c3)));
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(qh, wasm_u16x8_extend_high_u8x16(c0)));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(qh, wasm_u16x8_extend_high_u8x16(c1)));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(qh, wasm_u16x8_extend_high_u8x16(c2)));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(qh, wasm_u16x8_extend_high_u8x16(c3)));
    }
    if (i + 8 <= d) {
      const v128_t ql = wasm_i16x8_load8x8(q8 + i);
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_load8x8(r0 + i)));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_load8x8(r1 + i)));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_load8x8(r2 + i)));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(ql, wasm_u16x8_load8x8(r3 + i)));
      i += 8;
    }
    int32_t s[4];
    wasm_v128_store(s, hsum4_i32(a0, a1, a2, a3));
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
// WASM SIMD has no gather: scalar code that takes four codes at a time and four
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

const table* wasm128_table() noexcept {
  static const table t{"wasm128", dot_f32, dot_f32_batch, dot_u8, dot_u8_batch, dot_i8u8_batch, pq_scan};
  return &t;
}

}  // namespace sf::kernels
