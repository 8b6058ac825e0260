// k-means clustering for the index's coarse quantizer (IVF) and PQ codebooks.
//
//   sf::kmeans_options opt; opt.k = 256; opt.iterations = 20; opt.seed = 7;
//   auto c = sf::kmeans_train(data, n, d, opt);      // c.value(): k*d floats, row-major
//   std::vector<uint32_t> assign(n);
//   sf::kmeans_assign(c.value().data(), k, data, n, d, assign.data());
//
// Squared-L2 Lloyd iterations with k-means++ seeding on a subsample; deterministic
// for a given seed. Empty clusters are re-seeded by splitting the largest one.
// When n < k the trailing centroids repeat points (k is never silently shrunk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"

namespace sf {

struct kmeans_options {
  size_t k = 256;
  int iterations = 20;
  uint64_t seed = 1234;
  size_t max_points_per_centroid = 256;  // subsample training data above k*this
  bool spherical = false;                // re-normalise centroids to unit length (cosine data)
};

// data: n*d floats. Returns k*d centroids. Errors: n == 0, d == 0, k == 0, non-finite input.
result<std::vector<float>> kmeans_train(const float* data, size_t n, size_t d, const kmeans_options& opt);

// Nearest centroid (squared L2) of each point: out[i] in [0, k).
void kmeans_assign(const float* centroids, size_t k, const float* data, size_t n, size_t d, uint32_t* out);

}  // namespace sf
