#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "index/kernels.h"
#include "index/sq8.h"

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
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(double(next() >> 11) * (1.0 / 9007199254740992.0)); }
};

std::vector<float> make_data(size_t n, size_t d, uint64_t seed) {
  test_rng r(seed);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) x[i * d + j] = r.uniform(-1.0f, 1.0f) * float(1 + j % 5) + float(j) * 0.1f;
  return x;
}

}  // namespace

TEST_CASE("sq8 round trip error is at most half a step", "[sq8]") {
  const size_t n = 500, d = 37;
  const std::vector<float> x = make_data(n, d, 1);
  const sf::sq8_codec c = sf::sq8_train(x.data(), n, d);
  REQUIRE(c.d == d);
  REQUIRE(c.vmin.size() == d);
  REQUIRE(c.step.size() == d);
  for (size_t j = 0; j < d; ++j) REQUIRE(c.step[j] > 0);
  std::vector<uint8_t> codes(n * d);
  c.encode(x.data(), n, codes.data());
  std::vector<float> y(n * d);
  c.decode(codes.data(), n, y.data());
  bool saw0 = false, saw255 = false;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) {
      const float err = std::fabs(x[i * d + j] - y[i * d + j]);
      REQUIRE(err <= c.step[j] * 0.5f + 1e-5f * (1.0f + std::fabs(x[i * d + j])));
      saw0 |= codes[i * d + j] == 0;
      saw255 |= codes[i * d + j] == 255;
    }
  CHECK(saw0);
  CHECK(saw255);
}

TEST_CASE("sq8 clamps out-of-range values and handles constant dimensions", "[sq8]") {
  const size_t n = 4, d = 2;
  const std::vector<float> x = {3.0f, 0.0f, 3.0f, 1.0f, 3.0f, 2.0f, 3.0f, 0.5f};  // dim 0 constant
  const sf::sq8_codec c = sf::sq8_train(x.data(), n, d);
  REQUIRE(c.step[0] > 0);
  std::vector<uint8_t> codes(n * d);
  c.encode(x.data(), n, codes.data());
  std::vector<float> y(n * d);
  c.decode(codes.data(), n, y.data());
  for (size_t i = 0; i < n; ++i) CHECK(y[i * d] == 3.0f);
  const float outside[2] = {-100.0f, 100.0f};
  uint8_t oc[2];
  c.encode(outside, 1, oc);
  CHECK(oc[0] == 0);
  CHECK(oc[1] == 255);
  const float nan_in[2] = {std::nanf(""), -INFINITY};
  c.encode(nan_in, 1, oc);
  CHECK(oc[0] == 0);
  CHECK(oc[1] == 0);
}

TEST_CASE("sq8 prepared query matches the decoded inner product", "[sq8]") {
  const size_t n = 200, d = 48;
  const std::vector<float> x = make_data(n, d, 2);
  const sf::sq8_codec c = sf::sq8_train(x.data(), n, d);
  std::vector<uint8_t> codes(n * d);
  c.encode(x.data(), n, codes.data());
  std::vector<float> y(n * d);
  c.decode(codes.data(), n, y.data());

  test_rng r(3);
  std::vector<float> q(d);
  for (auto& v : q) v = r.uniform(-2.0f, 2.0f);
  const sf::sq8_query pq = c.prepare_query(q.data());
  REQUIRE(pq.scaled.size() == d);
  REQUIRE(pq.q8.size() == d);
  REQUIRE(pq.q8_scale > 0);

  const sf::kernels::table& kt = sf::kernels::active();
  std::vector<float> fast(n);
  kt.dot_u8_batch(pq.scaled.data(), codes.data(), d, n, fast.data());
  std::vector<int32_t> ifast(n);
  kt.dot_i8u8_batch(pq.q8.data(), codes.data(), d, n, ifast.data());
  for (size_t i = 0; i < n; ++i) {
    double exact = 0, mag = 0;
    for (size_t j = 0; j < d; ++j) {
      exact += double(q[j]) * y[i * d + j];
      mag += std::fabs(double(q[j]) * y[i * d + j]);
    }
    CHECK(std::fabs(pq.bias + fast[i] - exact) <= 1e-4 * (1.0 + mag));
    // int8 query: error per dimension at most q8_scale/2 * 255.
    const double approx = pq.bias + double(pq.q8_scale) * ifast[i];
    CHECK(std::fabs(approx - exact) <= 0.5 * pq.q8_scale * 255.0 * d + 1e-4 * (1.0 + mag));
  }
  int maxq = 0;
  for (size_t j = 0; j < d; ++j) {
    CHECK(std::fabs(pq.q8[j] * pq.q8_scale - pq.scaled[j]) <= 0.5f * pq.q8_scale * 1.001f);
    maxq = std::max(maxq, std::abs(int(pq.q8[j])));
  }
  CHECK(maxq == 127);
}

TEST_CASE("sq8 all-zero query and empty training set", "[sq8]") {
  const size_t d = 5;
  const sf::sq8_codec c = sf::sq8_train(nullptr, 0, d);
  REQUIRE(c.step.size() == d);
  for (float s : c.step) CHECK(s > 0);
  const std::vector<float> q(d, 0.0f);
  const sf::sq8_query pq = c.prepare_query(q.data());
  CHECK(pq.bias == 0.0f);
  CHECK(pq.q8_scale == 0.0f);
  for (int8_t v : pq.q8) CHECK(v == 0);
  for (float v : pq.scaled) CHECK(v == 0.0f);
}
