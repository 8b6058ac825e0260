// Embedding post-processing and held-out retrieval evaluation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "embed/embed.h"

using sf::embed::evaluate_retrieval;

TEST_CASE("power_normalize: signed power, in place and out of place", "[embed]") {
  std::vector<float> x = {4.f, -9.f, 0.f, 0.25f, -0.0f, 1e-30f};
  std::vector<float> y(x.size());
  sf::embed::power_normalize(x.data(), y.data(), x.size());
  CHECK(y[0] == Approx(2.0f));
  CHECK(y[1] == Approx(-3.0f));
  CHECK(y[2] == 0.0f);
  CHECK(y[3] == Approx(0.5f));
  CHECK(y[4] == 0.0f);
  CHECK(y[5] == Approx(1e-15f));
  CHECK(x[0] == 4.f);  // input untouched
  sf::embed::power_normalize(x.data(), x.size());
  CHECK(x == y);

  std::vector<float> z = {16.f, -16.f, 2.f};
  sf::embed::power_normalize(z.data(), z.size(), 0.25f);
  CHECK(z[0] == Approx(2.0f));
  CHECK(z[1] == Approx(-2.0f));
  CHECK(z[2] == Approx(std::pow(2.0f, 0.25f)));
  std::vector<float> w = {-3.5f, 7.f};
  sf::embed::power_normalize(w.data(), w.size(), 1.0f);
  CHECK(w == std::vector<float>{-3.5f, 7.f});
  // Long length with a remainder (vectorised loop + tail).
  std::vector<float> big(1031);
  for (size_t i = 0; i < big.size(); ++i) big[i] = float(i % 7) - 3.f;
  sf::embed::power_normalize(big.data(), big.size());
  for (size_t i = 0; i < big.size(); ++i) {
    const float v = float(i % 7) - 3.f;
    CHECK(big[i] == Approx(std::copysign(std::sqrt(std::fabs(v)), v)));
  }
  float nan = std::numeric_limits<float>::quiet_NaN();
  sf::embed::power_normalize(&nan, 1);
  CHECK(std::isnan(nan));
}

TEST_CASE("l2_normalize: unit rows, zero rows unchanged", "[embed]") {
  std::vector<float> x = {3.f, 4.f, 0.f, 0.f, 0.f, 0.f, 1.f, 1.f, 1.f};
  std::vector<float> y(9);
  sf::embed::l2_normalize(x.data(), y.data(), 3, 3);
  CHECK(y[0] == Approx(0.6f));
  CHECK(y[1] == Approx(0.8f));
  CHECK(y[2] == 0.f);
  CHECK(y[3] == 0.f);
  CHECK(y[4] == 0.f);
  CHECK(y[5] == 0.f);
  for (int j = 6; j < 9; ++j) CHECK(y[j] == Approx(1.0 / std::sqrt(3.0)));
  CHECK(x[0] == 3.f);
  sf::embed::l2_normalize(x.data(), 3, 3);
  CHECK(x == y);
  // d with a SIMD remainder
  const size_t d = 37;
  std::vector<float> r(2 * d);
  for (size_t i = 0; i < r.size(); ++i) r[i] = float(i) * 0.1f - 2.f;
  sf::embed::l2_normalize(r.data(), 2, d);
  for (size_t row = 0; row < 2; ++row) {
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += double(r[row * d + j]) * r[row * d + j];
    CHECK(s == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("average and mean_rows, aliasing allowed where documented", "[embed]") {
  std::vector<float> a = {1.f, 2.f, 3.f}, b = {3.f, 2.f, -3.f}, out(3);
  sf::embed::average(a.data(), b.data(), out.data(), 3);
  CHECK(out == std::vector<float>{2.f, 2.f, 0.f});
  sf::embed::average(a.data(), b.data(), a.data(), 3);
  CHECK(a == out);

  std::vector<float> rows = {1.f, 2.f, 3.f, 5.f, 6.f, 7.f, 9.f, 10.f, 11.f};
  std::vector<float> m(3);
  sf::embed::mean_rows(rows.data(), 3, 3, m.data());
  CHECK(m == std::vector<float>{5.f, 6.f, 7.f});
  sf::embed::mean_rows(rows.data(), 2, 3, rows.data());  // into row 0
  CHECK(rows[0] == 3.f);
  CHECK(rows[1] == 4.f);
  CHECK(rows[2] == 5.f);
  std::vector<float> one = {7.f, 8.f}, o1(2, -1.f);
  sf::embed::mean_rows(one.data(), 1, 2, o1.data());
  CHECK(o1 == one);
  sf::embed::mean_rows(one.data(), 0, 2, o1.data());  // m == 0: unchanged
  CHECK(o1 == one);
}

TEST_CASE("evaluate_retrieval: best gallery row per class, recall@1/@5/@k", "[embed]") {
  // 2-d gallery: class 10 at angle 0, class 20 at 90 deg, class 30 at 180 deg (two rows).
  const std::vector<float> gallery = {1, 0, 0, 1, -1, 0, -1, 0.1f};
  const std::vector<uint32_t> glab = {10, 20, 30, 30};
  const std::vector<float> queries = {2, 0.1f, 0.1f, 3, -1, 0.05f, 1, 0.2f, 5, 5};
  const std::vector<uint32_t> qlab = {10, 20, 30, 20, 99};
  auto r = evaluate_retrieval(queries.data(), qlab.data(), 5, gallery.data(), glab.data(), 4, 2, 2);
  REQUIRE(r.ok());
  const auto& m = r.value();
  CHECK(m.queries == 5);
  CHECK(m.queries_without_class == 1);
  CHECK(m.gallery_classes == 3);
  CHECK(m.recall_at_1 == Approx(3.0 / 5));  // query 3 (class 20 near angle 0) ranks second
  CHECK(m.recall_at_k == Approx(4.0 / 5));  // k = 2
  CHECK(m.recall_at_5 == Approx(4.0 / 5));  // class 99 is never found
  CHECK(m.k == 2);

  // Ties: equal scores rank the smaller label first.
  const std::vector<float> g2 = {1, 0, 1, 0};
  const std::vector<uint32_t> l2a = {1, 2};
  const std::vector<float> q2 = {1, 0};
  const uint32_t ql1 = 1, ql2 = 2;
  auto t1 = evaluate_retrieval(q2.data(), &ql1, 1, g2.data(), l2a.data(), 2, 2, 1);
  auto t2 = evaluate_retrieval(q2.data(), &ql2, 1, g2.data(), l2a.data(), 2, 2, 1);
  REQUIRE(t1.ok());
  REQUIRE(t2.ok());
  CHECK(t1.value().recall_at_1 == 1.0);
  CHECK(t2.value().recall_at_1 == 0.0);

  // No queries: zeros, not an error.
  auto e0 = evaluate_retrieval(nullptr, nullptr, 0, g2.data(), l2a.data(), 2, 2, 5);
  REQUIRE(e0.ok());
  CHECK(e0.value().recall_at_1 == 0.0);
}

TEST_CASE("evaluate_retrieval: errors", "[embed]") {
  const std::vector<float> g = {1, 0, 0, 1};
  const std::vector<uint32_t> gl = {1, 2};
  const std::vector<float> q = {1, 0};
  const uint32_t ql = 1;
  CHECK(evaluate_retrieval(q.data(), &ql, 1, g.data(), gl.data(), 2, 0, 5).err().code == sf::status::invalid_argument);
  CHECK(evaluate_retrieval(q.data(), &ql, 1, g.data(), gl.data(), 2, 2, 0).err().code == sf::status::invalid_argument);
  CHECK(evaluate_retrieval(q.data(), &ql, 1, g.data(), gl.data(), 0, 2, 5).err().code == sf::status::invalid_argument);
  CHECK(evaluate_retrieval(nullptr, &ql, 1, g.data(), gl.data(), 2, 2, 5).err().code == sf::status::invalid_argument);
  CHECK(evaluate_retrieval(q.data(), &ql, 1, nullptr, gl.data(), 2, 2, 5).err().code == sf::status::invalid_argument);
  std::vector<float> bad = g;
  bad[3] = std::numeric_limits<float>::infinity();
  auto r = evaluate_retrieval(q.data(), &ql, 1, bad.data(), gl.data(), 2, 2, 5);
  REQUIRE(!r.ok());
  CHECK(r.err().message.find("gallery row 1") != std::string::npos);
}
