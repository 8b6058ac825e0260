// SIMD distance kernels of the catalog index.
//
//   const sf::kernels::table& k = sf::kernels::active();   // best for this CPU / build
//   float s = k.dot_f32(query, vec, dim);
//   k.dot_u8_batch(q_scaled, codes, dim, n, scores);      // n sq8 codes, row-major
//
// Every target (scalar, SSE4.1, AVX2+FMA on x86 chosen at run time, WASM SIMD128
// when compiled with -msimd128) fills the same table. The scalar table is the
// reference: tests compare every available table against it, lengths with
// remainders included. SF_SIMD=scalar|sse41|avx2|wasm128 in the environment forces
// a table (if available), so tests and benchmarks can pin a path.
//
// Data conventions: vectors are float32, codes are uint8, both row-major and
// contiguous (row j of a batch starts at j*dim). No alignment is required.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sf::kernels {

struct table {
  const char* name;  // "scalar", "sse41", "avx2", "wasm128"

  // sum_i a[i]*b[i]
  float (*dot_f32)(const float* a, const float* b, size_t n);
  // out[j] = dot_f32(q, base + j*d, d) for j < n
  void (*dot_f32_batch)(const float* q, const float* base, size_t d, size_t n, float* out);

  // Scalar-quantized codes (sq8), asymmetric: sum_i q[i] * float(code[i]).
  // The caller folds per-dimension scale into q and the offset into a bias.
  float (*dot_u8)(const float* q, const uint8_t* code, size_t n);
  // out[j] = dot_u8(q, codes + j*d, d) for j < n
  void (*dot_u8_batch)(const float* q, const uint8_t* codes, size_t d, size_t n, float* out);

  // Same with the query quantised to int8 as well (fast shortlist scan):
  // out[j] = sum_i int32(q8[i]) * int32(codes[j*d+i]), exact integer arithmetic.
  // q8 values are in [-127, 127]; n (d) up to 65536.
  void (*dot_i8u8_batch)(const int8_t* q8, const uint8_t* codes, size_t d, size_t n, int32_t* out);

  // Product quantization, asymmetric distance computation with 8-bit codes:
  // lut is m tables of 256 floats (lut[s*256 + c]); each code is m bytes;
  // out[j] = sum_s lut[s*256 + codes[j*m + s]] for j < n.
  void (*pq_scan)(const float* lut, size_t m, const uint8_t* codes, size_t n, float* out);
};

const table& scalar() noexcept;
// Best table for this CPU and build, unless SF_SIMD names another available one.
const table& active() noexcept;
// Every table usable on this CPU and build, scalar first.
std::vector<const table*> available();

}  // namespace sf::kernels
