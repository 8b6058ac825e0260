// Temporal tracking and the suggest-or-abstain decision on synthetic video samples.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "track/track.h"

using sf::det_box;
using sf::track::kind;
using sf::track::match;
using sf::track::options;
using sf::track::region;
using sf::track::suggestion;
using sf::track::tracker;

namespace {

// A tiny catalog: items 1, 2 are apples (category 10), 3 is milk (20), 4 and 5 are dairy (30).
constexpr uint32_t kApples = 10, kMilk = 20, kDairy = 30;
match m(uint32_t item, float score) {
  const uint32_t cat = item <= 2 ? kApples : item == 3 ? kMilk : kDairy;
  return {item, cat, score};
}

// Unit-ish 4-d embedding near basis vector `axis`, with a small deterministic wobble.
std::vector<float> emb(int axis, int sample) {
  std::vector<float> e(4, 0.0f);
  e[size_t(axis)] = 1.0f;
  e[size_t((axis + 1) % 4)] = 0.05f * float(sample % 3);
  return e;
}

det_box box_at(float x, float y, float jitter = 0) { return {x + jitter, y - jitter, x + 100 + jitter, y + 110}; }

const float kJitter[] = {0, 3, -2, 4, -3, 1, 2, -1};
const float kApple1[] = {0.86f, 0.88f, 0.90f, 0.95f, 0.87f, 0.89f, 0.88f, 0.90f};

// The apple (item 1) at (100, 100) in sample i, at time 0.5 * i.
region apple(int i) {
  return {box_at(100, 100, kJitter[i]), emb(0, i), {m(1, kApple1[i]), m(2, 0.60f), m(3, 0.50f)}};
}

void add(tracker& t, double time, std::vector<region> regions, bool cut = false) {
  auto r = t.add_sample(time, cut, regions);
  INFO((r ? std::string() : r.err().message));
  REQUIRE(r.ok());
}

bool same(const suggestion& a, const suggestion& b) {
  return a.what == b.what && a.id == b.id && a.from_t == b.from_t && a.to_t == b.to_t &&
         a.confidence == b.confidence && a.best_score == b.best_score && a.best_t == b.best_t &&
         a.best_box.x0 == b.best_box.x0 && a.best_box.y0 == b.best_box.y0 && a.best_box.x1 == b.best_box.x1 &&
         a.best_box.y1 == b.best_box.y1 && a.samples == b.samples && a.track == b.track;
}

}  // namespace

TEST_CASE("track: a product over 6 jittered samples becomes one item suggestion", "[track]") {
  tracker t;
  for (int i = 0; i < 6; ++i) {
    add(t, 0.5 * i, {apple(i)});
    const auto live = t.active_suggestions();
    if (i == 0) {
      CHECK(live.empty());  // min_samples = 2
    } else {
      REQUIRE(live.size() == 1);
      CHECK(live[0].what == kind::item);
      CHECK(live[0].id == 1);
    }
  }
  CHECK(t.active_tracks() == 1);
  const auto s = t.finish();
  REQUIRE(s.size() == 1);
  CHECK(s[0].what == kind::item);
  CHECK(s[0].id == 1);
  CHECK(s[0].from_t == 0.0);
  CHECK(s[0].to_t == 2.5);
  CHECK(s[0].samples == 6);
  CHECK(s[0].confidence == Approx((0.86 + 0.88 + 0.90 + 0.95 + 0.87 + 0.89) / 6).epsilon(1e-6));
  CHECK(s[0].best_score == 0.95f);
  CHECK(s[0].best_t == 1.5);
  const det_box b = box_at(100, 100, kJitter[3]);
  CHECK(s[0].best_box.x0 == b.x0);
  CHECK(s[0].best_box.y0 == b.y0);
  CHECK(s[0].best_box.x1 == b.x1);
  CHECK(s[0].best_box.y1 == b.y1);
  CHECK(t.active_tracks() == 0);  // finish resets: a new stream may start at time 0 again
  add(t, 0.0, {apple(0)});
}

TEST_CASE("track: a product seen in a single sample is not suggested", "[track]") {
  tracker t;
  add(t, 0.0, {apple(3)});
  add(t, 0.5, {});
  CHECK(t.finish().empty());

  options opt;
  opt.min_samples = 1;  // ... unless one sample is enough
  tracker one(opt);
  add(one, 0.0, {apple(3)});
  const auto s = one.finish();
  REQUIRE(s.size() == 1);
  CHECK(s[0].id == 1);
  CHECK(s[0].samples == 1);
}

TEST_CASE("track: two products in different places give two tracks", "[track]") {
  tracker t;
  for (int i = 0; i < 4; ++i) {
    region a = apple(i);
    region milk{box_at(400, 100, -kJitter[i]), emb(2, i), {m(3, 0.88f), m(1, 0.50f), m(4, 0.45f)}};
    // The region order flips: association follows the boxes, not the list position.
    add(t, 0.5 * i, i % 2 ? std::vector<region>{milk, a} : std::vector<region>{a, milk});
  }
  CHECK(t.active_tracks() == 2);
  const auto s = t.finish();
  REQUIRE(s.size() == 2);
  CHECK(s[0].id == 1);
  CHECK(s[0].track == 0);
  CHECK(s[1].id == 3);
  CHECK(s[1].track == 1);
  for (const auto& x : s) {
    CHECK(x.what == kind::item);
    CHECK(x.samples == 4);
    CHECK(x.from_t == 0.0);
    CHECK(x.to_t == 1.5);
  }
  CHECK(s[1].confidence == Approx(0.88f));
  CHECK(s[1].best_box.x0 == 400.0f);  // the earliest of equal best scores
}

TEST_CASE("track: a scene cut ends all tracks", "[track]") {
  auto run = [](bool with_cut, double merge_gap) {
    options opt;
    opt.merge_gap = merge_gap;
    tracker t(opt);
    for (int i = 0; i < 6; ++i) add(t, 0.5 * i, {apple(i)}, with_cut && i == 3);
    return t.finish();
  };
  const auto split = run(true, 0.0);
  REQUIRE(split.size() == 2);
  CHECK(split[0].from_t == 0.0);
  CHECK(split[0].to_t == 1.0);
  CHECK(split[0].samples == 3);
  CHECK(split[1].from_t == 1.5);
  CHECK(split[1].to_t == 2.5);
  CHECK(split[1].samples == 3);
  CHECK(split[1].best_t == 1.5);
  CHECK(split[0].track != split[1].track);

  // The default merge_gap (1 s) joins the two halves of the same item into one time range.
  const auto merged = run(true, 1.0);
  REQUIRE(merged.size() == 1);
  CHECK(merged[0].from_t == 0.0);
  CHECK(merged[0].to_t == 2.5);
  CHECK(merged[0].samples == 6);
  CHECK(merged[0].best_t == 1.5);
  CHECK(merged[0].confidence == Approx((0.86 + 0.88 + 0.90 + 0.95 + 0.87 + 0.89) / 6).epsilon(1e-6));

  const auto uncut = run(false, 0.0);
  REQUIRE(uncut.size() == 1);
  CHECK(uncut[0].samples == 6);

  // The first half is decided as soon as the cut ends it.
  tracker t;
  for (int i = 0; i < 4; ++i) add(t, 0.5 * i, {apple(i)}, i == 3);
  REQUIRE(t.ended().size() == 1);
  CHECK(t.ended()[0].to_t == 1.0);
}

TEST_CASE("track: ambiguous items fall back to their shared category, or to nothing", "[track]") {
  // Items 1 and 2 trade places every sample: near-equal means, no margin.
  auto run = [](uint32_t rival, options opt = {}) {
    tracker t(opt);
    for (int i = 0; i < 5; ++i) {
      const float a = i % 2 ? 0.84f : 0.85f, b = i % 2 ? 0.85f : 0.84f;
      add(t, 0.5 * i, {{box_at(100, 100, kJitter[i]), emb(0, i), {m(1, a), m(rival, b), m(4, 0.50f)}}});
    }
    return t.finish();
  };
  const auto same_category = run(2);
  REQUIRE(same_category.size() == 1);
  CHECK(same_category[0].what == kind::category);
  CHECK(same_category[0].id == kApples);
  CHECK(same_category[0].confidence == Approx(0.85f));  // per sample, the best apple
  CHECK(same_category[0].samples == 5);
  CHECK(same_category[0].from_t == 0.0);
  CHECK(same_category[0].to_t == 2.0);

  CHECK(run(3).empty());  // apple vs milk (vs dairy): no majority

  // The leader is the only milk; the two dairy items behind it agree with each other. Their
  // majority does not make a "dairy" suggestion for a track whose best match is milk.
  tracker outvoted{options{}};
  for (int i = 0; i < 5; ++i)
    add(outvoted, 0.5 * i, {{box_at(100, 100, kJitter[i]), emb(0, i), {m(3, 0.86f), m(4, 0.85f), m(5, 0.85f)}}});
  CHECK(outvoted.finish().empty());

  options strict;
  strict.category_thresholds[kApples] = 0.9f;
  CHECK(run(2, strict).empty());

  options lenient;
  lenient.min_margin = 0;  // a margin of 0 lets the (tied) leader through as an item
  const auto item = run(2, lenient);
  REQUIRE(item.size() == 1);
  CHECK(item[0].what == kind::item);
}

TEST_CASE("track: a clear leader names its category when no majority can", "[track]") {
  // The milk (item 3, the only product of its category) leads an apple and a dairy item by
  // 0.10 each sample, below the item threshold: no majority is possible for a one-product
  // category, so only the calibrated margin can name it.
  auto run = [](options opt, float second = 0.75f) {
    opt.item_threshold = 0.9f;
    opt.category_threshold = 0.8f;
    tracker t(opt);
    for (int i = 0; i < 5; ++i)
      add(t, 0.5 * i, {{box_at(100, 100, kJitter[i]), emb(0, i), {m(3, 0.85f), m(1, second), m(4, 0.70f)}}});
    return t.finish();
  };
  CHECK(run(options{}).empty());  // the default margin is infinite: majorities only

  options calibrated;
  calibrated.category_margin = 0.08f;
  const auto milk = run(calibrated);
  REQUIRE(milk.size() == 1);
  CHECK(milk[0].what == kind::category);
  CHECK(milk[0].id == kMilk);
  CHECK(milk[0].confidence == Approx(0.85f));

  CHECK(run(calibrated, 0.80f).empty());  // leads by 0.05 < 0.08

  options strict = calibrated;
  strict.category_thresholds[kMilk] = 0.9f;  // the category's own threshold still applies
  CHECK(run(strict).empty());

  options negative;
  negative.category_margin = -0.1f;
  tracker bad(negative);
  auto r = bad.add_sample(0, false, {apple(0)});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.err().message, Catch::Contains("category_margin"));
}

TEST_CASE("track: per-item and per-category item thresholds", "[track]") {
  auto run = [](const options& opt) {
    tracker t(opt);
    for (int i = 0; i < 6; ++i) add(t, 0.5 * i, {apple(i)});
    return t.finish();
  };
  options by_item;
  by_item.item_thresholds[1] = 0.95f;  // too high for item 1: its category (apples 1 and 2 lead) instead
  auto s = run(by_item);
  REQUIRE(s.size() == 1);
  CHECK(s[0].what == kind::category);
  CHECK(s[0].id == kApples);
  CHECK(s[0].confidence == Approx((0.86 + 0.88 + 0.90 + 0.95 + 0.87 + 0.89) / 6).epsilon(1e-6));

  options by_category;
  by_category.category_item_thresholds[kApples] = 0.95f;
  s = run(by_category);
  REQUIRE(s.size() == 1);
  CHECK(s[0].what == kind::category);

  by_category.item_thresholds[1] = 0.5f;  // the per-item value comes first
  s = run(by_category);
  REQUIRE(s.size() == 1);
  CHECK(s[0].what == kind::item);
}

TEST_CASE("track: a low-score distractor track is not suggested", "[track]") {
  tracker t;
  for (int i = 0; i < 5; ++i) {
    region shelf{box_at(500, 300), emb(3, i), {m(4, 0.42f), m(5, 0.40f), m(3, 0.38f)}};
    add(t, 0.5 * i, {shelf, apple(i)});
  }
  CHECK(t.active_tracks() == 2);
  const auto s = t.finish();
  REQUIRE(s.size() == 1);
  CHECK(s[0].id == 1);
  CHECK(s[0].track == 1);
}

TEST_CASE("track: absent items count with the sample's lowest listed score", "[track]") {
  options opt;
  opt.item_threshold = 0.0f;
  opt.min_margin = 0.0f;
  tracker t(opt);
  // Item 4 is only listed in sample 1; elsewhere it counts with that sample's floor (0.2, 0.3).
  add(t, 0.0, {{box_at(0, 0), {}, {m(3, 0.9f), m(5, 0.2f)}}});
  add(t, 1.0, {{box_at(0, 0), {}, {m(4, 0.95f), m(3, 0.4f)}}});
  add(t, 2.0, {{box_at(0, 0), {}, {m(3, 0.8f), m(5, 0.3f)}}});
  const auto s = t.finish();
  REQUIRE(s.size() == 1);
  CHECK(s[0].id == 3);  // (0.9 + 0.4 + 0.8) / 3 = 0.7 beats item 4's (0.2 + 0.95 + 0.3) / 3
  CHECK(s[0].confidence == Approx(0.7f));
}

TEST_CASE("track: gaps, fast moves and swapped products", "[track]") {
  SECTION("a short gap keeps the track, max_gap missed samples end it") {
    options opt;
    opt.merge_gap = 0;
    tracker t(opt);
    int i = 0;
    for (; i < 3; ++i) add(t, i, {apple(i)});
    add(t, 3, {});  // one missed sample (max_gap 3)
    for (i = 4; i < 6; ++i) add(t, i, {apple(i)});
    CHECK(t.active_tracks() == 1);
    for (i = 6; i < 9; ++i) add(t, i, {});  // three missed samples: the track ends
    CHECK(t.active_tracks() == 0);
    REQUIRE(t.ended().size() == 1);
    CHECK(t.ended()[0].from_t == 0.0);
    CHECK(t.ended()[0].to_t == 5.0);
    CHECK(t.ended()[0].samples == 5);
    add(t, 9, {apple(0)});
    add(t, 10, {apple(1)});
    const auto s = t.finish();
    REQUIRE(s.size() == 2);
    CHECK(s[1].from_t == 9.0);
  }
  SECTION("the same appearance far away re-acquires the track") {
    tracker t;
    add(t, 0, {apple(0)});
    region moved = apple(1);
    moved.box = box_at(700, 400);
    add(t, 1, {moved});
    CHECK(t.active_tracks() == 1);
    const auto live = t.active_suggestions();
    REQUIRE(live.size() == 1);
    CHECK(live[0].samples == 2);
  }
  SECTION("a different product put down in the same place starts a new track") {
    tracker t;
    add(t, 0, {apple(0)});
    add(t, 1, {{box_at(100, 100), emb(2, 0), {m(3, 0.9f)}}});
    CHECK(t.active_tracks() == 2);  // the apple's track waits for max_gap samples
  }
  SECTION("without embeddings, boxes alone associate") {
    tracker t;
    add(t, 0, {{box_at(100, 100), {}, {m(1, 0.9f), m(3, 0.5f)}}});
    add(t, 1, {{box_at(110, 100), {}, {m(1, 0.9f), m(3, 0.5f)}}});
    add(t, 2, {{box_at(600, 100), {}, {m(1, 0.9f), m(3, 0.5f)}}});  // IoU 0: a new track
    CHECK(t.active_tracks() == 2);
  }
}

TEST_CASE("track: bad input is an error naming the sample and field; the tracker is unchanged", "[track]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  tracker t;
  auto expect = [&](double time, std::vector<region> regions, const std::string& text) {
    auto r = t.add_sample(time, false, regions);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == sf::status::invalid_argument);
    INFO(r.err().message);
    CHECK(r.err().message.find(text) != std::string::npos);
  };
  expect(std::nan(""), {}, "sample 0: time_s is not finite");
  expect(INFINITY, {}, "sample 0: time_s is not finite");
  add(t, 1.0, {apple(0)});
  expect(0.5, {apple(1)}, "sample 1: time_s 0.5 is before the previous sample's 1");

  region bad_score = apple(1);
  bad_score.matches[2].score = nan;
  expect(1.5, {apple(1), bad_score}, "sample 1 region 1 match 2: score is not finite");

  region short_emb = apple(1);
  short_emb.embedding.resize(3);
  expect(1.5, {short_emb}, "sample 1 region 0: embedding has 3 floats, expected 4");
  region zero_emb = apple(1);
  zero_emb.embedding.assign(4, 0.0f);
  expect(1.5, {zero_emb}, "sample 1 region 0: embedding is not finite or has zero norm");
  region nan_emb = apple(1);
  nan_emb.embedding[1] = nan;
  expect(1.5, {nan_emb}, "region 0: embedding is not finite");

  region flipped = apple(1);
  std::swap(flipped.box.x0, flipped.box.x1);
  expect(1.5, {flipped}, "sample 1 region 0: box");
  region nan_box = apple(1);
  nan_box.box.y1 = nan;
  expect(1.5, {nan_box}, "sample 1 region 0: box");

  region twice = apple(1);
  twice.matches.push_back(m(1, 0.3f));
  expect(1.5, {twice}, "sample 1 region 0 match 3: item 1 is listed twice (match 0)");
  region recat = apple(1);
  recat.matches[1].category = kMilk;  // item 2 was an apple in sample 0
  expect(1.5, {recat}, "sample 1 region 0 match 1: item 2 has category 20, earlier 10");

  // Nothing above changed the tracker: the next good sample continues the same track.
  CHECK(t.active_tracks() == 1);
  add(t, 1.5, {apple(1)});
  CHECK(t.active_tracks() == 1);
  const auto s = t.finish();
  REQUIRE(s.size() == 1);
  CHECK(s[0].samples == 2);
  CHECK(s[0].from_t == 1.0);

  // Options are checked too.
  options o;
  o.max_gap = 0;
  tracker bad(o);
  auto r = bad.add_sample(0, false, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("options.max_gap") != std::string::npos);
  options o2;
  o2.item_thresholds[7] = nan;
  tracker bad2(o2);
  r = bad2.add_sample(0, false, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("options.item_thresholds[7] is NaN") != std::string::npos);
  options o3;
  o3.embedding_dim = 8;
  tracker bad3(o3);
  r = bad3.add_sample(0, false, {apple(0)});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("embedding has 4 floats, expected 8") != std::string::npos);
}

TEST_CASE("track: output is deterministic", "[track]") {
  auto run = [] {
    tracker t;
    for (int i = 0; i < 8; ++i) {
      std::vector<region> regions = {apple(i % 6)};
      // Two identical-looking milk cartons side by side: equal association scores everywhere.
      regions.push_back({box_at(300, 100), emb(2, 0), {m(3, 0.9f), m(4, 0.6f)}});
      regions.push_back({box_at(300, 100), emb(2, 0), {m(3, 0.9f), m(4, 0.6f)}});
      if (i % 3 == 0) regions.push_back({box_at(500, 300), emb(3, i), {m(5, 0.8f), m(4, 0.79f)}});
      add(t, 0.25 * i, regions, i == 5);
    }
    return t.finish();
  };
  const auto a = run(), b = run();
  REQUIRE(a.size() == b.size());
  REQUIRE(!a.empty());
  for (size_t i = 0; i < a.size(); ++i) CHECK(same(a[i], b[i]));
  for (size_t i = 1; i < a.size(); ++i) CHECK(a[i - 1].from_t <= a[i].from_t);
}

TEST_CASE("track: merge_suggestions joins ranges of one id only", "[track]") {
  auto mk = [](kind k, uint32_t id, double from, double to, float conf, uint32_t n, float best, uint32_t track) {
    suggestion s;
    s.what = k;
    s.id = id;
    s.from_t = from;
    s.to_t = to;
    s.confidence = conf;
    s.samples = n;
    s.best_score = best;
    s.best_t = from;
    s.track = track;
    return s;
  };
  const auto out = sf::track::merge_suggestions(
      {mk(kind::item, 1, 5, 6, 0.9f, 2, 0.95f, 3), mk(kind::item, 1, 0, 2, 0.8f, 2, 0.85f, 0),
       mk(kind::category, 1, 2.5, 3, 0.7f, 2, 0.7f, 1), mk(kind::item, 1, 2.5, 4, 0.8f, 4, 0.9f, 2)},
      1.0);
  REQUIRE(out.size() == 2);
  CHECK(out[0].what == kind::item);  // 0-2 and 2.5-4 join (gap 0.5), then 5-6 (gap 1)
  CHECK(out[0].from_t == 0.0);
  CHECK(out[0].to_t == 6.0);
  CHECK(out[0].samples == 8);
  CHECK(out[0].confidence == Approx((0.8 * 2 + 0.8 * 4 + 0.9 * 2) / 8));
  CHECK(out[0].best_score == 0.95f);
  CHECK(out[0].best_t == 5.0);
  CHECK(out[0].track == 0);
  CHECK(out[1].what == kind::category);  // same number, other kind: kept apart
}
