#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "index/pca.h"

namespace {

struct test_rng {
  uint64_t s;
  explicit test_rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
  double gauss() {
    const double u1 = uniform() + 1e-12, u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

// Random orthonormal d x d matrix (rows), Gram-Schmidt on Gaussian rows.
std::vector<double> random_rotation(size_t d, test_rng& r) {
  std::vector<double> R(d * d);
  for (auto& v : R) v = r.gauss();
  for (size_t i = 0; i < d; ++i) {
    for (int pass = 0; pass < 2; ++pass)
      for (size_t k = 0; k < i; ++k) {
        double dot = 0;
        for (size_t j = 0; j < d; ++j) dot += R[i * d + j] * R[k * d + j];
        for (size_t j = 0; j < d; ++j) R[i * d + j] -= dot * R[k * d + j];
      }
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += R[i * d + j] * R[i * d + j];
    for (size_t j = 0; j < d; ++j) R[i * d + j] /= std::sqrt(s);
  }
  return R;
}

// x = mean + sum_i sigma_i * z_i * R_i: principal axes R_i with variances sigma_i^2.
std::vector<float> make_data(size_t n, size_t d, const std::vector<double>& R, const std::vector<double>& sigma,
                             test_rng& r) {
  std::vector<float> x(n * d);
  std::vector<double> z(d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < d; ++k) z[k] = sigma[k] * r.gauss();
    for (size_t j = 0; j < d; ++j) {
      double s = 5.0 + 0.5 * double(j);
      for (size_t k = 0; k < d; ++k) s += z[k] * R[k * d + j];
      x[i * d + j] = float(s);
    }
  }
  return x;
}

// Sample covariance of y (n x m).
std::vector<double> covariance(const std::vector<float>& y, size_t n, size_t m) {
  std::vector<double> mean(m, 0.0), c(m * m, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j) mean[j] += y[i * m + j];
  for (auto& v : mean) v /= double(n);
  for (size_t i = 0; i < n; ++i)
    for (size_t a = 0; a < m; ++a)
      for (size_t b = 0; b < m; ++b) c[a * m + b] += (y[i * m + a] - mean[a]) * (y[i * m + b] - mean[b]);
  for (auto& v : c) v /= double(n - 1);
  return c;
}

}  // namespace

TEST_CASE("pca recovers principal axes and variances", "[pca]") {
  const size_t n = 20000, d = 12, out = 6;
  test_rng r(1);
  const std::vector<double> R = random_rotation(d, r);
  std::vector<double> sigma(d);
  for (size_t k = 0; k < d; ++k) sigma[k] = 6.0 - 0.45 * double(k);  // distinct, decreasing
  const std::vector<float> x = make_data(n, d, R, sigma, r);

  auto t = sf::pca_train(x.data(), n, d, out, false);
  REQUIRE(t);
  const sf::linear_transform& T = t.value();
  REQUIRE(T.in_d == d);
  REQUIRE(T.out_d == out);
  REQUIRE(T.mean.size() == d);
  REQUIRE(T.matrix.size() == out * d);

  // Orthonormal rows; each row is the true axis up to sign; sign rule holds.
  for (size_t a = 0; a < out; ++a) {
    for (size_t b = 0; b < out; ++b) {
      double dot = 0;
      for (size_t j = 0; j < d; ++j) dot += double(T.matrix[a * d + j]) * T.matrix[b * d + j];
      CHECK(std::fabs(dot - (a == b ? 1.0 : 0.0)) < 1e-5);
    }
    double align = 0;
    size_t arg = 0;
    for (size_t j = 0; j < d; ++j) {
      align += T.matrix[a * d + j] * R[a * d + j];
      if (std::fabs(T.matrix[a * d + j]) > std::fabs(T.matrix[a * d + arg])) arg = j;
    }
    CHECK(std::fabs(align) > 0.98);
    CHECK(T.matrix[a * d + arg] > 0);
  }
  for (size_t j = 0; j < d; ++j) CHECK(std::fabs(T.mean[j] - (5.0 + 0.5 * j)) < 0.2);

  // Projected variances are the eigenvalues, in decreasing order, close to sigma^2.
  std::vector<float> y(n * out);
  T.apply(x.data(), n, y.data());
  const std::vector<double> c = covariance(y, n, out);
  for (size_t a = 0; a < out; ++a) {
    CHECK(std::fabs(c[a * out + a] / (sigma[a] * sigma[a]) - 1.0) < 0.05);
    if (a > 0) CHECK(c[a * out + a] < c[(a - 1) * out + a - 1]);
    for (size_t b = 0; b < a; ++b) CHECK(std::fabs(c[a * out + b]) < 1e-3 * c[0]);
  }
}

TEST_CASE("pca whitening gives unit variance", "[pca]") {
  const size_t n = 5000, d = 16, out = 10;
  test_rng r(2);
  const std::vector<double> R = random_rotation(d, r);
  std::vector<double> sigma(d);
  for (size_t k = 0; k < d; ++k) sigma[k] = std::pow(1.2, double(d - k)) * 0.1;  // eps = 1e-6*lmax stays negligible
  const std::vector<float> x = make_data(n, d, R, sigma, r);
  auto t = sf::pca_train(x.data(), n, d, out, true);
  REQUIRE(t);
  std::vector<float> y(n * out);
  t.value().apply(x.data(), n, y.data());
  const std::vector<double> c = covariance(y, n, out);
  for (size_t a = 0; a < out; ++a)
    for (size_t b = 0; b < out; ++b) CHECK(std::fabs(c[a * out + b] - (a == b ? 1.0 : 0.0)) < 1e-3);
}

TEST_CASE("pca full decomposition of a larger matrix diagonalises the covariance", "[pca]") {
  // Clustered and repeated eigenvalues exercise the tridiagonal QL path.
  const size_t n = 3000, d = 96;
  test_rng r(3);
  const std::vector<double> R = random_rotation(d, r);
  std::vector<double> sigma(d);
  for (size_t k = 0; k < d; ++k) sigma[k] = k < 10 ? 3.0 - 0.1 * k : (k < 60 ? 1.0 : 0.3);
  const std::vector<float> x = make_data(n, d, R, sigma, r);
  auto t = sf::pca_train(x.data(), n, d, d, false);
  REQUIRE(t);
  const sf::linear_transform& T = t.value();
  std::vector<float> y(n * d);
  T.apply(x.data(), n, y.data());
  const std::vector<double> c = covariance(y, n, d);
  double worst_off = 0;
  for (size_t a = 0; a < d; ++a) {
    if (a > 0) CHECK(c[a * d + a] <= c[(a - 1) * d + a - 1] * (1 + 1e-4));
    for (size_t b = 0; b < a; ++b) worst_off = std::max(worst_off, std::fabs(c[a * d + b]));
  }
  CHECK(worst_off < 1e-3);
  double worst_orth = 0;
  for (size_t a = 0; a < d; ++a)
    for (size_t b = 0; b <= a; ++b) {
      double dot = 0;
      for (size_t j = 0; j < d; ++j) dot += double(T.matrix[a * d + j]) * T.matrix[b * d + j];
      worst_orth = std::max(worst_orth, std::fabs(dot - (a == b ? 1.0 : 0.0)));
    }
  CHECK(worst_orth < 1e-5);
}

TEST_CASE("pca is deterministic and handles degenerate data", "[pca]") {
  const size_t n = 300, d = 7;
  test_rng r(4);
  std::vector<float> x(n * d);
  for (auto& v : x) v = float(r.gauss());
  auto a = sf::pca_train(x.data(), n, d, 3, true);
  auto b = sf::pca_train(x.data(), n, d, 3, true);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a.value().matrix == b.value().matrix);
  CHECK(a.value().mean == b.value().mean);

  // Constant data: zero covariance; still a finite orthonormal transform.
  std::vector<float> cst(n * d, 2.5f);
  for (bool w : {false, true}) {
    auto c = sf::pca_train(cst.data(), n, d, d, w);
    REQUIRE(c);
    for (float v : c.value().matrix) CHECK(std::isfinite(v));
    std::vector<float> y(d);
    c.value().apply(cst.data(), 1, y.data());
    for (float v : y) CHECK(v == 0.0f);
  }
  // d == 1.
  auto one = sf::pca_train(x.data(), n * d, 1, 1, false);
  REQUIRE(one);
  CHECK(one.value().matrix[0] == 1.0f);
}

TEST_CASE("pca reports bad arguments", "[pca]") {
  std::vector<float> x(40, 1.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7);
  auto e0 = sf::pca_train(x.data(), 10, 4, 0, false);
  REQUIRE_FALSE(e0);
  CHECK(e0.err().code == sf::status::invalid_argument);
  CHECK_FALSE(sf::pca_train(x.data(), 10, 4, 5, false));
  CHECK_FALSE(sf::pca_train(x.data(), 1, 4, 2, false));
  CHECK_FALSE(sf::pca_train(x.data(), 10, 0, 1, false));
  CHECK(sf::pca_train(x.data(), 2, 4, 4, false));
  x[9] = std::numeric_limits<float>::quiet_NaN();
  auto e1 = sf::pca_train(x.data(), 10, 4, 2, false);
  REQUIRE_FALSE(e1);
  CHECK(e1.err().code == sf::status::invalid_argument);
}
