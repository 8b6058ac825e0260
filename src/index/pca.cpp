// PCA / PCA-whitening: covariance of the centred data, symmetric eigen-decomposition
// (index/sym_eigen.h, O(d^3)); rows of W are eigenvectors by decreasing eigenvalue with a
// deterministic sign (largest-magnitude component positive, first one on ties).
//
// Covariance: rows are centred (mean in double) and processed in blocks of 256; inside a
// block 4x8 tiles accumulate float products, each tile is then added to a double matrix.
#include "index/pca.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "index/kernels.h"
#include "index/sym_eigen.h"

namespace sf {
namespace {

constexpr size_t k_block_rows = 256;

// cov (d x d, double, upper triangle incl. diagonal) += X^T X for the block X (rows x dp,
// float, zero-padded to dp, a multiple of 8).
void accumulate_block(const float* X, size_t rows, size_t d, size_t dp, double* cov) {
  for (size_t i0 = 0; i0 < d; i0 += 4) {
    for (size_t j0 = i0 & ~size_t(7); j0 < d; j0 += 8) {
      float acc[4][8] = {};
      for (size_t b = 0; b < rows; ++b) {
        const float* xr = X + b * dp;
        const float a0 = xr[i0], a1 = xr[i0 + 1], a2 = xr[i0 + 2], a3 = xr[i0 + 3];
        const float* xj = xr + j0;
        for (size_t jj = 0; jj < 8; ++jj) {
          acc[0][jj] += a0 * xj[jj];
          acc[1][jj] += a1 * xj[jj];
          acc[2][jj] += a2 * xj[jj];
          acc[3][jj] += a3 * xj[jj];
        }
      }
      for (size_t r = 0; r < 4 && i0 + r < d; ++r) {
        const size_t i = i0 + r;
        double* crow = cov + i * d;
        for (size_t jj = 0; jj < 8; ++jj) {
          const size_t j = j0 + jj;
          if (j >= i && j < d) crow[j] += double(acc[r][jj]);
        }
      }
    }
  }
}

}  // namespace

void linear_transform::apply(const float* x, size_t n, float* out) const {
  if (in_d == 0 || out_d == 0) return;
  const kernels::table& kt = kernels::active();
  std::vector<float> t(in_d);
  for (size_t i = 0; i < n; ++i) {
    const float* xr = x + i * in_d;
    for (size_t j = 0; j < in_d; ++j) t[j] = xr[j] - mean[j];
    kt.dot_f32_batch(t.data(), matrix.data(), in_d, out_d, out + i * out_d);
  }
}

result<linear_transform> pca_train(const float* data, size_t n, size_t d, size_t out_d, bool whiten) {
  if (d == 0) return make_error(status::invalid_argument, "pca_train: dimension d == 0");
  if (out_d == 0 || out_d > d)
    return make_error(status::invalid_argument, "pca_train: output dimension " + std::to_string(out_d) +
                                                    " must be in [1, d = " + std::to_string(d) + "]");
  if (n < 2) return make_error(status::invalid_argument, "pca_train: need at least 2 points, got " + std::to_string(n));
  if (!data) return make_error(status::invalid_argument, "pca_train: data is null");
  if (n > std::numeric_limits<size_t>::max() / d || d > (size_t(1) << 16))
    return make_error(status::limit_exceeded, "pca_train: n*d or d too large");

  // Mean (double), non-finite check.
  std::vector<double> mean(d, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const float* xr = data + i * d;
    for (size_t j = 0; j < d; ++j) {
      if (!std::isfinite(xr[j]))
        return make_error(status::invalid_argument, "pca_train: non-finite value at point " + std::to_string(i) +
                                                        ", component " + std::to_string(j));
      mean[j] += xr[j];
    }
  }
  for (double& m : mean) m /= double(n);

  // Covariance (upper triangle), then mirrored.
  const size_t dp = (d + 7) & ~size_t(7);
  std::vector<double> A(d * d, 0.0);
  std::vector<float> block(k_block_rows * dp, 0.0f);
  for (size_t r0 = 0; r0 < n; r0 += k_block_rows) {
    const size_t rows = std::min(k_block_rows, n - r0);
    for (size_t b = 0; b < rows; ++b) {
      const float* xr = data + (r0 + b) * d;
      float* br = &block[b * dp];
      for (size_t j = 0; j < d; ++j) br[j] = float(double(xr[j]) - mean[j]);
    }
    accumulate_block(block.data(), rows, d, dp, A.data());
  }
  const double inv = 1.0 / double(n - 1);
  for (size_t i = 0; i < d; ++i)
    for (size_t j = i; j < d; ++j) {
      const double v = A[i * d + j] * inv;
      if (!std::isfinite(v)) return make_error(status::invalid_argument, "pca_train: covariance overflows (values too large)");
      A[i * d + j] = v;
      A[j * d + i] = v;
    }

  std::vector<double> values, vectors;  // all eigenvalues; the top out_d eigenvectors (rows)
  if (!detail::sym_eigen(std::move(A), d, out_d, values, vectors))
    return make_error(status::invalid_argument, "pca_train: eigen-decomposition did not converge");
  const double lmax = std::max(0.0, values[0]);

  linear_transform t;
  t.in_d = d;
  t.out_d = out_d;
  t.mean.resize(d);
  for (size_t j = 0; j < d; ++j) t.mean[j] = float(mean[j]);
  t.matrix.resize(out_d * d);
  for (size_t r = 0; r < out_d; ++r) {
    double scale = 1.0;
    if (whiten) {
      const double den = std::sqrt(std::max(0.0, values[r]) + 1e-6 * lmax);
      if (den > 0) scale = 1.0 / den;
    }
    float* wr = &t.matrix[r * d];
    for (size_t j = 0; j < d; ++j) wr[j] = float(vectors[r * d + j] * scale);
  }
  return t;
}

}  // namespace sf
