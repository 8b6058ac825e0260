// Internal: the resampling kernels behind sf::image::preprocess, one table per target
// (scalar reference, SSE4.1 and AVX2+FMA chosen at run time on x86, WASM SIMD128 when
// compiled with -msimd128). SF_SIMD=scalar|sse41|avx2|wasm128 forces a table, as for
// src/index/kernels.h. Tests and benchmarks include this header to compare targets.
//
// preprocess() runs separably: for each output row, `vertical` blends the source rows of
// that row's taps (u8, all channels interleaved, only the columns the row needs) into a
// row `acc` in fixed point: integer weights in Q15 (summing to 32768), exact int32 sums,
// stored as floats (exact below 2^24, so a row value is 32768 * the blended pixel value).
// Every table computes the same integers, so `vertical` is bit-identical across tables.
// `horizontal` then blends columns of `acc` in float, normalises (the 2^-15 is folded into
// the normalisation factor), reorders the channels and writes one tensor row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace sf::image::kernels {

// Fixed point of the vertical pass: weights in Q15, a row of weights sums to vertical_one.
constexpr int vertical_bits = 15;
constexpr int32_t vertical_one = int32_t(1) << vertical_bits;

struct table {
  const char* name;  // "scalar", "sse41", "avx2", "wasm128"

  // acc[i] = float(sum_{k < taps} int32(rows[k][i]) * int32(w[k]))   for i < n, the sum in
  // int32 (callers keep sum |w| * 255 < 2^31; preprocess() uses weights summing to 32768).
  // Any taps >= 0 (0 writes zeros); rows may repeat.
  void (*vertical)(const uint8_t* const* rows, const int16_t* w, int taps, size_t n, float* acc);

  // One tensor row of out_w pixels. For pixel x and channel c < 3:
  //   p[c] = sum_{k < K} w[x*K + k] * acc[(start[x] + k) * C + c]      (C = 3 or 4)
  //   v[c] = p[bgr ? 2 - c : c] * a[c] + b[c]
  //   nchw: out[c * plane + x] = v[c];   nhwc: out[x * 3 + c] = v[c]
  // acc must be readable one float past the last pixel used (SIMD loads 4 floats).
  void (*horizontal)(const float* acc, int C, const int32_t* start, const float* w, int K, int out_w, bool bgr,
                     const float* a, const float* b, bool nchw, size_t plane, float* out);
};

const table& scalar() noexcept;
// Best table for this CPU and build, unless SF_SIMD names another available one.
const table& active() noexcept;
// Every table usable on this CPU and build, scalar first.
std::vector<const table*> available();

// preprocess() with a given table (tests, benchmarks).
[[nodiscard]] result<geometry> preprocess_with(const table& t, const frame_view& frame, const preprocess_options& o,
                                               float* out, size_t out_len);

// Per-target tables (nullptr when not compiled in).
const table* sse41_table() noexcept;
const table* avx2_table() noexcept;
const table* wasm128_table() noexcept;

}  // namespace sf::image::kernels
