// The suggest-or-abstain decision for one track, and merging suggestions into time ranges.
#include <algorithm>
#include <tuple>

#include "track/track.h"

namespace sf::track {
namespace {

float lookup(const std::unordered_map<uint32_t, float>& m, uint32_t id, float fallback) {
  auto it = m.find(id);
  return it == m.end() ? fallback : it->second;
}

}  // namespace

std::optional<suggestion> tracker::decide(const track_state& t) const {
  if (t.samples < opt_.min_samples || t.items.empty()) return std::nullopt;
  // Mean over all the track's samples; samples that did not list the id count with their floor.
  auto mean = [&](const evidence& e) { return (e.sum + (t.floor_sum - e.floors_listed)) / t.samples; };
  auto make = [&](kind k, uint32_t id, const evidence& e) {
    suggestion s;
    s.what = k;
    s.id = id;
    s.from_t = t.from_t;
    s.to_t = t.to_t;
    s.confidence = float(mean(e));
    s.best_score = e.best;
    s.best_t = e.best_t;
    s.best_box = e.best_box;
    s.samples = t.samples;
    s.track = t.id;
    return s;
  };

  struct ranked {
    double score;
    uint32_t id;
    const evidence* e;
  };
  std::vector<ranked> items;
  items.reserve(t.items.size());
  for (const auto& [id, e] : t.items) items.push_back({mean(e), id, &e});
  // Ties: more supporting samples first, then the smaller id (std::map order, kept by stable_sort).
  std::stable_sort(items.begin(), items.end(), [](const ranked& a, const ranked& b) {
    return std::tie(a.score, a.e->count) > std::tie(b.score, b.e->count);
  });

  const ranked& top = items[0];
  // Any item never listed would aggregate to the mean floor, so that bounds the runner-up.
  const double runner_up = items.size() > 1 ? items[1].score : t.floor_sum / t.samples;
  const float threshold = lookup(opt_.item_thresholds, top.id,
                                 lookup(opt_.category_item_thresholds, top.e->category, opt_.item_threshold));
  if (top.score >= threshold && top.score - runner_up >= opt_.min_margin) return make(kind::item, top.id, *top.e);

  // Not one item, but perhaps a kind of product: the leading item's category, when a strict
  // majority (and at least 2) of the top items share it. Only the leader's: when the best item
  // belongs elsewhere, a majority of its rivals is a guess between sibling categories (an oat
  // milk led by Oatly, outvoted by two soy milks), and abstaining beats naming the wrong one.
  // Without a majority, a leader clear of a runner-up from another category by the calibrated
  // margin still names its category: a category of one product has no majority to find.
  const size_t n = std::min<size_t>(opt_.category_top_n, items.size());
  const uint32_t c = top.e->category;
  if (c == no_category) return std::nullopt;
  size_t votes = 0;
  for (size_t j = 0; j < n; ++j) votes += items[j].e->category == c;
  const bool majority = votes >= 2 && 2 * votes > n;
  const bool clear_leader = (items.size() < 2 || items[1].e->category != c) && top.score - runner_up >= opt_.category_margin;
  if (!majority && !clear_leader) return std::nullopt;
  const evidence& ce = t.categories.at(c);
  if (mean(ce) >= lookup(opt_.category_thresholds, c, opt_.category_threshold)) return make(kind::category, c, ce);
  return std::nullopt;
}

std::vector<suggestion> merge_suggestions(std::vector<suggestion> s, double merge_gap) {
  const double gap = merge_gap >= 0 ? merge_gap : 0;  // NaN or negative: only overlaps merge
  auto key = [](const suggestion& a) { return std::make_tuple(a.what, a.id, a.from_t, a.track); };
  std::sort(s.begin(), s.end(), [&](const suggestion& a, const suggestion& b) { return key(a) < key(b); });
  std::vector<suggestion> out;
  for (const suggestion& x : s) {
    suggestion* cur = out.empty() ? nullptr : &out.back();
    if (!cur || cur->what != x.what || cur->id != x.id || x.from_t - cur->to_t > gap) {
      out.push_back(x);
      continue;
    }
    const double total = double(cur->samples) + x.samples;
    cur->confidence = float((double(cur->confidence) * cur->samples + double(x.confidence) * x.samples) / total);
    cur->samples += x.samples;
    cur->to_t = std::max(cur->to_t, x.to_t);
    cur->track = std::min(cur->track, x.track);
    if (x.best_score > cur->best_score) {
      cur->best_score = x.best_score;
      cur->best_t = x.best_t;
      cur->best_box = x.best_box;
    }
  }
  auto order = [](const suggestion& a) { return std::make_tuple(a.from_t, a.what, a.id, a.track); };
  std::sort(out.begin(), out.end(), [&](const suggestion& a, const suggestion& b) { return order(a) < order(b); });
  return out;
}

}  // namespace sf::track
