// index_view::search: prepare the query (normalise, transform), pick inverted
// lists, scan first-stage codes into a bounded top-k, optionally re-rank the
// shortlist with finer codes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "index/index.h"
#include "index/kernels.h"
#include "index/topk.h"
#include "index/vector_math.h"

namespace sf {
namespace {

constexpr size_t kBlockRows = 1024;  // rows scored per kernel call (keeps scratch small)
constexpr size_t kMaxK = 10000;

// "Fruit" matches "Fruit" and "Fruit/Apple", not "Fruits".
bool category_matches(std::string_view category, std::string_view prefix) {
  if (category.size() < prefix.size() || category.compare(0, prefix.size(), prefix) != 0) return false;
  return category.size() == prefix.size() || category[prefix.size()] == '/' || prefix.back() == '/';
}

// The best row of each product seen in a scan: ties go to the lower row, as in a raw search.
class best_per_group {
 public:
  best_per_group(const std::vector<uint32_t>& group_of_item, uint32_t groups)
      : group_of_item_(group_of_item), score_(groups), row_(groups, kNone) {}
  void offer(uint32_t item, float score, uint32_t row) {
    if (!(score == score)) return;  // NaN: dropped, as topk drops it
    const uint32_t g = group_of_item_[item];
    if (row_[g] == kNone || score > score_[g] || (score == score_[g] && row < row_[g])) score_[g] = score, row_[g] = row;
  }
  std::vector<topk::entry> best(size_t k) const {
    topk out(k);
    for (size_t g = 0; g < row_.size(); ++g)
      if (row_[g] != kNone) out.push(score_[g], row_[g]);
    return out.sorted();
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  const std::vector<uint32_t>& group_of_item_;
  std::vector<float> score_;
  std::vector<uint32_t> row_;
};

}  // namespace

const index_view::id_groups& index_view::groups() const {
  std::call_once(groups_->once, [this] {
    std::unordered_map<std::string_view, uint32_t> ordinal;
    ordinal.reserve(count_);
    groups_->of_item.resize(count_);
    for (uint32_t i = 0; i < count_; ++i)
      groups_->of_item[i] = ordinal.emplace(item(i).id, uint32_t(ordinal.size())).first->second;
    groups_->count = uint32_t(ordinal.size());
  });
  return *groups_;
}

result<std::vector<float>> index_view::work_query(const float* query, size_t d) const {
  if (!data_) return make_error(status::invalid_argument, "search on an index that is not open");
  if (d != dim_)
    return make_error(status::invalid_argument,
                      "query has " + std::to_string(d) + " dimensions, the index has " + std::to_string(dim_));
  std::vector<float> q(query, query + d);
  for (size_t i = 0; i < d; ++i)
    if (!std::isfinite(q[i])) return make_error(status::invalid_argument, "query[" + std::to_string(i) + "] is not finite");
  const bool cosine = info_.metric_kind == metric::cosine;
  if (info_.power_normalize) power_normalize(q.data(), d);
  if (cosine && !normalize(q.data(), d)) return make_error(status::invalid_argument, "query is a zero vector");
  if (transform_matrix_) {
    const size_t wd = work_dim_;
    std::vector<float> centred(d), y(wd);
    for (size_t i = 0; i < d; ++i) centred[i] = q[i] - transform_mean_[i];
    kernels::active().dot_f32_batch(centred.data(), transform_matrix_, d, wd, y.data());
    q.swap(y);
    if (cosine) normalize(q.data(), wd);  // leaves a (rare) zero projection as is
  }
  return q;
}

// Several items may share a product id (one per catalog image); a product scores as its
// best image. With re-ranking, or with more products than rows to scan (where one slot per
// product would cost more than the scan), widen the raw search until k distinct ids are
// found or the index is exhausted; search() keeps the best row per product in one scan
// otherwise. Both give the same answer.
result<std::vector<hit>> index_view::search_distinct(const float* query, size_t d, const search_options& opt) const {
  search_options inner = opt;
  inner.distinct_ids = false;
  const std::vector<uint32_t>& group_of = groups().of_item;
  for (size_t wide = std::min<size_t>(std::max<size_t>(opt.k * 4, 32), count_);; wide = std::min<size_t>(wide * 4, count_)) {
    inner.k = std::min(wide, kMaxK);
    auto raw = search(query, d, inner);
    if (!raw) return raw;
    std::vector<hit> out;
    std::unordered_set<uint32_t> seen;
    for (const hit& h : raw.value()) {
      if (!seen.insert(group_of[h.item]).second) continue;
      out.push_back(h);
      if (out.size() == opt.k) break;
    }
    if (out.size() == opt.k || raw.value().size() < inner.k || inner.k >= count_ || inner.k == kMaxK) return out;
  }
}

result<std::vector<hit>> index_view::search(const float* query, size_t d, const search_options& opt) const {
  if (!data_) return make_error(status::invalid_argument, "search on an index that is not open");
  if (d != dim_)
    return make_error(status::invalid_argument,
                      "query has " + std::to_string(d) + " dimensions, the index has " + std::to_string(dim_));
  if (opt.k > kMaxK) return make_error(status::limit_exceeded, "k = " + std::to_string(opt.k) + " exceeds 10000");
  std::vector<hit> out;
  if (opt.k == 0) return out;
  const bool distinct = opt.distinct_ids && meta_offsets_;
  const bool rerank = spec_.rerank != quantizer_spec::rerank_kind::none;
  if (distinct && rerank) return search_distinct(query, d, opt);  // before preparing a query it would not use
  const kernels::table& kt = kernels::active();

  auto prepared = work_query(query, d);
  if (!prepared) return prepared.err();
  std::vector<float> q = std::move(prepared.value());
  const size_t wd = work_dim_;

  // Category filter over category ordinals.
  std::vector<uint8_t> allowed;
  if (!opt.category_prefix.empty()) {
    if (!meta_offsets_) return make_error(status::invalid_argument, "category filter on an index without metadata");
    allowed.assign(category_count_, 0);
    bool any = false;
    for (uint32_t c = 0; c < category_count_; ++c) {
      std::string_view name(reinterpret_cast<const char*>(strings_ + category_refs_[2 * c]), category_refs_[2 * c + 1]);
      if (category_matches(name, opt.category_prefix)) allowed[c] = 1, any = true;
    }
    if (!any) return make_error(status::not_found, "no category matches \"" + opt.category_prefix + "\"");
  }
  auto item_of = [&](uint32_t row) { return row_item_ ? row_item_[row] : row; };
  auto row_allowed = [&](uint32_t row) { return allowed.empty() || allowed[item_category_[item_of(row)]]; };

  // Lists to scan (each with its coarse score <q, centroid>), or all rows as one list.
  struct probe { uint32_t begin, end; float base; };
  std::vector<probe> probes;
  const size_t lists = spec_.ivf_lists;
  if (lists) {
    size_t nprobe = std::min(lists, opt.nprobe ? opt.nprobe : size_t(info_.default_nprobe));
    std::vector<float> coarse(lists);
    kt.dot_f32_batch(q.data(), coarse_, wd, lists, coarse.data());
    topk best(nprobe);
    for (size_t l = 0; l < lists; ++l) best.push(coarse[l], uint32_t(l));
    for (const auto& e : best.sorted())
      probes.push_back({list_offsets_[e.id], list_offsets_[e.id + 1], e.score});
  } else {
    probes.push_back({0, count_, 0.0f});
  }
  std::unique_ptr<best_per_group> per_product;
  if (distinct) {
    size_t rows = 0;
    for (const probe& p : probes) rows += p.end - p.begin;
    const id_groups& g = groups();
    if (g.count > rows) return search_distinct(query, d, opt);
    per_product = std::make_unique<best_per_group>(g.of_item, g.count);
  }

  // sq8 query terms: <q, decode(c)> = bias + sum_i (q_i * step_i) * c_i.
  std::vector<float> sq8_scaled;
  float sq8_bias = 0;
  if (sq8_codes_) {
    sq8_scaled.resize(wd);
    for (size_t i = 0; i < wd; ++i) {
      sq8_scaled[i] = q[i] * sq8_step_[i];
      sq8_bias += q[i] * sq8_min_[i];
    }
  }
  std::vector<float> lut;
  const size_t m = spec_.pq_m;
  if (pq_codes_) {
    // Inner products do not depend on the list, so one table serves every list.
    const size_t dsub = wd / m;
    lut.resize(m * 256);
    for (size_t s = 0; s < m; ++s)
      kt.dot_f32_batch(q.data() + s * dsub, pq_codebooks_ + s * 256 * dsub, dsub, 256, lut.data() + s * 256);
  }

  const size_t rerank_factor = opt.rerank ? opt.rerank : std::max<size_t>(1, info_.default_rerank);
  const size_t shortlist = rerank ? std::min<size_t>(opt.k * rerank_factor, count_) : opt.k;
  topk first(shortlist);
  std::vector<float> scores(kBlockRows);
  std::vector<float> row_base;  // coarse score of each shortlisted row's list (re-ranking residual codes)
  for (const probe& p : probes) {
    for (uint32_t b = p.begin; b < p.end; b += kBlockRows) {
      const size_t nb = std::min<size_t>(kBlockRows, p.end - b);
      float add = p.base;
      switch (spec_.codes) {
        case quantizer_spec::code_kind::flat:
          kt.dot_f32_batch(q.data(), flat_ + size_t(b) * wd, wd, nb, scores.data());
          add = 0;  // flat vectors are stored whole, not as residuals
          break;
        case quantizer_spec::code_kind::sq8:
          kt.dot_u8_batch(sq8_scaled.data(), sq8_codes_ + size_t(b) * wd, wd, nb, scores.data());
          add += sq8_bias;
          break;
        case quantizer_spec::code_kind::pq:
          kt.pq_scan(lut.data(), m, pq_codes_ + size_t(b) * m, nb, scores.data());
          break;
      }
      for (size_t j = 0; j < nb; ++j) {
        uint32_t row = b + uint32_t(j);
        if (!row_allowed(row)) continue;
        if (per_product)
          per_product->offer(item_of(row), scores[j] + add, row);
        else
          first.push(scores[j] + add, row);
      }
    }
  }

  std::vector<topk::entry> ranked = per_product ? per_product->best(opt.k) : first.sorted();
  if (rerank) {
    // Base (coarse) score per row: the list a row belongs to.
    auto list_base = [&](uint32_t row) -> float {
      if (!lists) return 0.0f;
      for (const probe& p : probes)
        if (row >= p.begin && row < p.end) return p.base;
      return 0.0f;
    };
    topk second(opt.k);
    for (const auto& e : ranked) {
      float s;
      if (spec_.rerank == quantizer_spec::rerank_kind::flat)
        s = kt.dot_f32(q.data(), flat_ + size_t(e.id) * wd, wd);
      else
        s = list_base(e.id) + sq8_bias + kt.dot_u8(sq8_scaled.data(), sq8_codes_ + size_t(e.id) * wd, wd);
      second.push(s, e.id);
    }
    ranked = second.sorted();
  }
  out.reserve(std::min(opt.k, ranked.size()));
  for (const auto& e : ranked) {
    if (out.size() == opt.k) break;
    if (!(e.score >= opt.min_score)) continue;
    out.push_back(hit{item_of(e.id), e.score});
  }
  return out;
}

}  // namespace sf
