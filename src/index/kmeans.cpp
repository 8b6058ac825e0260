// k-means: k-means++ seeding on a subsample, then squared-L2 Lloyd iterations.
//
// Distances use ||x - c||^2 = ||x||^2 + ||c||^2 - 2<x, c>; the ||x||^2 term does not
// change the argmin, so assignment ranks centroids by ||c||^2 - 2<x, c> computed with
// kernels::active().dot_f32_batch. Points and centroids are processed in tiles so that
// a chunk of centroids stays in L1 while a block of points (in L2) is scanned against it.
//
// Determinism: one splitmix64 stream drives every random choice (no <random>
// distributions), sums are accumulated in double in a fixed order, ties go to the lowest
// centroid index. The same input, seed and kernel table give bit-identical centroids.
#include "index/kmeans.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "index/kernels.h"

namespace sf {
namespace {

struct splitmix64 {
  uint64_t s;
  explicit splitmix64(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 bits.
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform integer in [0, n), n > 0 (modulo bias below 2^-40 for n < 2^24: irrelevant here).
  size_t below(size_t n) { return size_t(next() % uint64_t(n)); }
};

// Chooses `count` distinct indices of [0, n) (count <= n), returned in increasing order.
std::vector<size_t> sample_indices(size_t n, size_t count, splitmix64& rng) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  for (size_t i = 0; i < count; ++i) std::swap(idx[i], idx[i + rng.below(n - i)]);
  idx.resize(count);
  std::sort(idx.begin(), idx.end());
  return idx;
}

void row_norms(const float* x, size_t n, size_t d, float* out) {
  const kernels::table& kt = kernels::active();
  for (size_t i = 0; i < n; ++i) out[i] = kt.dot_f32(x + i * d, x + i * d, d);
}

constexpr size_t k_small_d = 32;

// For points [0, n): label = argmin_c (cnorm[c] - 2<x, c>), ties to the lowest c.
// dist (optional) receives the squared L2 distance estimate ||x||^2 + that minimum
// (xnorm required then).
void assign_tiled(const float* centroids, const float* cnorm, size_t k, const float* data, size_t n, size_t d,
                  uint32_t* label, float* best_out) {
  if (n == 0 || k == 0) return;
  if (d < k_small_d) {
    // Short vectors (PQ sub-spaces): per-dot horizontal sums would dominate, so score all
    // centroids at once from the transposed centroid matrix with axpy updates.
    std::vector<float> ct(d * k), acc(k);
    for (size_t c = 0; c < k; ++c)
      for (size_t j = 0; j < d; ++j) ct[j * k + c] = centroids[c * d + j];
    for (size_t i = 0; i < n; ++i) {
      const float* x = data + i * d;
      std::copy(cnorm, cnorm + k, acc.begin());
      for (size_t j = 0; j < d; ++j) {
        const float a = -2.0f * x[j];
        const float* row = &ct[j * k];
        for (size_t c = 0; c < k; ++c) acc[c] += a * row[c];
      }
      float b = acc[0];
      uint32_t l = 0;
      for (size_t c = 1; c < k; ++c)
        if (acc[c] < b) {
          b = acc[c];
          l = uint32_t(c);
        }
      label[i] = l;
      if (best_out) best_out[i] = b;
    }
    return;
  }
  const kernels::table& kt = kernels::active();
  // About 32 KB of centroids per chunk, about 256 KB of points per block.
  const size_t ck = std::min(k, std::max<size_t>(1, 8192 / std::max<size_t>(d, 1)));
  const size_t bp = std::max<size_t>(1, 65536 / std::max<size_t>(d, 1));
  std::vector<float> dots(ck);
  std::vector<float> best(std::min(n, bp));
  for (size_t p0 = 0; p0 < n; p0 += bp) {
    const size_t pn = std::min(bp, n - p0);
    std::fill(best.begin(), best.begin() + pn, std::numeric_limits<float>::infinity());
    for (size_t c0 = 0; c0 < k; c0 += ck) {
      const size_t cn = std::min(ck, k - c0);
      const float* cb = centroids + c0 * d;
      const float* nb = cnorm + c0;
      for (size_t i = 0; i < pn; ++i) {
        kt.dot_f32_batch(data + (p0 + i) * d, cb, d, cn, dots.data());
        float b = best[i];
        uint32_t l = c0 == 0 ? 0 : label[p0 + i];
        for (size_t c = 0; c < cn; ++c) {
          const float v = nb[c] - 2.0f * dots[c];
          if (v < b) {
            b = v;
            l = uint32_t(c0 + c);
          }
        }
        best[i] = b;
        label[p0 + i] = l;
      }
    }
    if (best_out) std::copy(best.begin(), best.begin() + pn, best_out + p0);
  }
}

void normalize_rows(float* c, size_t k, size_t d) {
  for (size_t j = 0; j < k; ++j) {
    float* r = c + j * d;
    double s = 0;
    for (size_t i = 0; i < d; ++i) s += double(r[i]) * r[i];
    if (s > 0) {
      const float inv = float(1.0 / std::sqrt(s));
      for (size_t i = 0; i < d; ++i) r[i] *= inv;
    }
  }
}

// k-means++ on a subsample of the training set; n >= k.
void seed_plusplus(const float* x, size_t n, size_t d, size_t k, splitmix64& rng, float* centroids) {
  const kernels::table& kt = kernels::active();
  const size_t n_seed = std::min(n, std::max<size_t>(8 * k, 4096));
  std::vector<float> sub;
  const float* s = x;
  if (n_seed < n) {
    const std::vector<size_t> idx = sample_indices(n, n_seed, rng);
    sub.resize(n_seed * d);
    for (size_t i = 0; i < n_seed; ++i) std::memcpy(&sub[i * d], x + idx[i] * d, d * sizeof(float));
    s = sub.data();
  }
  std::vector<float> snorm(n_seed), dots(n_seed), mind(n_seed, std::numeric_limits<float>::infinity());

  row_norms(s, n_seed, d, snorm.data());
  size_t pick = rng.below(n_seed);
  for (size_t c = 0; c < k; ++c) {
    if (c > 0) {
      double total = 0;
      for (size_t i = 0; i < n_seed; ++i) total += mind[i];
      if (total > 0) {
        const double r = rng.uniform() * total;
        double acc = 0;
        pick = n_seed - 1;
        for (size_t i = 0; i < n_seed; ++i) {
          acc += mind[i];
          if (acc > r && mind[i] > 0) {
            pick = i;
            break;
          }
        }
        // Floating-point slack at the end of the scan: take the last point with weight.
        if (mind[pick] <= 0) {
          for (size_t i = n_seed; i-- > 0;)
            if (mind[i] > 0) {
              pick = i;
              break;
            }
        }
      } else {
        pick = rng.below(n_seed);  // every point coincides with a centre already
      }
    }
    const float* cp = s + pick * d;
    std::memcpy(centroids + c * d, cp, d * sizeof(float));
    if (c + 1 == k) break;
    kt.dot_f32_batch(cp, s, d, n_seed, dots.data());
    const float cn = snorm[pick];
    for (size_t i = 0; i < n_seed; ++i) {
      const float v = std::max(0.0f, snorm[i] + cn - 2.0f * dots[i]);
      if (v < mind[i]) mind[i] = v;
    }
    mind[pick] = 0;
  }
}

}  // namespace

void kmeans_assign(const float* centroids, size_t k, const float* data, size_t n, size_t d, uint32_t* out) {
  if (!centroids || !data || !out || k == 0 || n == 0 || d == 0) return;
  std::vector<float> cnorm(k);
  row_norms(centroids, k, d, cnorm.data());
  assign_tiled(centroids, cnorm.data(), k, data, n, d, out, nullptr);
}

result<std::vector<float>> kmeans_train(const float* data, size_t n, size_t d, const kmeans_options& opt) {
  const size_t k = opt.k;
  if (n == 0) return make_error(status::invalid_argument, "kmeans_train: no training points (n == 0)");
  if (d == 0) return make_error(status::invalid_argument, "kmeans_train: dimension d == 0");
  if (k == 0) return make_error(status::invalid_argument, "kmeans_train: k == 0");
  if (!data) return make_error(status::invalid_argument, "kmeans_train: data is null");
  if (n > std::numeric_limits<size_t>::max() / d || k > std::numeric_limits<uint32_t>::max() ||
      k > std::numeric_limits<size_t>::max() / d / sizeof(float))
    return make_error(status::limit_exceeded, "kmeans_train: n*d or k*d too large");
  for (size_t i = 0; i < n * d; ++i)
    if (!std::isfinite(data[i]))
      return make_error(status::invalid_argument, "kmeans_train: non-finite value at point " +
                                                      std::to_string(i / d) + ", component " +
                                                      std::to_string(i % d));

  std::vector<float> centroids(k * d);
  if (n <= k) {
    // Every point is its own centroid; the rest repeat points in order.
    for (size_t c = 0; c < k; ++c) std::memcpy(&centroids[c * d], data + (c % n) * d, d * sizeof(float));
    if (opt.spherical) normalize_rows(centroids.data(), k, d);
    return centroids;
  }

  splitmix64 rng(opt.seed);
  // Subsample the training set above k * max_points_per_centroid (0 = no limit).
  const float* x = data;
  size_t nt = n;
  std::vector<float> sub;
  if (opt.max_points_per_centroid > 0 && k <= n / opt.max_points_per_centroid) {
    const size_t cap = k * opt.max_points_per_centroid;
    if (cap < n) {
      const std::vector<size_t> idx = sample_indices(n, cap, rng);
      sub.resize(cap * d);
      for (size_t i = 0; i < cap; ++i) std::memcpy(&sub[i * d], data + idx[i] * d, d * sizeof(float));
      x = sub.data();
      nt = cap;
    }
  }

  seed_plusplus(x, nt, d, k, rng, centroids.data());
  if (opt.spherical) normalize_rows(centroids.data(), k, d);

  std::vector<float> cnorm(k);
  std::vector<uint32_t> label(nt, 0), prev(nt, std::numeric_limits<uint32_t>::max());
  std::vector<double> sums(k * d);
  std::vector<size_t> counts(k);
  const float eps = 1.0f / 1024;
  for (int it = 0; it < opt.iterations; ++it) {
    row_norms(centroids.data(), k, d, cnorm.data());
    assign_tiled(centroids.data(), cnorm.data(), k, x, nt, d, label.data(), nullptr);
    if (label == prev) break;  // converged: the update would reproduce the same centroids
    prev = label;

    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), size_t(0));
    for (size_t i = 0; i < nt; ++i) {
      const uint32_t l = label[i];
      ++counts[l];
      double* sr = &sums[size_t(l) * d];
      const float* xr = x + i * d;
      for (size_t j = 0; j < d; ++j) sr[j] += xr[j];
    }
    for (size_t c = 0; c < k; ++c) {
      if (counts[c] == 0) continue;
      const double inv = 1.0 / double(counts[c]);
      float* cr = &centroids[c * d];
      const double* sr = &sums[c * d];
      for (size_t j = 0; j < d; ++j) cr[j] = float(sr[j] * inv);
    }
    // Empty clusters: split the currently largest cluster in two slightly different halves.
    for (size_t c = 0; c < k; ++c) {
      if (counts[c] != 0) continue;
      size_t big = 0;
      for (size_t j = 1; j < k; ++j)
        if (counts[j] > counts[big]) big = j;
      float* ce = &centroids[c * d];
      float* cb = &centroids[big * d];
      for (size_t j = 0; j < d; ++j) {
        const float delta = eps * (std::fabs(cb[j]) + 1e-6f);
        const float sign = (j % 2 == 0) ? 1.0f : -1.0f;
        ce[j] = cb[j] + sign * delta;
        cb[j] = cb[j] - sign * delta;
      }
      counts[c] = counts[big] / 2;
      counts[big] -= counts[c];
      if (counts[c] == 0) counts[c] = 1;  // only reached when every cluster has <= 1 point
    }
    if (opt.spherical) normalize_rows(centroids.data(), k, d);
  }
  return centroids;
}

}  // namespace sf
