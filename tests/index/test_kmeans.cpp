#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "index/kmeans.h"

namespace {

// Small deterministic generator for test data (independent of the library's PRNG).
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
  float gauss() {
    const double u1 = uniform() + 1e-12, u2 = uniform();
    return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
};

// n points around `c` well-separated centres; truth[i] = centre of point i.
std::vector<float> make_blobs(size_t n, size_t d, size_t c, uint64_t seed, std::vector<uint32_t>& truth,
                              float spread = 0.05f) {
  test_rng r(seed);
  std::vector<float> centres(c * d);
  for (auto& v : centres) v = float(r.uniform() * 20.0 - 10.0);
  std::vector<float> x(n * d);
  truth.resize(n);
  for (size_t i = 0; i < n; ++i) {
    truth[i] = uint32_t(i % c);
    for (size_t j = 0; j < d; ++j) x[i * d + j] = centres[truth[i] * d + j] + spread * r.gauss();
  }
  return x;
}

// Fraction of points whose cluster's majority truth label equals their truth label.
double purity(const std::vector<uint32_t>& assign, const std::vector<uint32_t>& truth, size_t k) {
  std::vector<std::map<uint32_t, size_t>> votes(k);
  for (size_t i = 0; i < assign.size(); ++i) ++votes[assign[i]][truth[i]];
  size_t good = 0;
  for (const auto& v : votes) {
    size_t best = 0;
    for (const auto& kv : v) best = std::max(best, kv.second);
    good += best;
  }
  return double(good) / double(assign.size());
}

}  // namespace

TEST_CASE("kmeans recovers well-separated clusters", "[kmeans]") {
  const size_t n = 4000, d = 16, c = 10;
  std::vector<uint32_t> truth;
  const std::vector<float> x = make_blobs(n, d, c, 11, truth);
  sf::kmeans_options opt;
  opt.k = c;
  opt.iterations = 20;
  opt.seed = 3;
  auto r = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(r);
  REQUIRE(r.value().size() == c * d);
  std::vector<uint32_t> a(n);
  sf::kmeans_assign(r.value().data(), c, x.data(), n, d, a.data());
  for (uint32_t v : a) REQUIRE(v < c);
  CHECK(purity(a, truth, c) > 0.99);
  // Every cluster is used (a centre per blob).
  std::vector<size_t> counts(c);
  for (uint32_t v : a) ++counts[v];
  for (size_t v : counts) CHECK(v > 0);
}

TEST_CASE("kmeans subsamples and still clusters", "[kmeans]") {
  const size_t n = 6000, d = 8, c = 12;
  std::vector<uint32_t> truth;
  const std::vector<float> x = make_blobs(n, d, c, 5, truth);
  sf::kmeans_options opt;
  opt.k = c;
  opt.max_points_per_centroid = 40;  // trains on 480 points
  opt.seed = 9;
  auto r = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(r);
  std::vector<uint32_t> a(n);
  sf::kmeans_assign(r.value().data(), c, x.data(), n, d, a.data());
  CHECK(purity(a, truth, c) > 0.99);
}

TEST_CASE("kmeans is deterministic for a seed", "[kmeans]") {
  const size_t n = 3000, d = 12;
  std::vector<uint32_t> truth;
  const std::vector<float> x = make_blobs(n, d, 7, 21, truth, 3.0f);  // overlapping blobs
  sf::kmeans_options opt;
  opt.k = 32;
  opt.iterations = 8;
  opt.seed = 77;
  opt.max_points_per_centroid = 64;
  auto a = sf::kmeans_train(x.data(), n, d, opt);
  auto b = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a.value() == b.value());  // bit-identical
  opt.seed = 78;
  auto c = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(c);
  CHECK(c.value() != a.value());
}

TEST_CASE("kmeans spherical centroids have unit norm", "[kmeans]") {
  const size_t n = 2000, d = 10;
  std::vector<uint32_t> truth;
  std::vector<float> x = make_blobs(n, d, 5, 8, truth, 0.5f);
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += double(x[i * d + j]) * x[i * d + j];
    for (size_t j = 0; j < d; ++j) x[i * d + j] = float(x[i * d + j] / std::sqrt(s));
  }
  sf::kmeans_options opt;
  opt.k = 16;
  opt.spherical = true;
  auto r = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(r);
  for (size_t c = 0; c < opt.k; ++c) {
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += double(r.value()[c * d + j]) * r.value()[c * d + j];
    CHECK(std::fabs(s - 1.0) < 1e-4);
  }
}

TEST_CASE("kmeans handles empty clusters by splitting", "[kmeans]") {
  // 3 distinct locations (many duplicates), k = 8: most seeds coincide and clusters
  // go empty; every centroid must stay finite and the k centroids must not collapse
  // to fewer than 3 distinct locations.
  const size_t n = 300, d = 4, k = 8;
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) x[i * d + j] = float((i % 3) * 10 + (j == 0 ? 1 : 0));
  sf::kmeans_options opt;
  opt.k = k;
  opt.iterations = 10;
  auto r = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(r);
  for (float v : r.value()) REQUIRE(std::isfinite(v));
  std::vector<uint32_t> a(n);
  sf::kmeans_assign(r.value().data(), k, x.data(), n, d, a.data());
  // Points at the same location share a centroid; points at different locations do not.
  for (size_t i = 3; i < n; ++i) CHECK(a[i] == a[i % 3]);
  CHECK(a[0] != a[1]);
  CHECK(a[1] != a[2]);
  CHECK(a[0] != a[2]);
  // Each assigned centroid sits on its location.
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < d; ++j) CHECK(std::fabs(r.value()[a[i] * d + j] - x[i * d + j]) < 0.1f);
}

TEST_CASE("kmeans with fewer points than k repeats points", "[kmeans]") {
  const size_t n = 5, d = 3, k = 12;
  std::vector<float> x(n * d);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) * 0.5f - 2.0f;
  sf::kmeans_options opt;
  opt.k = k;
  auto r = sf::kmeans_train(x.data(), n, d, opt);
  REQUIRE(r);
  REQUIRE(r.value().size() == k * d);
  for (size_t c = 0; c < k; ++c)
    for (size_t j = 0; j < d; ++j) CHECK(r.value()[c * d + j] == x[(c % n) * d + j]);
  std::vector<uint32_t> a(n);
  sf::kmeans_assign(r.value().data(), k, x.data(), n, d, a.data());
  for (size_t i = 0; i < n; ++i) CHECK(a[i] == i);
}

TEST_CASE("kmeans reports bad arguments", "[kmeans]") {
  std::vector<float> x(40, 1.0f);
  sf::kmeans_options opt;
  opt.k = 2;
  auto e0 = sf::kmeans_train(x.data(), 0, 4, opt);
  REQUIRE_FALSE(e0);
  CHECK(e0.err().code == sf::status::invalid_argument);
  auto e1 = sf::kmeans_train(x.data(), 10, 0, opt);
  REQUIRE_FALSE(e1);
  CHECK(e1.err().code == sf::status::invalid_argument);
  opt.k = 0;
  auto e2 = sf::kmeans_train(x.data(), 10, 4, opt);
  REQUIRE_FALSE(e2);
  CHECK(e2.err().code == sf::status::invalid_argument);
  opt.k = 2;
  x[17] = std::numeric_limits<float>::quiet_NaN();
  auto e3 = sf::kmeans_train(x.data(), 10, 4, opt);
  REQUIRE_FALSE(e3);
  CHECK(e3.err().code == sf::status::invalid_argument);
  CHECK(e3.err().message.find("point 4") != std::string::npos);
  x[17] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(sf::kmeans_train(x.data(), 10, 4, opt));
}
