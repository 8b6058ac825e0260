// fuzz_track: the input is a byte-coded tracker script, read with sf_fuzz::reader (the
// format is described above fuzz_track; contracts: fuzz/targets.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "common.h"
#include "track/track.h"

namespace sf_fuzz {

inline bool same_suggestions(const std::vector<sf::track::suggestion>& a, const std::vector<sf::track::suggestion>& b) {
  SF_FUZZ_CHECK(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    SF_FUZZ_CHECK(a[i].what == b[i].what && a[i].id == b[i].id && a[i].track == b[i].track &&
                  a[i].samples == b[i].samples && std::memcmp(&a[i].confidence, &b[i].confidence, 4) == 0);
  return true;
}

inline bool check_suggestions(const std::vector<sf::track::suggestion>& s, bool merged) {
  for (size_t i = 0; i < s.size(); ++i) {
    const sf::track::suggestion& x = s[i];
    SF_FUZZ_CHECK(x.what == sf::track::kind::item || x.what == sf::track::kind::category);
    SF_FUZZ_CHECK(std::isfinite(x.from_t) && std::isfinite(x.to_t) && x.from_t <= x.to_t);
    SF_FUZZ_CHECK(x.samples >= 1);
    SF_FUZZ_CHECK(std::isfinite(x.confidence) && std::isfinite(x.best_score));
    SF_FUZZ_CHECK(x.best_t >= x.from_t && x.best_t <= x.to_t);
    SF_FUZZ_CHECK(finite_box(x.best_box));
    if (merged && i) SF_FUZZ_CHECK(s[i - 1].from_t <= x.from_t);
  }
  return true;
}

}  // namespace sf_fuzz

// =======================================================================================
// Entry point (returns 0 like LLVMFuzzerTestOneInput)

// Byte format (sf_fuzz::reader; see fuzz/make_seeds.cpp):
//   u8 option mode (&1: only a few options, else every option from bytes), options, then
//   up to 64 ops, u8 each (%8): 0..4 add_sample, 5 active_suggestions, 6 finish,
//   7 add_sample after a cut. add_sample: num dt (-0.25, 2), u8 regions (%5), per region:
//   num x0, y0 (-10, 200), w, h (-5, 100), u8 embedding (%6: 0 none, 5 own dim u8 %8 + 1,
//   else the stream's dim), floats num(-1, 1), u8 matches (%6), per match u8 item (%8),
//   u8 category (< 200: item % 3, < 230: byte % 3, else none), num score (-1, 1).
inline int fuzz_track(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  reader in(data, size);
  sf::track::options opt;
  const bool few = in.flag();
  if (few) {
    opt.item_threshold = in.num(-1.0f, 1.5f);
    opt.category_threshold = in.num(-1.0f, 1.5f);
    opt.min_samples = 1 + in.u8() % 3;
    opt.embedding_dim = in.u8() % 5;
  } else {
    opt.min_iou = in.num(0.0f, 1.0f);
    opt.min_cosine = in.num(-1.0f, 1.0f);
    opt.reacquire_cosine = in.num(-1.0f, 1.25f);
    opt.iou_weight = in.num(0.0f, 1.0f);
    opt.max_gap = in.u8() % 6;
    opt.embedding_dim = in.u8() % 5;
    opt.min_samples = in.u8() % 4;
    opt.item_threshold = in.num(-1.0f, 1.5f);
    opt.min_margin = in.num(0.0f, 0.3f);
    opt.category_top_n = in.u8() % 5;
    opt.category_threshold = in.num(-1.0f, 1.5f);
    opt.merge_gap = in.num(0.0f, 3.0f);
    for (unsigned i = in.u8() % 3; i > 0; --i) opt.item_thresholds[in.u8() % 8] = in.num(-1.0f, 1.5f);
    for (unsigned i = in.u8() % 3; i > 0; --i) opt.category_item_thresholds[in.u8() % 3] = in.num(-1.0f, 1.5f);
    for (unsigned i = in.u8() % 3; i > 0; --i) opt.category_thresholds[in.u8() % 3] = in.num(-1.0f, 1.5f);
  }
  sf::track::tracker t(opt);
  const size_t base_dim = opt.embedding_dim ? opt.embedding_dim : 3;
  double time = 0;
  for (int op_index = 0; op_index < 64 && !in.empty(); ++op_index) {
    const unsigned op = in.u8() % 8;
    if (op == 5) {
      if (!check_suggestions(t.active_suggestions(), false)) return 0;
      continue;
    }
    if (op == 6) {
      const std::vector<sf::track::suggestion> all = t.finish();
      SF_FUZZ_TRACE("finish (op): %zu suggestions\n", all.size());
      if (!check_suggestions(all, true)) return 0;
      SF_FUZZ_CHECK(t.active_tracks() == 0 && t.ended().empty());
      time = 0;
      continue;
    }
    time += double(in.num(-0.25f, 2.0f));
    std::vector<sf::track::region> regions(in.u8() % 5);
    for (sf::track::region& r : regions) {
      r.box.x0 = in.num(-10.0f, 200.0f);
      r.box.y0 = in.num(-10.0f, 200.0f);
      r.box.x1 = r.box.x0 + in.num(-5.0f, 100.0f);
      r.box.y1 = r.box.y0 + in.num(-5.0f, 100.0f);
      const unsigned e = in.u8() % 6;
      if (e) {
        r.embedding.resize(e == 5 ? 1 + in.u8() % 8 : base_dim);
        for (float& x : r.embedding) x = in.num(-1.0f, 1.0f);
      }
      r.matches.resize(in.u8() % 6);
      for (sf::track::match& m : r.matches) {
        m.item = in.u8() % 8;
        const uint8_t c = in.u8();
        m.category = c < 200 ? m.item % 3 : c < 230 ? uint32_t(c % 3) : sf::track::no_category;
        m.score = in.num(-1.0f, 1.0f);
      }
    }
    const size_t tracks_before = t.active_tracks(), ended_before = t.ended().size();
    const std::vector<sf::track::suggestion> before = t.active_suggestions();
    auto ok = t.add_sample(time, op == 7, regions);
    SF_FUZZ_TRACE("add_sample t=%g regions=%zu: %s (tracks %zu, ended %zu)\n", time, regions.size(),
                  ok ? "ok" : ok.err().message.c_str(), t.active_tracks(), t.ended().size());
    if (!ok) {  // "the tracker is left unchanged"
      SF_FUZZ_CHECK(!ok.err().message.empty());
      SF_FUZZ_CHECK(t.active_tracks() == tracks_before && t.ended().size() == ended_before);
      if (!same_suggestions(before, t.active_suggestions())) return 0;
      continue;
    }
    SF_FUZZ_CHECK(t.active_tracks() <= tracks_before + regions.size());
    if (!check_suggestions(t.ended(), false)) return 0;
  }
  const std::vector<sf::track::suggestion> all = t.finish();
  SF_FUZZ_TRACE("finish: %zu suggestions\n", all.size());
  if (!check_suggestions(all, true)) return 0;
  return 0;
}
