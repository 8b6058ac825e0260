// Linear transform learned at build time and applied to queries (`pcaN` / `pcawN`
// at the start of a quantizer string): y = W (x - mean), W is out_d x in_d.
//
//   auto t = sf::pca_train(data, n, d, 128, /*whiten=*/false);
//   std::vector<float> y(128); t.value().apply(x, 1, y.data());
//
// Rows of W are the principal axes by decreasing variance (whitened: divided by
// sqrt(eigenvalue + eps)). Eigen-decomposition of the d x d covariance with
// cyclic Jacobi or an equivalent deterministic method; d up to 2048.
#pragma once

#include <cstddef>
#include <vector>

#include "common/result.h"

namespace sf {

struct linear_transform {
  size_t in_d = 0, out_d = 0;
  std::vector<float> mean;    // in_d
  std::vector<float> matrix;  // out_d * in_d, row-major
  // out: n * out_d
  void apply(const float* x, size_t n, float* out) const;
};

// Errors: out_d == 0 or > d, n < 2, non-finite input.
result<linear_transform> pca_train(const float* data, size_t n, size_t d, size_t out_d, bool whiten);

}  // namespace sf
