// Test data for index tests: deterministic clustered unit vectors and exact top-k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace sf::test {

// Small xorshift generator: the same numbers natively and in WASM.
struct rng {
  uint64_t s;
  explicit rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  }
  double uniform() { return double(next() >> 11) / double(1ull << 53); }
  float normal() {  // Box-Muller
    double u = std::max(uniform(), 1e-12), v = uniform();
    return float(std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v));
  }
};

// n unit vectors from `clusters` anisotropic Gaussian clusters (cluster of point i =
// i % clusters). `offset` shifts the point stream (queries drawn after the base set);
// query_noise > 0 adds extra isotropic noise.
inline std::vector<float> clustered(size_t n, size_t d, size_t clusters, uint64_t seed, float query_noise = 0,
                                    size_t offset = 0) {
  rng centre_rng(seed);
  std::vector<float> centres(clusters * d), scales(clusters * d);
  for (auto& c : centres) c = centre_rng.normal();
  for (auto& s : scales) s = float(0.05 + 0.35 * centre_rng.uniform());
  rng point_rng(seed * 31 + offset + 7);
  std::vector<float> out(n * d);
  for (size_t i = 0; i < n; ++i) {
    size_t c = (i + offset) % clusters;
    float cn = 0;
    for (size_t j = 0; j < d; ++j) cn += centres[c * d + j] * centres[c * d + j];
    cn = std::sqrt(cn);
    float* x = out.data() + i * d;
    float norm = 0;
    for (size_t j = 0; j < d; ++j) {
      x[j] = centres[c * d + j] / cn + scales[c * d + j] * point_rng.normal() / std::sqrt(float(d)) * 2.0f +
             query_noise * point_rng.normal() / std::sqrt(float(d));
      norm += x[j] * x[j];
    }
    norm = std::sqrt(norm);
    for (size_t j = 0; j < d; ++j) x[j] /= norm;
  }
  return out;
}

// Exact top-k by cosine (data rows are unit length), best first.
inline std::vector<uint32_t> exact_topk(const std::vector<float>& data, size_t n, size_t d, const float* q, size_t k) {
  std::vector<double> s(n);
  double qn = 0;
  for (size_t j = 0; j < d; ++j) qn += double(q[j]) * q[j];
  qn = std::sqrt(qn);
  for (size_t i = 0; i < n; ++i) {
    double acc = 0;
    for (size_t j = 0; j < d; ++j) acc += double(data[i * d + j]) * q[j];
    s[i] = acc / qn;
  }
  std::vector<uint32_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0u);
  k = std::min(k, n);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](uint32_t a, uint32_t b) {
    return s[a] != s[b] ? s[a] > s[b] : a < b;
  });
  idx.resize(k);
  return idx;
}

}  // namespace sf::test
