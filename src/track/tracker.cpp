// Input validation, association of regions to tracks, and per-track evidence.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "track/track.h"

namespace sf::track {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

error bad(std::string what) { return make_error(status::invalid_argument, "track: " + std::move(what)); }

result<void> check_options(const options& o) {
  auto in = [](double v, double lo, double hi) { return v >= lo && v <= hi; };  // false for NaN
  if (!in(o.min_iou, 0, 1)) return bad("options.min_iou " + num(o.min_iou) + " is outside 0..1");
  if (!in(o.min_cosine, -1, 1)) return bad("options.min_cosine " + num(o.min_cosine) + " is outside -1..1");
  if (!(o.reacquire_cosine >= -1)) return bad("options.reacquire_cosine " + num(o.reacquire_cosine) + " is below -1");
  if (!in(o.iou_weight, 0, 1)) return bad("options.iou_weight " + num(o.iou_weight) + " is outside 0..1");
  if (o.max_gap < 1) return bad("options.max_gap must be >= 1");
  if (o.min_samples < 1) return bad("options.min_samples must be >= 1");
  if (o.category_top_n < 2) return bad("options.category_top_n must be >= 2");
  if (!(o.min_margin >= 0)) return bad("options.min_margin " + num(o.min_margin) + " must be >= 0");
  if (!(o.category_margin >= 0)) return bad("options.category_margin " + num(o.category_margin) + " must be >= 0");
  if (!(o.merge_gap >= 0)) return bad("options.merge_gap " + num(o.merge_gap) + " must be >= 0");
  // Thresholds may be +-infinity (always / never), never NaN: a NaN silently means "never".
  if (std::isnan(o.item_threshold)) return bad("options.item_threshold is NaN");
  if (std::isnan(o.category_threshold)) return bad("options.category_threshold is NaN");
  const std::pair<const char*, const std::unordered_map<uint32_t, float>*> maps[] = {
      {"item_thresholds", &o.item_thresholds},
      {"category_item_thresholds", &o.category_item_thresholds},
      {"category_thresholds", &o.category_thresholds}};
  for (const auto& [name, m] : maps)
    for (const auto& [id, v] : *m)
      if (std::isnan(v)) return bad(std::string("options.") + name + "[" + std::to_string(id) + "] is NaN");
  return {};
}

bool finite_box(const det_box& b) {
  return std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1) &&
         b.x0 <= b.x1 && b.y0 <= b.y1;
}

// Unit-norm copy (validate() has checked the norm is finite and non-zero).
std::vector<float> unit(const std::vector<float>& v) {
  double n2 = 0;
  for (float x : v) n2 += double(x) * x;
  const double inv = 1.0 / std::sqrt(n2);
  std::vector<float> u(v.size());
  for (size_t i = 0; i < v.size(); ++i) u[i] = float(v[i] * inv);
  return u;
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return float(s);
}

}  // namespace

tracker::tracker(options opt) : opt_(std::move(opt)) {}

result<void> tracker::validate(double time_s, const std::vector<region>& regions) const {
  SF_TRY(check_options(opt_));
  const std::string at = "sample " + std::to_string(sample_index_);
  if (!std::isfinite(time_s)) return bad(at + ": time_s is not finite");
  if (sample_index_ > 0 && time_s < last_t_)
    return bad(at + ": time_s " + num(time_s) + " is before the previous sample's " + num(last_t_));
  size_t dim = dim_ ? dim_ : opt_.embedding_dim;
  std::unordered_map<uint32_t, uint32_t> new_items;  // first categories seen in this sample
  std::unordered_map<uint32_t, size_t> seen;         // item -> match index, per region
  for (size_t ri = 0; ri < regions.size(); ++ri) {
    const region& r = regions[ri];
    const std::string rat = at + " region " + std::to_string(ri);
    if (!finite_box(r.box)) return bad(rat + ": box is not finite with x0 <= x1 and y0 <= y1");
    if (!r.embedding.empty()) {
      if (dim == 0) dim = r.embedding.size();
      if (r.embedding.size() != dim)
        return bad(rat + ": embedding has " + std::to_string(r.embedding.size()) + " floats, expected " +
                   std::to_string(dim));
      double n2 = 0;
      for (float x : r.embedding) n2 += double(x) * x;
      if (!std::isfinite(n2) || !(n2 > 0)) return bad(rat + ": embedding is not finite or has zero norm");
    }
    seen.clear();
    for (size_t mi = 0; mi < r.matches.size(); ++mi) {
      const match& m = r.matches[mi];
      const std::string mat = rat + " match " + std::to_string(mi);
      if (!std::isfinite(m.score)) return bad(mat + ": score is not finite");
      if (!seen.emplace(m.item, mi).second)
        return bad(mat + ": item " + std::to_string(m.item) + " is listed twice (match " +
                   std::to_string(seen[m.item]) + ")");
      auto known = item_category_.find(m.item);
      if (known == item_category_.end()) known = new_items.emplace(m.item, m.category).first;
      if (known->second != m.category)
        return bad(mat + ": item " + std::to_string(m.item) + " has category " + std::to_string(m.category) +
                   ", earlier " + std::to_string(known->second));
    }
  }
  return {};
}

void tracker::observe(track_state& t, double time_s, const region& r, const std::vector<float>& u) const {
  // An item missing from this region's list counts with the list's lowest score: the index ranked
  // it somewhere below, so that is an upper bound (and 0 when nothing was listed).
  float floor = 0;
  if (!r.matches.empty()) {
    floor = r.matches[0].score;
    for (const match& m : r.matches) floor = std::min(floor, m.score);
  }
  ++t.samples;
  t.floor_sum += floor;
  t.to_t = time_s;
  t.box = r.box;
  t.missed = 0;
  if (!u.empty()) {
    // Appearance drifts with pose and blur: keep a running average rather than the last view.
    if (t.embedding.empty()) {
      t.embedding = u;
    } else {
      for (size_t i = 0; i < u.size(); ++i) t.embedding[i] = 0.7f * t.embedding[i] + 0.3f * u[i];
      t.embedding = unit(t.embedding);  // never zero: both inputs are unit, the weights positive
    }
  }
  auto add = [&](evidence& e, float score) {
    ++e.count;
    e.sum += score;
    e.floors_listed += floor;
    if (score > e.best) {  // strict: the earliest best sample wins ties
      e.best = score;
      e.best_t = time_s;
      e.best_box = r.box;
    }
  };
  std::map<uint32_t, float> category_best;  // a category scores its best-listed item in a sample
  for (const match& m : r.matches) {
    evidence& e = t.items[m.item];
    e.category = m.category;
    add(e, m.score);
    if (m.category == no_category) continue;
    auto [it, fresh] = category_best.emplace(m.category, m.score);
    if (!fresh) it->second = std::max(it->second, m.score);
  }
  for (const auto& [c, s] : category_best) add(t.categories[c], s);
}

void tracker::end_track(const track_state& t) {
  if (auto s = decide(t)) ended_.push_back(*s);
}

result<void> tracker::add_sample(double time_s, bool cut, const std::vector<region>& regions) {
  SF_TRY(validate(time_s, regions));
  for (const region& r : regions)
    if (!r.embedding.empty() && dim_ == 0) dim_ = r.embedding.size();
  for (const region& r : regions)
    for (const match& m : r.matches) item_category_.emplace(m.item, m.category);

  if (cut) {
    for (const track_state& t : tracks_) end_track(t);
    tracks_.clear();
  }

  std::vector<std::vector<float>> units(regions.size());
  for (size_t ri = 0; ri < regions.size(); ++ri)
    if (!regions[ri].embedding.empty()) units[ri] = unit(regions[ri].embedding);

  // Gate every (track, region) pair, then assign greedily by combined score. Pairs are generated
  // in (track id, region) order and sorted stably, so ties resolve the same way every run.
  struct pair_score {
    float score;
    size_t t, r;
  };
  std::vector<pair_score> pairs;
  for (size_t ti = 0; ti < tracks_.size(); ++ti) {
    const track_state& t = tracks_[ti];
    for (size_t ri = 0; ri < regions.size(); ++ri) {
      const float iou = det_iou(t.box, regions[ri].box);
      const bool emb = !t.embedding.empty() && !units[ri].empty();
      const float cos = emb ? dot(t.embedding, units[ri]) : 0.0f;
      const bool stayed = iou >= opt_.min_iou && (!emb || cos >= opt_.min_cosine);
      const bool moved = emb && cos >= opt_.reacquire_cosine;
      if (!stayed && !moved) continue;
      const float score = emb ? opt_.iou_weight * iou + (1 - opt_.iou_weight) * cos : iou;
      pairs.push_back({score, ti, ri});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const pair_score& a, const pair_score& b) { return a.score > b.score; });
  constexpr size_t none = static_cast<size_t>(-1);
  std::vector<size_t> region_of(tracks_.size(), none);
  std::vector<char> region_taken(regions.size(), 0);
  for (const pair_score& p : pairs) {
    if (region_of[p.t] != none || region_taken[p.r]) continue;
    region_of[p.t] = p.r;
    region_taken[p.r] = 1;
  }

  std::vector<track_state> next;
  next.reserve(tracks_.size() + regions.size());
  for (size_t ti = 0; ti < tracks_.size(); ++ti) {
    track_state& t = tracks_[ti];
    if (region_of[ti] != none) {
      observe(t, time_s, regions[region_of[ti]], units[region_of[ti]]);
    } else if (++t.missed >= opt_.max_gap) {
      end_track(t);
      continue;
    }
    next.push_back(std::move(t));
  }
  for (size_t ri = 0; ri < regions.size(); ++ri) {
    if (region_taken[ri]) continue;
    track_state t;
    t.id = next_id_++;
    t.from_t = time_s;
    observe(t, time_s, regions[ri], units[ri]);
    next.push_back(std::move(t));
  }
  tracks_ = std::move(next);
  last_t_ = time_s;
  ++sample_index_;
  return {};
}

std::vector<suggestion> tracker::active_suggestions() const {
  std::vector<suggestion> out;
  for (const track_state& t : tracks_)
    if (auto s = decide(t)) out.push_back(*s);
  return out;
}

std::vector<suggestion> tracker::finish() {
  for (const track_state& t : tracks_) end_track(t);
  std::vector<suggestion> out = merge_suggestions(std::move(ended_), opt_.merge_gap);
  options keep = std::move(opt_);
  *this = tracker(std::move(keep));
  return out;
}

}  // namespace sf::track
