// Internal: the resampling kernels behind sf::image::preprocess, one table per target
// (scalar reference, SSE4.1 and AVX2+FMA chosen at run time on x86, WASM SIMD128 when
// compiled with -msimd128). SF_SIMD=scalar|sse41|avx2|wasm128 forces a table, as for
// src/index/kernels.h. Tests and benchmarks include this header to compare targets.
//
// preprocess() runs separably: for each output row, `vertical` blends the source rows of
// that row's taps (u8, all channels interleaved, only the columns the row needs) into a
// float row `acc`; `horizontal` then blends columns of `acc`, normalises, reorders the
// channels and writes one tensor row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace sf::image::kernels {

struct table {
  const char* name;  // "scalar", "sse41", "avx2", "wasm128"

  // acc[i] = sum_{k < taps} w[k] * float(rows[k][i])   for i < n.
  void (*vertical)(const uint8_t* const* rows, const float* w, int taps, size_t n, float* acc);

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
