// measure_recall: the quantized index against exact search, for build summaries.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "index/index.h"
#include "index/kernels.h"
#include "index/topk.h"
#include "index/vector_math.h"

namespace sf {

result<double> measure_recall(const index_view& index, const float* vectors, size_t n, size_t d, size_t sample, size_t k) {
  if (n != index.size() || d != index.dim())
    return make_error(status::invalid_argument, "measure_recall: vectors do not match the index");
  sample = std::min(sample, n);
  if (sample == 0 || k == 0) return 0.0;
  const kernels::table& kt = kernels::active();
  const bool cosine = index.info().metric_kind == metric::cosine;
  // The exact reference space: normalised input vectors, or the caller's transform of them.
  const bool transformed = index.info().external_transform;
  const size_t wd = transformed ? index.info().work_dim : d;
  std::vector<float> base(n * wd);
  for (size_t i = 0; i < n; ++i) {
    if (transformed) {
      auto w = index.work_query(vectors + i * d, d);
      if (!w) return w.err();
      std::copy(w.value().begin(), w.value().end(), base.begin() + i * wd);
      continue;
    }
    std::copy_n(vectors + i * d, d, base.begin() + i * d);
    if (index.info().power_normalize) power_normalize(base.data() + i * d, d);
    if (cosine) normalize(base.data() + i * d, d);
  }
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto noise = [&] {  // deterministic, roughly uniform in [-1, 1]
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return float(double(state >> 11) / double(1ull << 53) * 2.0 - 1.0);
  };
  std::vector<float> q(d), scores(n);
  size_t found = 0, wanted = 0;
  for (size_t s = 0; s < sample; ++s) {
    const size_t src = s * n / sample;
    // Noise around the (normalised) input vector, in the input space.
    std::vector<float> x(vectors + src * d, vectors + (src + 1) * d);
    if (index.info().power_normalize) power_normalize(x.data(), d);
    if (cosine) normalize(x.data(), d);
    for (size_t j = 0; j < d; ++j) q[j] = x[j] + 0.3f / std::sqrt(float(d)) * noise();
    std::vector<float> qw = q;
    if (transformed) {
      auto w = index.work_query(q.data(), d);
      if (!w) return w.err();
      qw = std::move(w.value());
    }
    kt.dot_f32_batch(qw.data(), base.data(), wd, n, scores.data());
    topk exact(std::min(k, n));
    for (size_t i = 0; i < n; ++i) exact.push(scores[i], uint32_t(i));
    std::unordered_set<uint32_t> truth;
    for (const auto& e : exact.sorted()) truth.insert(e.id);
    search_options so;
    so.k = k;
    auto hits = index.search(q.data(), d, so);
    if (!hits) return hits.err();
    for (const hit& h : hits.value()) found += truth.count(h.item);
    wanted += truth.size();
  }
  return double(found) / double(wanted);
}

}  // namespace sf
