// Deciding whether catalog adaptation helps: hold out one image per product, learn the
// projection on the rest, and compare held-out retrieval with and without it.
#include <algorithm>
#include <map>

#include "embed/embed.h"

namespace sf::embed {

namespace {

// Power- (when the options say so) then L2-normalise, then project and L2-normalise again: what the index does to
// vectors and queries when it carries the LDA transform.
std::vector<float> adapt_rows(const linear_transform& t, const lda_options& opt, const float* x, size_t n, size_t d) {
  std::vector<float> pn(x, x + n * d);
  if (opt.power_normalize) power_normalize(pn.data(), pn.size(), opt.power_alpha);
  l2_normalize(pn.data(), n, d);
  std::vector<float> y(n * t.out_d);
  t.apply(pn.data(), n, y.data());
  l2_normalize(y.data(), n, t.out_d);
  return y;
}

}  // namespace

result<adaptation_trial> trial_adaptation(const float* features, size_t n, size_t d, const uint32_t* labels,
                                          const lda_options& opt) {
  if (!features || !labels || n == 0 || d == 0)
    return make_error(status::invalid_argument, "trial_adaptation: empty or null input");
  // The last third of each label's rows (labels with at least 3 rows) is held out: a block,
  // not a single row, because consecutive photos of a product are near-duplicates and
  // would make any embedding look good. Each held-out product keeps 2+ rows to learn from.
  std::map<uint32_t, std::vector<size_t>> rows_of;
  for (size_t i = 0; i < n; ++i) rows_of[labels[i]].push_back(i);
  std::vector<uint8_t> held(n, 0);
  for (auto& [label, rows] : rows_of)
    if (rows.size() >= 3)
      for (size_t j = rows.size() - std::max<size_t>(1, rows.size() / 3); j < rows.size(); ++j) held[rows[j]] = 1;
  std::vector<float> train, query;
  std::vector<uint32_t> train_labels, query_labels;
  for (size_t i = 0; i < n; ++i) {
    auto& xs = held[i] ? query : train;
    auto& ls = held[i] ? query_labels : train_labels;
    xs.insert(xs.end(), features + i * d, features + (i + 1) * d);
    ls.push_back(labels[i]);
  }
  adaptation_trial out;
  out.train_rows = train_labels.size();
  out.held_out_rows = query_labels.size();
  if (query_labels.size() < 2)
    return make_error(status::invalid_argument,
                      "trial_adaptation: needs at least 2 products with 3 or more images, found " +
                          std::to_string(query_labels.size()));
  auto raw = evaluate_retrieval(query.data(), query_labels.data(), query_labels.size(), train.data(),
                                train_labels.data(), train_labels.size(), d);
  if (!raw) return raw.err();
  out.raw = raw.value();
  auto t = lda_train(train.data(), train_labels.size(), d, train_labels.data(), train_labels.size(), opt);
  if (!t) return t.err();
  auto q = adapt_rows(t.value(), opt, query.data(), query_labels.size(), d);
  auto g = adapt_rows(t.value(), opt, train.data(), train_labels.size(), d);
  auto adapted = evaluate_retrieval(q.data(), query_labels.data(), query_labels.size(), g.data(),
                                    train_labels.data(), train_labels.size(), t.value().out_d);
  if (!adapted) return adapted.err();
  out.adapted = adapted.value();
  return out;
}

}  // namespace sf::embed
