#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "index/kernels.h"
#include "index/pq.h"

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
  float gauss() {
    const double u1 = uniform() + 1e-12, u2 = uniform();
    return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
};

// Correlated data: a few latent factors mixed into d dims plus noise.
std::vector<float> make_data(size_t n, size_t d, uint64_t seed) {
  test_rng r(seed);
  const size_t f = 4;
  std::vector<float> mix(f * d);
  for (auto& v : mix) v = r.gauss();
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    float z[f];
    for (auto& v : z) v = r.gauss();
    for (size_t j = 0; j < d; ++j) {
      float s = 0.1f * r.gauss();
      for (size_t k = 0; k < f; ++k) s += z[k] * mix[k * d + j];
      x[i * d + j] = s;
    }
  }
  return x;
}

double mse(const sf::pq_codec& pq, const std::vector<float>& x, size_t n) {
  std::vector<uint8_t> codes(n * pq.m);
  pq.encode(x.data(), n, codes.data());
  std::vector<float> y(n * pq.d);
  pq.decode(codes.data(), n, y.data());
  double e = 0;
  for (size_t i = 0; i < n * pq.d; ++i) e += double(x[i] - y[i]) * (x[i] - y[i]);
  return e / double(n);
}

}  // namespace

TEST_CASE("pq training beats a random codebook", "[pq]") {
  const size_t n = 2000, d = 32, m = 8;
  const std::vector<float> x = make_data(n, d, 1);
  auto r = sf::pq_train(x.data(), n, d, m, 42, 8);
  REQUIRE(r);
  const sf::pq_codec& pq = r.value();
  REQUIRE(pq.d == d);
  REQUIRE(pq.m == m);
  REQUIRE(pq.dsub == d / m);
  REQUIRE(pq.codebooks.size() == m * 256 * (d / m));

  // Random codebook with the data's scale: Gaussian entries.
  sf::pq_codec rnd = pq;
  test_rng g(5);
  for (auto& v : rnd.codebooks) v = 2.0f * g.gauss();
  // A codebook of data points (k-means++ seeds without Lloyd iterations).
  auto seeded = sf::pq_train(x.data(), n, d, m, 42, 0);
  REQUIRE(seeded);

  const double e_trained = mse(pq, x, n), e_random = mse(rnd, x, n), e_seeded = mse(seeded.value(), x, n);
  double energy = 0;
  for (float v : x) energy += double(v) * v;
  energy /= double(n);
  INFO("trained " << e_trained << " seeded " << e_seeded << " random " << e_random << " energy " << energy);
  CHECK(e_trained < 0.5 * e_random);
  CHECK(e_trained < e_seeded);
  CHECK(e_trained < 0.1 * energy);

  // Determinism.
  auto r2 = sf::pq_train(x.data(), n, d, m, 42, 8);
  REQUIRE(r2);
  CHECK(r2.value().codebooks == pq.codebooks);
}

TEST_CASE("pq lookup tables score <q, decode(code)>", "[pq]") {
  const size_t n = 1000, d = 24, m = 6;
  const std::vector<float> x = make_data(n, d, 2);
  auto r = sf::pq_train(x.data(), n, d, m, 7, 5);
  REQUIRE(r);
  const sf::pq_codec& pq = r.value();
  std::vector<uint8_t> codes(n * m);
  pq.encode(x.data(), n, codes.data());
  std::vector<float> y(n * d);
  pq.decode(codes.data(), n, y.data());

  test_rng g(9);
  std::vector<float> q(d);
  for (auto& v : q) v = g.gauss();
  std::vector<float> lut(m * 256);
  pq.inner_product_table(q.data(), lut.data());
  std::vector<float> scores(n);
  sf::kernels::active().pq_scan(lut.data(), m, codes.data(), n, scores.data());
  for (size_t i = 0; i < n; ++i) {
    double exact = 0, mag = 0;
    for (size_t j = 0; j < d; ++j) {
      exact += double(q[j]) * y[i * d + j];
      mag += std::fabs(double(q[j]) * y[i * d + j]);
    }
    REQUIRE(std::fabs(scores[i] - exact) <= 1e-5 * (1.0 + mag));
  }
  // encode picks the nearest sub-centroid: re-encoding decoded vectors is stable.
  std::vector<uint8_t> codes2(n * m);
  pq.encode(y.data(), n, codes2.data());
  CHECK(codes2 == codes);
}

TEST_CASE("pq with fewer points than centroids still has 256 per sub-space", "[pq]") {
  const size_t n = 40, d = 8, m = 2;
  const std::vector<float> x = make_data(n, d, 3);
  auto r = sf::pq_train(x.data(), n, d, m, 1);
  REQUIRE(r);
  REQUIRE(r.value().codebooks.size() == m * 256 * 4);
  // Every training point is reproduced exactly.
  CHECK(mse(r.value(), x, n) < 1e-10);
}

TEST_CASE("pq reports bad arguments", "[pq]") {
  std::vector<float> x(64 * 12, 0.5f);
  auto e1 = sf::pq_train(x.data(), 64, 12, 5, 1);  // 12 % 5 != 0
  REQUIRE_FALSE(e1);
  CHECK(e1.err().code == sf::status::invalid_argument);
  CHECK_FALSE(sf::pq_train(x.data(), 64, 12, 0, 1));
  CHECK_FALSE(sf::pq_train(x.data(), 64, 12, 24, 1));
  CHECK_FALSE(sf::pq_train(x.data(), 0, 12, 4, 1));
  CHECK_FALSE(sf::pq_train(x.data(), 64, 0, 4, 1));
  x[100] = std::numeric_limits<float>::infinity();
  auto e2 = sf::pq_train(x.data(), 64, 12, 4, 1);
  REQUIRE_FALSE(e2);
  CHECK(e2.err().code == sf::status::invalid_argument);
  auto ok = sf::pq_train(x.data(), 64, 12, 12, 1);  // m == d
  CHECK_FALSE(ok);                                   // still the non-finite value
  x[100] = 0.5f;
  CHECK(sf::pq_train(x.data(), 64, 12, 12, 1));
}
