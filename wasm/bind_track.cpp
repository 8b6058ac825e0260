// Embind bindings of the tracker (src/track): JS hands over each sample's regions (box,
// embedding, top matches as item/category ordinals it keeps tables for) and gets the
// per-track decisions back. Errors never throw across the boundary (errorCode/errorMessage).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

#include "bind_common.h"
#include "track/track.h"

using emscripten::val;
using sf::wasm::last_error;

namespace {

float num(const val& o, const char* key, float fallback) {
  val v = o[key];
  return v.isNumber() ? v.as<float>() : fallback;
}

// [[ordinal, threshold], ...] -> map; a null threshold means "never" (JSON has no Infinity).
// A malformed entry becomes a NaN threshold, which the tracker reports on the first sample.
std::unordered_map<uint32_t, float> ordinal_thresholds(const val& o, const char* key) {
  std::unordered_map<uint32_t, float> out;
  val pairs = o[key];
  if (pairs.isUndefined() || pairs.isNull()) return out;
  const size_t n = pairs["length"].isNumber() ? pairs["length"].as<size_t>() : 0;
  for (size_t i = 0; i < n; ++i) {
    val id = pairs[i][0], t = pairs[i][1];
    if (!id.isNumber()) {
      out[sf::track::no_category] = NAN;
      continue;
    }
    out[id.as<uint32_t>()] = t.isNull() ? INFINITY : t.isNumber() ? t.as<float>() : NAN;
  }
  return out;
}

val suggestion_json(const sf::track::suggestion& s) {
  val o = val::object();
  o.set("kind", std::string(s.what == sf::track::kind::item ? "item" : "category"));
  o.set("id", s.id);
  o.set("from", s.from_t);
  o.set("to", s.to_t);
  o.set("confidence", s.confidence);
  o.set("bestScore", s.best_score);
  o.set("bestT", s.best_t);
  val b = val::array();
  for (float v : {s.best_box.x0, s.best_box.y0, s.best_box.x1, s.best_box.y1}) b.call<void>("push", v);
  o.set("bestBox", b);
  o.set("samples", s.samples);
  o.set("track", s.track);
  return o;
}

val suggestions_json(const std::vector<sf::track::suggestion>& all) {
  val out = val::array();
  for (const auto& s : all) out.call<void>("push", suggestion_json(s));
  return out;
}

class wasm_tracker {
 public:
  // options: { minSamples, itemThreshold, categoryThreshold, minMargin, categoryMargin, minIou,
  //            minCosine, reacquireCosine, maxGap, mergeGap } (any subset; null thresholds and
  //            categoryMargin = never),
  //   categoryItemThresholds / categoryThresholds: [[category ordinal, threshold], ...] that
  //   replace the global ones for that category's items / for suggesting that category.
  explicit wasm_tracker(val o) {
    sf::track::options opt;
    opt.min_samples = uint32_t(num(o, "minSamples", float(opt.min_samples)));
    opt.item_threshold = o["itemThreshold"].isNull() ? INFINITY : num(o, "itemThreshold", opt.item_threshold);
    opt.category_threshold =
        o["categoryThreshold"].isNull() ? INFINITY : num(o, "categoryThreshold", opt.category_threshold);
    opt.category_item_thresholds = ordinal_thresholds(o, "categoryItemThresholds");
    opt.category_thresholds = ordinal_thresholds(o, "categoryThresholds");
    opt.min_margin = num(o, "minMargin", opt.min_margin);
    opt.category_margin = o["categoryMargin"].isNull() ? INFINITY : num(o, "categoryMargin", opt.category_margin);
    opt.min_iou = num(o, "minIou", opt.min_iou);
    opt.min_cosine = num(o, "minCosine", opt.min_cosine);
    opt.reacquire_cosine = num(o, "reacquireCosine", opt.reacquire_cosine);
    opt.max_gap = uint32_t(num(o, "maxGap", float(opt.max_gap)));
    opt.merge_gap = num(o, "mergeGap", float(opt.merge_gap));
    tracker_ = sf::track::tracker(opt);
  }

  // regions: [{ box: [x0,y0,x1,y1], embedding: Float32Array | null, matches: [{ item, category, score }] }]
  bool add_sample(double t, bool cut, val regions) {
    err_.clear();
    std::vector<sf::track::region> rs;
    const size_t n = regions["length"].as<size_t>();
    for (size_t i = 0; i < n; ++i) {
      val r = regions[i];
      sf::track::region x;
      val b = r["box"];
      x.box = {b[0].as<float>(), b[1].as<float>(), b[2].as<float>(), b[3].as<float>()};
      if (!r["embedding"].isNull() && !r["embedding"].isUndefined())
        x.embedding = emscripten::convertJSArrayToNumberVector<float>(r["embedding"]);
      val ms = r["matches"];
      const size_t m = ms["length"].as<size_t>();
      for (size_t j = 0; j < m; ++j) {
        val mj = ms[j];
        x.matches.push_back({mj["item"].as<uint32_t>(),
                             mj["category"].isNumber() ? mj["category"].as<uint32_t>() : sf::track::no_category,
                             mj["score"].as<float>()});
      }
      rs.push_back(std::move(x));
    }
    auto ok = tracker_.add_sample(t, cut, rs);
    if (!ok) return err_.set(ok.err()), false;
    return true;
  }
  val active() const { return suggestions_json(tracker_.active_suggestions()); }
  val finish() { return suggestions_json(tracker_.finish()); }
  size_t active_tracks() const { return tracker_.active_tracks(); }
  std::string error_code() const { return err_.code; }
  std::string error_message() const { return err_.message; }

 private:
  sf::track::tracker tracker_;
  last_error err_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(shopframe_track) {
  using namespace emscripten;
  class_<wasm_tracker>("Tracker")
      .constructor<val>()
      .function("addSample", &wasm_tracker::add_sample)
      .function("active", &wasm_tracker::active)
      .function("finish", &wasm_tracker::finish)
      .function("activeTracks", &wasm_tracker::active_tracks)
      .function("errorCode", &wasm_tracker::error_code)
      .function("errorMessage", &wasm_tracker::error_message);
}
