// Held-out retrieval evaluation (see embed.h): cosine similarity, a class scores its
// best-matching gallery row, recall@1/5/k over all queries.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "embed/embed.h"
#include "index/kernels.h"

namespace sf::embed {
namespace {

error bad(std::string msg) { return make_error(status::invalid_argument, "evaluate_retrieval: " + std::move(msg)); }

result<std::vector<float>> normalized_copy(const float* x, size_t n, size_t d, const char* what) {
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j)
      if (!std::isfinite(x[i * d + j]))
        return bad(std::string("non-finite value in ") + what + " row " + std::to_string(i) + ", component " +
                   std::to_string(j));
  std::vector<float> y(n * d);
  l2_normalize(x, y.data(), n, d);
  return y;
}

}  // namespace

result<retrieval_metrics> evaluate_retrieval(const float* queries, const uint32_t* query_labels, size_t n_queries,
                                             const float* gallery, const uint32_t* gallery_labels,
                                             size_t n_gallery, size_t d, size_t k) {
  if (d == 0) return bad("dimension d == 0");
  if (k == 0) return bad("k == 0");
  if (n_gallery == 0) return bad("empty gallery");
  if (!gallery || !gallery_labels) return bad("gallery or gallery_labels is null");
  if (n_queries > 0 && (!queries || !query_labels)) return bad("queries or query_labels is null");
  if (d > (size_t(1) << 20) || n_queries > std::numeric_limits<size_t>::max() / d / sizeof(float) ||
      n_gallery > std::numeric_limits<size_t>::max() / d / sizeof(float))
    return make_error(status::limit_exceeded, "evaluate_retrieval: n*d too large");

  auto q = normalized_copy(queries, n_queries, d, "queries");
  if (!q) return q.err();
  auto g = normalized_copy(gallery, n_gallery, d, "gallery");
  if (!g) return g.err();

  std::vector<uint32_t> uniq(gallery_labels, gallery_labels + n_gallery);
  std::sort(uniq.begin(), uniq.end());
  uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
  const size_t C = uniq.size();
  std::vector<uint32_t> gcls(n_gallery);
  for (size_t i = 0; i < n_gallery; ++i)
    gcls[i] = uint32_t(std::lower_bound(uniq.begin(), uniq.end(), gallery_labels[i]) - uniq.begin());

  retrieval_metrics m;
  m.k = k;
  m.queries = n_queries;
  m.gallery_classes = C;
  if (n_queries == 0) return m;

  const kernels::table& kt = kernels::active();
  std::vector<float> scores(n_gallery), best(C);
  size_t hit1 = 0, hit5 = 0, hitk = 0;
  for (size_t qi = 0; qi < n_queries; ++qi) {
    auto it = std::lower_bound(uniq.begin(), uniq.end(), query_labels[qi]);
    if (it == uniq.end() || *it != query_labels[qi]) {
      ++m.queries_without_class;
      continue;
    }
    const size_t t = size_t(it - uniq.begin());
    kt.dot_f32_batch(q.value().data() + qi * d, g.value().data(), d, n_gallery, scores.data());
    std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
    for (size_t i = 0; i < n_gallery; ++i) best[gcls[i]] = std::max(best[gcls[i]], scores[i]);
    const float bt = best[t];
    size_t rank = 1;
    for (size_t c = 0; c < C; ++c)
      if (c != t && (best[c] > bt || (best[c] == bt && c < t))) ++rank;
    hit1 += rank <= 1;
    hit5 += rank <= 5;
    hitk += rank <= k;
  }
  const double inv = 1.0 / double(n_queries);
  m.recall_at_1 = double(hit1) * inv;
  m.recall_at_5 = double(hit5) * inv;
  m.recall_at_k = double(hitk) * inv;
  return m;
}

}  // namespace sf::embed
