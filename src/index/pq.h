// Product quantizer (`pqM` in a quantizer string): M sub-spaces of d/M dims, 256
// centroids each (8-bit codes), codebooks trained with k-means.
//
//   auto pq = sf::pq_train(data, n, d, m, seed);        // result<pq_codec>
//   std::vector<uint8_t> codes(n * m); pq.value().encode(data, n, codes.data());
//   std::vector<float> lut(m * 256); pq.value().inner_product_table(query, lut.data());
//   kernels::active().pq_scan(lut.data(), m, codes.data(), n, scores);   // approx <q, x>
//
// d must be a multiple of m (an error otherwise). Codebooks: m * 256 * (d/m) floats,
// sub-space s, centroid c at codebooks[(s*256 + c) * dsub].
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"

namespace sf {

struct pq_codec {
  size_t d = 0, m = 0, dsub = 0;
  std::vector<float> codebooks;  // m * 256 * dsub

  void encode(const float* data, size_t n, uint8_t* codes) const;
  void decode(const uint8_t* codes, size_t n, float* out) const;
  // lut[s*256 + c] = <query_s, centroid_{s,c}>
  void inner_product_table(const float* query, float* lut) const;
};

result<pq_codec> pq_train(const float* data, size_t n, size_t d, size_t m, uint64_t seed, int iterations = 20);

}  // namespace sf
