// Regularised LDA (catalog adaptation) on synthetic data.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "embed/embed.h"

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

// Random orthonormal d x d matrix (rows).
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

// Classes differ only along the first `signal` latent axes (class means ~N(0,1), noise
// sd 0.15 there); the other axes carry noise with sd 3 and no class information. The
// latent vector is rotated by R so the directions are not axis-aligned.
struct dataset {
  size_t d = 0;
  std::vector<float> x;
  std::vector<uint32_t> y;
};

dataset make(size_t d, size_t classes, size_t per_class, size_t signal, const std::vector<double>& R,
             const std::vector<double>& means, test_rng& r) {
  dataset ds;
  ds.d = d;
  std::vector<double> z(d);
  for (size_t c = 0; c < classes; ++c)
    for (size_t k = 0; k < per_class; ++k) {
      for (size_t a = 0; a < d; ++a) z[a] = a < signal ? means[c * signal + a] + 0.15 * r.gauss() : 3.0 * r.gauss();
      for (size_t j = 0; j < d; ++j) {
        double s = 0;
        for (size_t a = 0; a < d; ++a) s += z[a] * R[a * d + j];
        ds.x.push_back(float(s));
      }
      ds.y.push_back(uint32_t(1000 + 7 * c));  // sparse labels
    }
  return ds;
}

// Nearest-class-mean accuracy (L2) of test rows against class means of train rows.
double ncm_accuracy(const std::vector<float>& train, const std::vector<uint32_t>& ytr, const std::vector<float>& test,
                    const std::vector<uint32_t>& yte, size_t d) {
  std::vector<uint32_t> labels;
  std::vector<std::vector<double>> means;
  std::vector<size_t> counts;
  for (size_t i = 0; i < ytr.size(); ++i) {
    size_t c = 0;
    while (c < labels.size() && labels[c] != ytr[i]) ++c;
    if (c == labels.size()) {
      labels.push_back(ytr[i]);
      means.emplace_back(d, 0.0);
      counts.push_back(0);
    }
    for (size_t j = 0; j < d; ++j) means[c][j] += train[i * d + j];
    ++counts[c];
  }
  for (size_t c = 0; c < labels.size(); ++c)
    for (double& m : means[c]) m /= double(counts[c]);
  size_t hit = 0;
  for (size_t i = 0; i < yte.size(); ++i) {
    size_t best = 0;
    double bd = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < labels.size(); ++c) {
      double s = 0;
      for (size_t j = 0; j < d; ++j) {
        const double t = test[i * d + j] - means[c][j];
        s += t * t;
      }
      if (s < bd) {
        bd = s;
        best = c;
      }
    }
    hit += labels[best] == yte[i];
  }
  return double(hit) / double(yte.size());
}

std::vector<float> project(const sf::linear_transform& t, const std::vector<float>& x) {
  const size_t n = x.size() / t.in_d;
  std::vector<float> y(n * t.out_d);
  t.apply(x.data(), n, y.data());
  return y;
}

}  // namespace

TEST_CASE("lda_train: buried class directions are recovered", "[embed]") {
  const size_t d = 48, classes = 12, signal = 3;
  test_rng r(42);
  const auto R = random_rotation(d, r);
  std::vector<double> means(classes * signal);
  for (auto& m : means) m = r.gauss();
  const dataset tr = make(d, classes, 30, signal, R, means, r);
  const dataset te = make(d, classes, 15, signal, R, means, r);

  sf::embed::lda_options opt;
  opt.out_dim = 8;
  opt.power_normalize = false;
  // The ridge is relative to the mean eigenvalue, which the 45 noisy axes dominate
  // (~8.4 vs 0.02 along the signal): 0.01 keeps the signal axes visible.
  opt.within_reg = 0.01;
  sf::embed::lda_info info;
  auto t = sf::embed::lda_train(tr.x.data(), tr.y.size(), d, tr.y.data(), tr.y.size(), opt, &info);
  REQUIRE(t.ok());
  const auto& T = t.value();
  CHECK(T.in_d == d);
  CHECK(T.out_d == 8);
  CHECK(info.classes == classes);
  CHECK(info.out_dim == 8);
  REQUIRE(info.eigenvalues.size() == 8);
  for (size_t i = 0; i + 1 < info.eigenvalues.size(); ++i) CHECK(info.eigenvalues[i] >= info.eigenvalues[i + 1]);
  // Three informative directions: the first three ratios dwarf the rest.
  CHECK(info.eigenvalues[2] > 10 * info.eigenvalues[3]);

  const double raw = ncm_accuracy(tr.x, tr.y, te.x, te.y, d);
  const auto ptr = project(T, tr.x), pte = project(T, te.x);
  const double lda = ncm_accuracy(ptr, tr.y, pte, te.y, T.out_d);
  INFO("raw NCM R@1 " << raw << ", LDA NCM R@1 " << lda);
  CHECK(raw < 0.5);
  CHECK(lda > 0.9);
  CHECK(lda > raw + 0.4);

  // The default ridge (0.1 of the mean eigenvalue) still helps strongly here.
  sf::embed::lda_options opt_default = opt;
  opt_default.within_reg = 0.1;
  auto td = sf::embed::lda_train(tr.x.data(), tr.y.size(), d, tr.y.data(), tr.y.size(), opt_default);
  REQUIRE(td.ok());
  const double lda_default = ncm_accuracy(project(td.value(), tr.x), tr.y, project(td.value(), te.x), te.y, 8);
  INFO("LDA (reg 0.1) NCM R@1 " << lda_default);
  CHECK(lda_default > raw + 0.3);

  // The same through evaluate_retrieval (cosine, best gallery row per class).
  auto er = sf::embed::evaluate_retrieval(te.x.data(), te.y.data(), te.y.size(), tr.x.data(), tr.y.data(),
                                          tr.y.size(), d);
  auto el = sf::embed::evaluate_retrieval(pte.data(), te.y.data(), te.y.size(), ptr.data(), tr.y.data(),
                                          tr.y.size(), T.out_d);
  REQUIRE(er.ok());
  REQUIRE(el.ok());
  INFO("raw R@1 " << er.value().recall_at_1 << ", LDA R@1 " << el.value().recall_at_1);
  CHECK(el.value().recall_at_1 > er.value().recall_at_1 + 0.3);
  CHECK(el.value().recall_at_5 >= el.value().recall_at_1);

  // Rows are scaled to unit regularised within-class variance: the projected
  // within-class variance per output is at most 1 (the ridge takes the rest).
  std::vector<double> var(T.out_d, 0.0);
  for (size_t c = 0; c < classes; ++c) {
    std::vector<double> m(T.out_d, 0.0);
    for (size_t k = 0; k < 30; ++k)
      for (size_t j = 0; j < T.out_d; ++j) m[j] += ptr[(c * 30 + k) * T.out_d + j] / 30.0;
    for (size_t k = 0; k < 30; ++k)
      for (size_t j = 0; j < T.out_d; ++j) {
        const double v = ptr[(c * 30 + k) * T.out_d + j] - m[j];
        var[j] += v * v / double(tr.y.size());
      }
  }
  for (double v : var) {
    CHECK(v <= 1.0 + 1e-3);
    CHECK(v > 0.05);
  }
}

TEST_CASE("lda_train: power-normalised path works on non-negative features", "[embed]") {
  const size_t d = 40, classes = 6;
  test_rng r(7);
  std::vector<float> x;
  std::vector<uint32_t> y;
  for (size_t c = 0; c < classes; ++c)
    for (size_t k = 0; k < 20; ++k) {
      for (size_t j = 0; j < d; ++j) {
        const double base = (j % classes == c) ? 2.0 : 0.5;
        x.push_back(float(std::fabs(base + 0.5 * r.gauss())));
      }
      y.push_back(uint32_t(c));
    }
  sf::embed::lda_options opt;  // defaults: power-normalise, reg 0.1, out_dim 80 -> capped at 5
  auto t = sf::embed::lda_train(x.data(), y.size(), d, y.data(), y.size(), opt);
  REQUIRE(t.ok());
  CHECK(t.value().out_d == classes - 1);
  std::vector<float> pre = x;
  sf::embed::power_normalize(pre.data(), pre.size());
  sf::embed::l2_normalize(pre.data(), y.size(), d);
  const auto p = project(t.value(), pre);
  CHECK(ncm_accuracy(p, y, p, y, t.value().out_d) > 0.95);
  for (float v : t.value().mean) CHECK(v >= 0.f);  // the mean of power/L2-normalised rows
}

TEST_CASE("lda_train: output dimension caps", "[embed]") {
  test_rng r(3);
  const size_t d = 6;
  std::vector<float> x;
  std::vector<uint32_t> y;
  for (size_t c = 0; c < 10; ++c)
    for (size_t k = 0; k < 5; ++k) {
      for (size_t j = 0; j < d; ++j) x.push_back(float(r.gauss() + (j == c % d ? 3.0 : 0.0) + 0.1 * c));
      y.push_back(uint32_t(c));
    }
  sf::embed::lda_options opt;
  opt.power_normalize = false;
  opt.out_dim = 80;
  sf::embed::lda_info info;
  auto t = sf::embed::lda_train(x.data(), y.size(), d, y.data(), y.size(), opt, &info);  // capped at d
  REQUIRE(t.ok());
  CHECK(t.value().out_d == d);
  CHECK(t.value().matrix.size() == d * d);
  CHECK(info.out_dim == d);

  // 3 classes: at most 2 directions.
  std::vector<float> x3(x.begin(), x.begin() + 15 * d);
  std::vector<uint32_t> y3(y.begin(), y.begin() + 15);
  auto t3 = sf::embed::lda_train(x3.data(), 15, d, y3.data(), 15, opt);
  REQUIRE(t3.ok());
  CHECK(t3.value().out_d == 2);
  opt.out_dim = 1;
  auto t1 = sf::embed::lda_train(x3.data(), 15, d, y3.data(), 15, opt);
  REQUIRE(t1.ok());
  CHECK(t1.value().out_d == 1);
  // More classes than dimensions goes through the d x d branch: same as classes <= d
  // would give up to sign, checked here only for shape and finiteness.
  for (float w : t.value().matrix) CHECK(std::isfinite(w));
}

TEST_CASE("lda_train: deterministic", "[embed]") {
  test_rng r(11);
  const size_t d = 30;
  std::vector<float> x;
  std::vector<uint32_t> y;
  for (size_t i = 0; i < 200; ++i) {
    y.push_back(uint32_t(i % 9));
    for (size_t j = 0; j < d; ++j) x.push_back(float(r.gauss() + 0.5 * double((i % 9) == j % 9)));
  }
  sf::embed::lda_options opt;
  opt.out_dim = 5;
  auto a = sf::embed::lda_train(x.data(), y.size(), d, y.data(), y.size(), opt);
  auto b = sf::embed::lda_train(x.data(), y.size(), d, y.data(), y.size(), opt);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value().matrix == b.value().matrix);
  CHECK(a.value().mean == b.value().mean);
  // Each row's largest-magnitude component is positive.
  const auto& T = a.value();
  for (size_t rr = 0; rr < T.out_d; ++rr) {
    size_t arg = 0;
    for (size_t j = 1; j < d; ++j)
      if (std::fabs(T.matrix[rr * d + j]) > std::fabs(T.matrix[rr * d + arg])) arg = j;
    CHECK(T.matrix[rr * d + arg] > 0);
  }
}

TEST_CASE("lda_train: errors", "[embed]") {
  using sf::embed::lda_train;
  const size_t d = 4;
  std::vector<float> x = {1, 2, 3, 4, 2, 3, 4, 5, 0, 1, 0, 1, 1, 1, 1, 1, 3, 0, 2, 1, 0, 0, 1, 2};
  std::vector<uint32_t> y = {0, 0, 1, 1, 2, 2};
  sf::embed::lda_options opt;
  opt.power_normalize = false;
  REQUIRE(lda_train(x.data(), 6, d, y.data(), 6, opt).ok());

  auto expect = [](const sf::result<sf::linear_transform>& r, const char* needle) {
    REQUIRE(!r.ok());
    CHECK(r.err().code == sf::status::invalid_argument);
    INFO(r.err().message);
    CHECK(r.err().message.find(needle) != std::string::npos);
  };
  expect(lda_train(x.data(), 6, d, y.data(), 5, opt), "6 rows but 5 labels");
  expect(lda_train(x.data(), 6, 0, y.data(), 6, opt), "d == 0");
  expect(lda_train(nullptr, 6, d, y.data(), 6, opt), "null");
  expect(lda_train(x.data(), 6, d, nullptr, 6, opt), "null");
  expect(lda_train(x.data(), 1, d, y.data(), 1, opt), "at least 2 rows");
  std::vector<uint32_t> one(6, 5);
  expect(lda_train(x.data(), 6, d, one.data(), 6, opt), "at least 2 classes, got 1");
  sf::embed::lda_options o2 = opt;
  o2.out_dim = 0;
  expect(lda_train(x.data(), 6, d, y.data(), 6, o2), "out_dim");
  o2 = opt;
  o2.within_reg = -0.1;
  expect(lda_train(x.data(), 6, d, y.data(), 6, o2), "within_reg");
  o2.within_reg = std::numeric_limits<double>::quiet_NaN();
  expect(lda_train(x.data(), 6, d, y.data(), 6, o2), "within_reg");
  o2 = opt;
  o2.power_normalize = true;
  o2.power_alpha = 0.f;
  expect(lda_train(x.data(), 6, d, y.data(), 6, o2), "power_alpha");
  std::vector<float> bad = x;
  bad[9] = std::numeric_limits<float>::infinity();
  expect(lda_train(bad.data(), 6, d, y.data(), 6, opt), "row 2, component 1");
  // Every class a single row: no within-class scatter.
  std::vector<uint32_t> uniq = {0, 1, 2, 3, 4, 5};
  expect(lda_train(x.data(), 6, d, uniq.data(), 6, opt), "within-class scatter is zero");
  // No ridge and fewer rows than dimensions: singular.
  o2 = opt;
  o2.within_reg = 0;
  expect(lda_train(x.data(), 6, d, y.data(), 6, o2), "singular");
  // Identical class means.
  std::vector<float> same = {1, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, -1, 0, 0};
  std::vector<uint32_t> ys = {0, 0, 1, 1};
  expect(lda_train(same.data(), 4, d, ys.data(), 4, opt), "between-class scatter is zero");
}

TEST_CASE("trial_adaptation: held-out retrieval shows when LDA helps", "[embed]") {
  const size_t d = 48, classes = 12, signal = 3;
  test_rng r(7);
  const auto R = random_rotation(d, r);
  std::vector<double> means(classes * signal);
  for (auto& m : means) m = r.gauss();
  const dataset tr = make(d, classes, 20, signal, R, means, r);
  sf::embed::lda_options opt;
  opt.out_dim = 8;
  opt.power_normalize = false;
  opt.within_reg = 0.01;
  auto t = sf::embed::trial_adaptation(tr.x.data(), tr.y.size(), d, tr.y.data(), opt);
  REQUIRE(t.ok());
  const auto& v = t.value();
  CHECK(v.held_out_rows == classes * 6);  // the last third of 20 rows per class
  CHECK(v.train_rows == tr.y.size() - classes * 6);
  CHECK(v.raw.queries == classes * 6);
  // The class signal is buried under 45 noisy axes: raw cosine barely finds it, LDA does.
  CHECK(v.adapted.recall_at_1 > v.raw.recall_at_1 + 0.3);
  CHECK(v.adapted.recall_at_1 >= 0.5);  // nearest single image, 12 classes: 0.58 measured

  // Only one class has 3+ rows: not enough to judge.
  std::vector<uint32_t> few(tr.y.size());
  for (size_t i = 0; i < few.size(); ++i) few[i] = i < 3 ? 0 : uint32_t(i);  // 1 held-out row
  auto bad = sf::embed::trial_adaptation(tr.x.data(), few.size(), d, few.data(), opt);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message.find("at least 2 products") != std::string::npos);
}
