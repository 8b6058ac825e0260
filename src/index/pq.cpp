// Product quantizer: m independent 256-centroid k-means codebooks, one per sub-space.
#include "index/pq.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "index/kernels.h"
#include "index/kmeans.h"

namespace sf {
namespace {

constexpr size_t k_pq_ksub = 256;

uint64_t mix_seed(uint64_t seed, uint64_t s) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (s + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Squared norms of the 256 centroids of every sub-space: m * 256 floats.
std::vector<float> centroid_norms(const pq_codec& pq) {
  const kernels::table& kt = kernels::active();
  std::vector<float> nrm(pq.m * k_pq_ksub);
  for (size_t i = 0; i < nrm.size(); ++i)
    nrm[i] = kt.dot_f32(&pq.codebooks[i * pq.dsub], &pq.codebooks[i * pq.dsub], pq.dsub);
  return nrm;
}

}  // namespace

void pq_codec::encode(const float* data, size_t n, uint8_t* codes) const {
  if (m == 0 || dsub == 0 || n == 0) return;
  const kernels::table& kt = kernels::active();
  const std::vector<float> nrm = centroid_norms(*this);
  float dots[k_pq_ksub];
  if (dsub < 32) {
    // Short sub-vectors: score the 256 centroids at once from transposed codebooks
    // (axpy updates) instead of 256 short dot products with horizontal sums.
    std::vector<float> ct(m * dsub * k_pq_ksub);
    for (size_t s = 0; s < m; ++s)
      for (size_t c = 0; c < k_pq_ksub; ++c)
        for (size_t j = 0; j < dsub; ++j)
          ct[(s * dsub + j) * k_pq_ksub + c] = codebooks[(s * k_pq_ksub + c) * dsub + j];
    for (size_t i = 0; i < n; ++i) {
      const float* x = data + i * d;
      for (size_t s = 0; s < m; ++s) {
        std::copy(&nrm[s * k_pq_ksub], &nrm[s * k_pq_ksub] + k_pq_ksub, dots);
        for (size_t j = 0; j < dsub; ++j) {
          const float a = -2.0f * x[s * dsub + j];
          const float* row = &ct[(s * dsub + j) * k_pq_ksub];
          for (size_t c = 0; c < k_pq_ksub; ++c) dots[c] += a * row[c];
        }
        size_t arg = 0;
        for (size_t c = 1; c < k_pq_ksub; ++c)
          if (dots[c] < dots[arg]) arg = c;
        codes[i * m + s] = uint8_t(arg);
      }
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const float* x = data + i * d;
    for (size_t s = 0; s < m; ++s) {
      kt.dot_f32_batch(x + s * dsub, &codebooks[s * k_pq_ksub * dsub], dsub, k_pq_ksub, dots);
      const float* ns = &nrm[s * k_pq_ksub];
      float best = std::numeric_limits<float>::infinity();
      size_t arg = 0;
      for (size_t c = 0; c < k_pq_ksub; ++c) {
        const float v = ns[c] - 2.0f * dots[c];
        if (v < best) {
          best = v;
          arg = c;
        }
      }
      codes[i * m + s] = uint8_t(arg);
    }
  }
}

void pq_codec::decode(const uint8_t* codes, size_t n, float* out) const {
  for (size_t i = 0; i < n; ++i)
    for (size_t s = 0; s < m; ++s)
      std::memcpy(out + i * d + s * dsub, &codebooks[(s * k_pq_ksub + codes[i * m + s]) * dsub],
                  dsub * sizeof(float));
}

void pq_codec::inner_product_table(const float* query, float* lut) const {
  const kernels::table& kt = kernels::active();
  for (size_t s = 0; s < m; ++s)
    kt.dot_f32_batch(query + s * dsub, &codebooks[s * k_pq_ksub * dsub], dsub, k_pq_ksub, lut + s * k_pq_ksub);
}

result<pq_codec> pq_train(const float* data, size_t n, size_t d, size_t m, uint64_t seed, int iterations) {
  if (n == 0) return make_error(status::invalid_argument, "pq_train: no training points (n == 0)");
  if (d == 0) return make_error(status::invalid_argument, "pq_train: dimension d == 0");
  if (m == 0 || m > d)
    return make_error(status::invalid_argument,
                      "pq_train: m = " + std::to_string(m) + " must be in [1, d = " + std::to_string(d) + "]");
  if (d % m != 0)
    return make_error(status::invalid_argument,
                      "pq_train: d = " + std::to_string(d) + " is not a multiple of m = " + std::to_string(m));
  if (!data) return make_error(status::invalid_argument, "pq_train: data is null");

  pq_codec pq;
  pq.d = d;
  pq.m = m;
  pq.dsub = d / m;
  pq.codebooks.resize(m * k_pq_ksub * pq.dsub);

  kmeans_options opt;
  opt.k = k_pq_ksub;
  opt.iterations = iterations;
  opt.max_points_per_centroid = 256;
  std::vector<float> sub(n * pq.dsub);
  for (size_t s = 0; s < m; ++s) {
    for (size_t i = 0; i < n; ++i)
      std::memcpy(&sub[i * pq.dsub], data + i * d + s * pq.dsub, pq.dsub * sizeof(float));
    opt.seed = mix_seed(seed, s);
    auto c = kmeans_train(sub.data(), n, pq.dsub, opt);
    if (!c) {
      error e = c.err();
      e.message = "pq_train: sub-space " + std::to_string(s) + ": " + e.message;
      return e;
    }
    std::copy(c.value().begin(), c.value().end(), pq.codebooks.begin() + s * k_pq_ksub * pq.dsub);
  }
  return pq;
}

}  // namespace sf
