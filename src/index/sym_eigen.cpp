// Dense symmetric eigen-decomposition (internal, see sym_eigen.h): Householder
// tridiagonalisation + implicit QL with shifts (tred2/tqli style). O(n^3).
#include "index/sym_eigen.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace sf::detail {
namespace {

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

bool sym_eigen(std::vector<double> A, size_t n, size_t count, std::vector<double>& values,
               std::vector<double>& vectors) {
  values.clear();
  vectors.clear();
  if (n == 0 || count > n || A.size() != n * n) return false;
  std::vector<double> diag, off, beta;
  tridiagonalize(A, n, diag, off, beta);
  std::vector<double> zt(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) zt[i * n + i] = 1.0;
  if (!tridiagonal_ql(diag, off, zt, n)) return false;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return diag[a] > diag[b]; });
  values.resize(n);
  for (size_t r = 0; r < n; ++r) values[r] = diag[order[r]];
  // The selected eigenvectors of T as columns of U (n x count), then U <- Q U.
  std::vector<double> U(n * count);
  for (size_t r = 0; r < count; ++r)
    for (size_t j = 0; j < n; ++j) U[j * count + r] = zt[order[r] * n + j];
  back_transform(A, beta, n, count, U.data());
  vectors.resize(count * n);
  for (size_t r = 0; r < count; ++r) {
    double nrm = 0;
    size_t arg = 0;
    for (size_t j = 0; j < n; ++j) {
      const double u = U[j * count + r];
      nrm += u * u;
      if (std::fabs(u) > std::fabs(U[arg * count + r])) arg = j;
    }
    double scale = nrm > 0 ? 1.0 / std::sqrt(nrm) : 1.0;
    if (U[arg * count + r] < 0) scale = -scale;
    for (size_t j = 0; j < n; ++j) vectors[r * n + j] = U[j * count + r] * scale;
  }
  return true;
}

}  // namespace sf::detail
