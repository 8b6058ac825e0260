#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "detect/detect.h"
#include "detect_fixtures.h"

using detect_test::make_det;

namespace {

sf::det_proposal_options frame_options(int w, int h) {
  sf::det_proposal_options o;
  o.frame_width = w;
  o.frame_height = h;
  return o;
}

void check_box(const sf::det_box& b, float x0, float y0, float x1, float y1) {
  CHECK(b.x0 == Approx(x0));
  CHECK(b.y0 == Approx(y0));
  CHECK(b.x1 == Approx(x1));
  CHECK(b.y1 == Approx(y1));
}

}  // namespace

TEST_CASE("proposals: full frame and centre crop are always present", "[detect]") {
  auto r = sf::det_proposals({}, frame_options(1280, 720));
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  CHECK(r.value()[0].kind == sf::det_region_kind::full_frame);
  check_box(r.value()[0].box, 0, 0, 1280, 720);
  CHECK(r.value()[1].kind == sf::det_region_kind::centre_crop);
  check_box(r.value()[1].box, 192, 108, 1088, 612);  // 70% of each side, centred

  auto o = frame_options(100, 100);
  o.centre_fraction = 0.5f;
  // A detection equal to the full frame is a duplicate of it; the fixed regions stay.
  r = sf::det_proposals({make_det(0, 0, 100, 100, 0.99f)}, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  check_box(r.value()[1].box, 25, 25, 75, 75);
  CHECK(r.value()[0].score == 0.0f);
  CHECK(r.value()[0].class_id == -1);
}

TEST_CASE("proposals: letterbox geometry and mapping", "[detect]") {
  auto lb = sf::det_letterbox_fit(1280, 720, 416, 416, false);
  REQUIRE(lb.ok());
  CHECK(lb.value().scale == Approx(0.325f));
  CHECK(lb.value().pad_x == 0.0f);
  CHECK(lb.value().pad_y == 0.0f);
  auto lbc = sf::det_letterbox_fit(1280, 720, 416, 416, true);
  REQUIRE(lbc.ok());
  CHECK(lbc.value().pad_x == Approx(0.0f).margin(1e-4));
  CHECK(lbc.value().pad_y == Approx(91.0f));  // (416 - 720 * 0.325) / 2
  CHECK(!sf::det_letterbox_fit(0, 720, 416, 416, true).ok());

  // Model box (32.5, 123.5)-(65, 156) with the centred letterbox -> source (100, 100)-(200, 200).
  auto o = frame_options(1280, 720);
  o.map = lbc.value();
  auto r = sf::det_proposals({make_det(32.5f, 123.5f, 65.0f, 156.0f, 0.7f, 41, 0)}, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 3);
  const sf::det_region& d = r.value()[2];
  CHECK(d.kind == sf::det_region_kind::detection);
  CHECK(d.class_id == 41);
  CHECK(d.score == 0.7f);
  check_box(d.box, 100, 100, 200, 200);
  const sf::det_box back = sf::det_letterbox_to_source(o.map, sf::det_box{32.5f, 123.5f, 65.0f, 156.0f});
  check_box(back, 100, 100, 200, 200);
}

TEST_CASE("proposals: clipping and minimum size", "[detect]") {
  auto o = frame_options(200, 100);
  o.min_side = 16;
  const std::vector<sf::detection> dets = {
      make_det(-50, -20, 60, 40, 0.9f, 5, 0),    // clipped to (0, 0)-(60, 40)
      make_det(150, 10, 160, 90, 0.8f, 5, 1),    // 10 px wide: dropped
      make_det(300, 300, 400, 400, 0.95f, 5, 2), // outside the frame: dropped
  };
  auto r = sf::det_proposals(dets, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 3);
  check_box(r.value()[2].box, 0, 0, 60, 40);
  CHECK(r.value()[2].source == 0);
  o.min_side = 5;
  r = sf::det_proposals(dets, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 4);
  CHECK(r.value()[3].source == 1);
}

TEST_CASE("proposals: cap keeps the best-scored detections; duplicates merge", "[detect]") {
  auto o = frame_options(1000, 1000);
  std::vector<sf::detection> dets;
  for (uint32_t i = 0; i < 5; ++i)
    dets.push_back(make_det(float(i) * 150, 0, float(i) * 150 + 100, 100, 0.1f * float(i + 1), 2, i));
  // Near-duplicate (IoU > 0.9) of the best one with a slightly lower score.
  dets.push_back(make_det(601, 0, 701, 100, 0.49f, 2, 5));
  auto r = sf::det_proposals(dets, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 4);
  CHECK(r.value()[2].source == 4);
  CHECK(r.value()[3].source == 3);  // not the duplicate 5
  o.max_regions = 10;
  r = sf::det_proposals(dets, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 7);  // 2 fixed + 5 distinct
  o.merge_iou = 1.0f;             // never merge
  r = sf::det_proposals(dets, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 8);
  o.max_regions = 2;
  r = sf::det_proposals(dets, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 2);
}

TEST_CASE("proposals: person boxes are kept as hints", "[detect]") {
  auto o = frame_options(640, 480);
  sf::detection person = make_det(100, 100, 300, 400, 0.8f, 0, 0);
  sf::detection weak_person = make_det(400, 100, 500, 200, 0.6f, 0, 1);
  weak_person.class_score = 0.05f;  // objectness-only score, class 0 barely: not a hint
  auto r = sf::det_proposals({person, weak_person}, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 4);
  CHECK(r.value()[2].kind == sf::det_region_kind::person_hint);
  CHECK(r.value()[2].class_id == 0);
  CHECK(r.value()[3].kind == sf::det_region_kind::detection);
  o.hint_class = -1;
  r = sf::det_proposals({person}, o);
  REQUIRE(r.ok());
  CHECK(r.value()[2].kind == sf::det_region_kind::detection);
}

TEST_CASE("proposals: bad options are errors, non-finite detections are dropped", "[detect]") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  auto o = frame_options(640, 480);
  auto r = sf::det_proposals({make_det(nan, 0, 10, 10, 0.9f), make_det(0, 0, 100, 100, nan),
                              make_det(0, 0, inf, 100, 0.5f)},
                             o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 2);
  auto bad = o;
  bad.frame_width = 0;
  CHECK(!sf::det_proposals({}, bad).ok());
  bad = o;
  bad.map.scale = 0;
  CHECK(!sf::det_proposals({}, bad).ok());
  bad = o;
  bad.map.pad_x = nan;
  CHECK(!sf::det_proposals({}, bad).ok());
  bad = o;
  bad.centre_fraction = 0;
  CHECK(!sf::det_proposals({}, bad).ok());
  bad = o;
  bad.max_regions = 1;
  CHECK(!sf::det_proposals({}, bad).ok());
  bad = o;
  bad.min_side = -1;
  CHECK(!sf::det_proposals({}, bad).ok());
  bad = o;
  bad.merge_iou = nan;
  CHECK(!sf::det_proposals({}, bad).ok());
}
