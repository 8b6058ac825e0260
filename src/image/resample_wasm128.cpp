// WASM SIMD128 kernels for preprocess() (compiled only for WASM with -msimd128; no
// run-time choice there). The vertical pass is integer (i32x4.dot_i16x8_s over row
// pairs, resample_vertical_inl.h) and bit-identical to resample_scalar.cpp; the horizontal
// pass keeps the scalar summation order (multiply, then add: clang 14 has no relaxed-SIMD
// FMA). One pixel is one v128 (lanes R, G, B, A-or-next-R); four pixels are transposed
// for NCHW.
#include <wasm_simd128.h>

#include <cstring>

#include "image/resample_kernels.h"

namespace sf::image::kernels {
namespace {

inline v128_t madd(v128_t a, v128_t b, v128_t acc) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), acc); }

#include "image/resample_vertical_inl.h"

// Rows j, j+1 of a pair: bytes interleaved (a0 b0 a1 b1 ...), widened to i16, one dot
// product with (w_j, w_j+1) per 32-bit lane.
template <int P>
void vertical_pairs(const uint8_t* const* r, const int16_t* w, size_t n, float* acc, bool first, bool last) {
  v128_t wv[P];
  for (int p = 0; p < P; ++p)
    wv[p] = wasm_i32x4_splat(int32_t(uint32_t(uint16_t(w[2 * p])) | (uint32_t(uint16_t(w[2 * p + 1])) << 16)));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t s0, s1, s2, s3;
    if (first) {
      s0 = s1 = s2 = s3 = wasm_i32x4_splat(0);
    } else {
      s0 = wasm_v128_load(acc + i);
      s1 = wasm_v128_load(acc + i + 4);
      s2 = wasm_v128_load(acc + i + 8);
      s3 = wasm_v128_load(acc + i + 12);
    }
    for (int p = 0; p < P; ++p) {
      const v128_t a = wasm_v128_load(r[2 * p] + i);
      const v128_t b = wasm_v128_load(r[2 * p + 1] + i);
      const v128_t lo = wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const v128_t hi = wasm_i8x16_shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(lo), wv[p]));
      s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(lo), wv[p]));
      s2 = wasm_i32x4_add(s2, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(hi), wv[p]));
      s3 = wasm_i32x4_add(s3, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(hi), wv[p]));
    }
    if (last) {
      s0 = wasm_f32x4_convert_i32x4(s0);
      s1 = wasm_f32x4_convert_i32x4(s1);
      s2 = wasm_f32x4_convert_i32x4(s2);
      s3 = wasm_f32x4_convert_i32x4(s3);
    }
    wasm_v128_store(acc + i, s0);
    wasm_v128_store(acc + i + 4, s1);
    wasm_v128_store(acc + i + 8, s2);
    wasm_v128_store(acc + i + 12, s3);
  }
  vertical_tail(r, w, 2 * P, i, n, acc, first, last);
}

void horizontal(const float* acc, int C, const int32_t* start, const float* w, int K, int out_w, bool bgr,
                const float* a, const float* b, bool nchw, size_t plane, float* out) {
  const v128_t va = wasm_f32x4_make(a[0], a[1], a[2], 0.0f);
  const v128_t vb = wasm_f32x4_make(b[0], b[1], b[2], 0.0f);
  const size_t step = size_t(C);
  auto pixel = [&](int x) {
    const float* wx = w + size_t(x) * size_t(K);
    const float* px = acc + size_t(start[x]) * step;
    v128_t p = wasm_f32x4_splat(0.0f);
    for (int k = 0; k < K; ++k) p = madd(wasm_f32x4_splat(wx[k]), wasm_v128_load(px + size_t(k) * step), p);
    if (bgr) p = wasm_i32x4_shuffle(p, p, 2, 1, 0, 3);
    return madd(p, va, vb);
  };
  int x = 0;
  if (nchw) {
    float* o0 = out;
    float* o1 = out + plane;
    float* o2 = out + 2 * plane;
    for (; x + 4 <= out_w; x += 4) {
      const v128_t p0 = pixel(x), p1 = pixel(x + 1), p2 = pixel(x + 2), p3 = pixel(x + 3);
      const v128_t t0 = wasm_i32x4_shuffle(p0, p1, 0, 4, 1, 5);  // r0 r1 g0 g1
      const v128_t t1 = wasm_i32x4_shuffle(p2, p3, 0, 4, 1, 5);  // r2 r3 g2 g3
      const v128_t t2 = wasm_i32x4_shuffle(p0, p1, 2, 6, 3, 7);  // b0 b1 .. ..
      const v128_t t3 = wasm_i32x4_shuffle(p2, p3, 2, 6, 3, 7);  // b2 b3 .. ..
      wasm_v128_store(o0 + x, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
      wasm_v128_store(o1 + x, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
      wasm_v128_store(o2 + x, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
    }
    for (; x < out_w; ++x) {
      const v128_t p = pixel(x);
      o0[x] = wasm_f32x4_extract_lane(p, 0);
      o1[x] = wasm_f32x4_extract_lane(p, 1);
      o2[x] = wasm_f32x4_extract_lane(p, 2);
    }
  } else {
    for (; x + 4 <= out_w; x += 4) {
      float* o = out + size_t(x) * 3;
      // Each 4-float store spills one lane into the next pixel, which the next store
      // overwrites; the last pixel of the group is stored as 2 + 1 floats.
      wasm_v128_store(o, pixel(x));
      wasm_v128_store(o + 3, pixel(x + 1));
      wasm_v128_store(o + 6, pixel(x + 2));
      const v128_t p3 = pixel(x + 3);
      wasm_v128_store64_lane(o + 9, p3, 0);
      wasm_v128_store32_lane(o + 11, p3, 2);
    }
    for (; x < out_w; ++x) {
      float* o = out + size_t(x) * 3;
      const v128_t p = pixel(x);
      wasm_v128_store64_lane(o, p, 0);
      wasm_v128_store32_lane(o + 2, p, 2);
    }
  }
}

const table kWasm128{"wasm128", vertical_grouped, horizontal};

}  // namespace

const table* wasm128_table() noexcept { return &kWasm128; }

}  // namespace sf::image::kernels
