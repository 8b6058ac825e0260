// Regularised LDA for catalog adaptation (see embed.h for the maths and conventions).
//
// Steps: labels -> dense classes (sorted distinct labels); optional power + L2
// normalisation of a copy of the rows; class means and global mean in double; the
// within-class scatter Sw from class-centred rows in blocks of 256 (4x8 float tiles
// added to a double matrix, upper triangle, as in src/index/pca.cpp); ridge
// within_reg * trace(Sw)/d; Cholesky Sw = L L^T; B = L^{-1} M^T with M the class means
// (rows sqrt(n_c/n) (mu_c - mu)); eigen-decomposition of the classes x classes Gram
// B^T B (or of B B^T when there are more classes than dimensions); whitened directions
// v = B u / sqrt(mu); w = L^{-T} v. The whitening factor L^{-1} gives the same
// generalised eigenvectors (and the same normalisation w^T Sw w = 1) as the symmetric
// Sw^{-1/2}, at a third of the cost of one O(d^3) eigen-solve and without one at d.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "embed/embed.h"
#include "index/sym_eigen.h"

namespace sf::embed {
namespace {

constexpr size_t k_block_rows = 256;

error bad(std::string msg) { return make_error(status::invalid_argument, "lda_train: " + std::move(msg)); }

// S (d x d, double, upper triangle incl. diagonal) += X^T X for the block X (rows x dp,
// float, zero-padded to dp, a multiple of 8).
void accumulate_block(const float* X, size_t rows, size_t d, size_t dp, double* S) {
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
        double* srow = S + i * d;
        for (size_t jj = 0; jj < 8; ++jj) {
          const size_t j = j0 + jj;
          if (j >= i && j < d) srow[j] += double(acc[r][jj]);
        }
      }
    }
  }
}

// sum_k a[k] * b[k] in double with four independent accumulators.
double dot_d(const double* a, const double* b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

// In-place Cholesky of the symmetric A (d x d, lower triangle used and overwritten by L,
// row-major). False if a pivot is not above min_pivot (or not finite).
bool cholesky(std::vector<double>& A, size_t d, double min_pivot) {
  for (size_t i = 0; i < d; ++i) {
    double* li = &A[i * d];
    for (size_t j = 0; j < i; ++j) {
      const double* lj = &A[j * d];
      li[j] = (li[j] - dot_d(li, lj, j)) / lj[j];
    }
    const double s = li[i] - dot_d(li, li, i);
    if (!(s > min_pivot) || !std::isfinite(s)) return false;
    li[i] = std::sqrt(s);
  }
  return true;
}

}  // namespace

result<linear_transform> lda_train(const float* features, size_t n, size_t d, const uint32_t* labels,
                                   size_t n_labels, const lda_options& opt, lda_info* info) {
  if (info) *info = lda_info{};
  if (d == 0) return bad("dimension d == 0");
  if (n_labels != n)
    return bad(std::to_string(n) + " rows but " + std::to_string(n_labels) + " labels (one label per row)");
  if (n < 2) return bad("need at least 2 rows, got " + std::to_string(n));
  if (!features || !labels) return bad("features or labels is null");
  if (opt.out_dim == 0) return bad("out_dim == 0");
  if (!(opt.within_reg >= 0) || !std::isfinite(opt.within_reg))
    return bad("within_reg must be finite and >= 0, got " + std::to_string(opt.within_reg));
  if (opt.power_normalize && !(opt.power_alpha > 0 && opt.power_alpha <= 1))
    return bad("power_alpha must be in (0, 1], got " + std::to_string(opt.power_alpha));
  if (d > (size_t(1) << 16) || n > std::numeric_limits<size_t>::max() / d / sizeof(float))
    return make_error(status::limit_exceeded, "lda_train: n*d or d too large");

  for (size_t i = 0; i < n; ++i) {
    const float* xr = features + i * d;
    for (size_t j = 0; j < d; ++j)
      if (!std::isfinite(xr[j]))
        return bad("non-finite value at row " + std::to_string(i) + ", component " + std::to_string(j));
  }

  // Dense classes.
  std::vector<uint32_t> uniq(labels, labels + n);
  std::sort(uniq.begin(), uniq.end());
  uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
  const size_t C = uniq.size();
  if (C < 2) return bad("need at least 2 classes, got " + std::to_string(C));
  std::vector<uint32_t> cls(n);
  std::vector<size_t> count(C, 0);
  for (size_t i = 0; i < n; ++i) {
    cls[i] = uint32_t(std::lower_bound(uniq.begin(), uniq.end(), labels[i]) - uniq.begin());
    ++count[cls[i]];
  }

  // Optional power + L2 normalisation of a copy.
  std::vector<float> pre;
  const float* X = features;
  if (opt.power_normalize) {
    pre.resize(n * d);
    power_normalize(features, pre.data(), n * d, opt.power_alpha);
    l2_normalize(pre.data(), n, d);
    X = pre.data();
  }

  // Class means and global mean.
  std::vector<double> cmean(C * d, 0.0), mean(d, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const float* xr = X + i * d;
    double* m = &cmean[size_t(cls[i]) * d];
    for (size_t j = 0; j < d; ++j) m[j] += xr[j];
  }
  for (size_t c = 0; c < C; ++c) {
    double* m = &cmean[c * d];
    for (size_t j = 0; j < d; ++j) mean[j] += m[j];
    const double inv = 1.0 / double(count[c]);
    for (size_t j = 0; j < d; ++j) m[j] *= inv;
  }
  for (double& m : mean) m /= double(n);

  // Within-class scatter (upper triangle), scaled by 1/n and mirrored.
  const size_t dp = (d + 7) & ~size_t(7);
  std::vector<double> S(d * d, 0.0);
  {
    std::vector<float> block(k_block_rows * dp, 0.0f);
    for (size_t r0 = 0; r0 < n; r0 += k_block_rows) {
      const size_t rows = std::min(k_block_rows, n - r0);
      for (size_t b = 0; b < rows; ++b) {
        const float* xr = X + (r0 + b) * d;
        const double* m = &cmean[size_t(cls[r0 + b]) * d];
        float* br = &block[b * dp];
        for (size_t j = 0; j < d; ++j) br[j] = float(double(xr[j]) - m[j]);
      }
      accumulate_block(block.data(), rows, d, dp, S.data());
    }
  }
  const double inv_n = 1.0 / double(n);
  double trace = 0;
  for (size_t i = 0; i < d; ++i)
    for (size_t j = i; j < d; ++j) {
      const double v = S[i * d + j] * inv_n;
      S[i * d + j] = v;
      S[j * d + i] = v;
      if (i == j) trace += v;
    }
  const double mean_eig = trace / double(d);
  if (!std::isfinite(mean_eig)) return bad("within-class scatter overflows (values too large)");
  if (!(mean_eig > 0)) return bad("within-class scatter is zero (every class has identical rows or a single row)");
  const double ridge = opt.within_reg * mean_eig;
  for (size_t i = 0; i < d; ++i) S[i * d + i] += ridge;
  // Float-accumulated scatter: a pivot below 1e-7 of the mean eigenvalue is rank deficiency
  // (float rounding of the scatter is about that size).
  if (!cholesky(S, d, 1e-7 * mean_eig))
    return bad("within-class scatter is singular (within_reg = " + std::to_string(opt.within_reg) +
               ", " + std::to_string(n) + " rows, d = " + std::to_string(d) + "); use within_reg > 0");
  const std::vector<double>& L = S;

  // B = L^{-1} M^T (d x C): forward substitution, row-wise axpy.
  std::vector<double> B(d * C);
  for (size_t j = 0; j < d; ++j)
    for (size_t c = 0; c < C; ++c)
      B[j * C + c] = std::sqrt(double(count[c]) * inv_n) * (cmean[c * d + j] - mean[j]);
  for (size_t i = 0; i < d; ++i) {
    double* bi = &B[i * C];
    const double* li = &L[i * d];
    for (size_t k = 0; k < i; ++k) {
      const double l = li[k];
      if (l == 0) continue;
      const double* bk = &B[k * C];
      for (size_t c = 0; c < C; ++c) bi[c] -= l * bk[c];
    }
    const double inv = 1.0 / li[i];
    for (size_t c = 0; c < C; ++c) bi[c] *= inv;
  }

  // Whitened between-class scatter B B^T: eigenvectors v (d-vectors), eigenvalues mu.
  std::vector<double> values, vecs;
  const size_t cap = std::min({opt.out_dim, C - 1, d});
  std::vector<double> V;  // d x cap, column r = v_r
  size_t out = 0;
  if (C <= d) {
    std::vector<double> G(C * C, 0.0);
    for (size_t i = 0; i < d; ++i) {
      const double* bi = &B[i * C];
      for (size_t a = 0; a < C; ++a) {
        const double ba = bi[a];
        double* ga = &G[a * C];
        for (size_t b = a; b < C; ++b) ga[b] += ba * bi[b];
      }
    }
    for (size_t a = 0; a < C; ++a)
      for (size_t b = a + 1; b < C; ++b) G[b * C + a] = G[a * C + b];
    if (!sf::detail::sym_eigen(std::move(G), C, C, values, vecs)) return bad("eigen-decomposition did not converge");
    const double top = values.empty() ? 0.0 : values[0];
    while (out < cap && top > 0 && values[out] > 1e-10 * top) ++out;
    V.assign(d * out, 0.0);
    for (size_t r = 0; r < out; ++r) {
      const double* u = &vecs[r * C];
      const double s = 1.0 / std::sqrt(values[r]);
      for (size_t i = 0; i < d; ++i) V[i * out + r] = s * dot_d(&B[i * C], u, C);
    }
  } else {
    std::vector<double> H(d * d, 0.0);
    for (size_t i = 0; i < d; ++i)
      for (size_t j = i; j < d; ++j) H[i * d + j] = H[j * d + i] = dot_d(&B[i * C], &B[j * C], C);
    if (!sf::detail::sym_eigen(std::move(H), d, d, values, vecs)) return bad("eigen-decomposition did not converge");
    const double top = values.empty() ? 0.0 : values[0];
    while (out < cap && top > 0 && values[out] > 1e-10 * top) ++out;
    V.assign(d * out, 0.0);
    for (size_t r = 0; r < out; ++r)
      for (size_t i = 0; i < d; ++i) V[i * out + r] = vecs[r * d + i];
  }
  if (out == 0) return bad("between-class scatter is zero (all class means are equal)");

  // W = L^{-T} V: back substitution, column-oriented so rows of L are read contiguously.
  for (size_t k = d; k-- > 0;) {
    const double* lk = &L[k * d];
    double* wk = &V[k * out];
    const double inv = 1.0 / lk[k];
    for (size_t r = 0; r < out; ++r) wk[r] *= inv;
    for (size_t i = 0; i < k; ++i) {
      const double l = lk[i];
      if (l == 0) continue;
      double* wi = &V[i * out];
      for (size_t r = 0; r < out; ++r) wi[r] -= l * wk[r];
    }
  }

  linear_transform t;
  t.in_d = d;
  t.out_d = out;
  t.mean.resize(d);
  for (size_t j = 0; j < d; ++j) t.mean[j] = float(mean[j]);
  t.matrix.resize(out * d);
  for (size_t r = 0; r < out; ++r) {
    size_t arg = 0;
    for (size_t j = 1; j < d; ++j)
      if (std::fabs(V[j * out + r]) > std::fabs(V[arg * out + r])) arg = j;
    const double sign = V[arg * out + r] < 0 ? -1.0 : 1.0;
    float* wr = &t.matrix[r * d];
    for (size_t j = 0; j < d; ++j) wr[j] = float(sign * V[j * out + r]);
  }
  for (float w : t.matrix)
    if (!std::isfinite(w)) return bad("projection is not finite (ill-conditioned input; raise within_reg)");
  if (info) {
    info->classes = C;
    info->out_dim = out;
    info->mean_within_eigenvalue = mean_eig;
    info->eigenvalues.assign(values.begin(), values.begin() + out);
  }
  return t;
}

}  // namespace sf::embed
