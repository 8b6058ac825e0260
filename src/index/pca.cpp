// PCA / PCA-whitening: covariance of the centred data, symmetric eigen-decomposition by
// Householder tridiagonalisation + implicit QL (tred2/tqli style, O(d^3)), rows of W
// are eigenvectors by decreasing eigenvalue with a deterministic sign (largest-magnitude
// component positive, first one on ties).
//
// Covariance: rows are centred (mean in double) and processed in blocks of 256; inside a
// block 4x8 tiles accumulate float products, each tile is then added to a double matrix.
#include "index/pca.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

#include "index/kernels.h"

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

// Householder reduction of the symmetric matrix A (d x d, full storage) to tridiagonal
// T = Q^T A Q: diag[i] = T[i][i], off[i] = T[i][i+1]. Q = H_0 H_1 ... H_{d-3}, with
// H_k = I - beta[k] v_k v_k^T acting on components k+1..d-1; v_k is left in A[k][k+1..].
void tridiagonalize(std::vector<double>& A, size_t d, std::vector<double>& diag, std::vector<double>& off,
                    std::vector<double>& beta) {
  diag.assign(d, 0.0);
  off.assign(d, 0.0);
  beta.assign(d, 0.0);
  std::vector<double> p(d), w(d);
  for (size_t k = 0; k + 1 < d; ++k) {
    const size_t m = d - k - 1;
    double* v = &A[k * d + k + 1];
    if (m == 1) {
      off[k] = v[0];
      break;
    }
    double alpha2 = 0;
    for (size_t i = 0; i < m; ++i) alpha2 += v[i] * v[i];
    if (alpha2 == 0) continue;  // already reduced in this column
    const double alpha = std::sqrt(alpha2);
    const double as = v[0] >= 0 ? -alpha : alpha;
    off[k] = as;
    v[0] -= as;
    double vn2 = 0;
    for (size_t i = 0; i < m; ++i) vn2 += v[i] * v[i];
    const double b = 2.0 / vn2;
    beta[k] = b;
    // p = b * S v (S symmetric: S v = sum_r v[r] * S[r][:]).
    std::fill(p.begin(), p.begin() + m, 0.0);
    for (size_t r = 0; r < m; ++r) {
      const double* srow = &A[(k + 1 + r) * d + k + 1];
      const double vr = v[r];
      if (vr == 0) continue;
      for (size_t c = 0; c < m; ++c) p[c] += vr * srow[c];
    }
    double pv = 0;
    for (size_t i = 0; i < m; ++i) {
      p[i] *= b;
      pv += p[i] * v[i];
    }
    const double kk = 0.5 * b * pv;
    for (size_t i = 0; i < m; ++i) w[i] = p[i] - kk * v[i];
    // S -= v w^T + w v^T
    for (size_t r = 0; r < m; ++r) {
      double* srow = &A[(k + 1 + r) * d + k + 1];
      const double vr = v[r], wr = w[r];
      for (size_t c = 0; c < m; ++c) srow[c] -= vr * w[c] + wr * v[c];
    }
  }
  for (size_t i = 0; i < d; ++i) diag[i] = A[i * d + i];
  off[d - 1] = 0;
}

// U <- Q U for the d x cols matrix U (row-major: column c is one vector), Q from
// tridiagonalize(). Written as row-wise axpy updates, which vectorise.
void back_transform(const std::vector<double>& A, const std::vector<double>& beta, size_t d, size_t cols,
                    double* U) {
  std::vector<double> t(cols);
  for (size_t k = d >= 3 ? d - 2 : 0; k-- > 0;) {
    if (beta[k] == 0) continue;
    const double* v = &A[k * d + k + 1];
    const size_t m = d - k - 1;
    std::fill(t.begin(), t.end(), 0.0);
    for (size_t i = 0; i < m; ++i) {
      const double vi = v[i];
      const double* ur = U + (k + 1 + i) * cols;
      for (size_t c = 0; c < cols; ++c) t[c] += vi * ur[c];
    }
    for (size_t c = 0; c < cols; ++c) t[c] *= beta[k];
    for (size_t i = 0; i < m; ++i) {
      const double vi = v[i];
      double* ur = U + (k + 1 + i) * cols;
      for (size_t c = 0; c < cols; ++c) ur[c] -= vi * t[c];
    }
  }
}

// Implicit QL with Wilkinson-style shifts on the tridiagonal (diag, off): eigenvalues in
// diag, eigenvectors of T as rows of zt (d x d, starts as identity). False if an
// eigenvalue needs more than 60 iterations.
bool tridiagonal_ql(std::vector<double>& diag, std::vector<double>& off, std::vector<double>& zt, size_t d) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (size_t l = 0; l < d; ++l) {
    int iter = 0;
    size_t m;
    do {
      for (m = l; m + 1 < d; ++m) {
        const double dd = std::fabs(diag[m]) + std::fabs(diag[m + 1]);
        if (std::fabs(off[m]) <= eps * dd) break;
      }
      if (m != l) {
        if (++iter > 60) return false;
        double g = (diag[l + 1] - diag[l]) / (2.0 * off[l]);
        double r = std::hypot(g, 1.0);
        g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? std::fabs(r) : -std::fabs(r)));
        double s = 1.0, c = 1.0, p = 0.0;
        bool underflow = false;
        for (size_t i = m; i-- > l;) {
          double f = s * off[i];
          const double b = c * off[i];
          r = std::hypot(f, g);
          off[i + 1] = r;
          if (r == 0.0) {
            diag[i + 1] -= p;
            off[m] = 0.0;
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = diag[i + 1] - p;
          r = (diag[i] - g) * s + 2.0 * c * b;
          p = s * r;
          diag[i + 1] = g + p;
          g = c * r - b;
          double* z0 = &zt[i * d];
          double* z1 = &zt[(i + 1) * d];
          for (size_t k = 0; k < d; ++k) {
            f = z1[k];
            z1[k] = s * z0[k] + c * f;
            z0[k] = c * z0[k] - s * f;
          }
        }
        if (underflow) continue;
        diag[l] -= p;
        off[l] = g;
        off[m] = 0.0;
      }
    } while (m != l);
  }
  return true;
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

  std::vector<double> diag, off, beta;
  tridiagonalize(A, d, diag, off, beta);
  std::vector<double> zt(d * d, 0.0);
  for (size_t i = 0; i < d; ++i) zt[i * d + i] = 1.0;
  if (!tridiagonal_ql(diag, off, zt, d))
    return make_error(status::invalid_argument, "pca_train: eigen-decomposition did not converge");

  std::vector<size_t> order(d);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return diag[a] > diag[b]; });
  const double lmax = std::max(0.0, diag[order[0]]);

  linear_transform t;
  t.in_d = d;
  t.out_d = out_d;
  t.mean.resize(d);
  for (size_t j = 0; j < d; ++j) t.mean[j] = float(mean[j]);
  t.matrix.resize(out_d * d);
  // Selected eigenvectors of T as columns of U (d x out_d), then U <- Q U.
  std::vector<double> U(d * out_d);
  for (size_t r = 0; r < out_d; ++r)
    for (size_t j = 0; j < d; ++j) U[j * out_d + r] = zt[order[r] * d + j];
  back_transform(A, beta, d, out_d, U.data());
  for (size_t r = 0; r < out_d; ++r) {
    double nrm = 0;
    size_t arg = 0;
    for (size_t j = 0; j < d; ++j) {
      const double u = U[j * out_d + r];
      nrm += u * u;
      if (std::fabs(u) > std::fabs(U[arg * out_d + r])) arg = j;
    }
    double scale = nrm > 0 ? 1.0 / std::sqrt(nrm) : 1.0;
    if (U[arg * out_d + r] < 0) scale = -scale;
    if (whiten) {
      const double lambda = std::max(0.0, diag[order[r]]);
      const double den = std::sqrt(lambda + 1e-6 * lmax);
      if (den > 0) scale /= den;
    }
    float* wr = &t.matrix[r * d];
    for (size_t j = 0; j < d; ++j) wr[j] = float(U[j * out_d + r] * scale);
  }
  return t;
}

}  // namespace sf
