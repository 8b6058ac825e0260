#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "detect/detect.h"
#include "detect_fixtures.h"

using detect_test::make_det;

TEST_CASE("iou basics", "[detect]") {
  const sf::det_box a{0, 0, 10, 10}, b{5, 0, 15, 10}, c{20, 20, 30, 30}, empty{3, 3, 3, 3};
  CHECK(sf::det_iou(a, a) == 1.0f);
  CHECK(sf::det_iou(a, b) == Approx(50.0f / 150.0f));
  CHECK(sf::det_iou(a, c) == 0.0f);
  CHECK(sf::det_iou(a, empty) == 0.0f);
  CHECK(sf::det_iou(empty, empty) == 0.0f);
}

TEST_CASE("nms: overlapping boxes of the same class are suppressed", "[detect]") {
  const std::vector<sf::detection> in = {make_det(0, 0, 10, 10, 0.8f, 1, 0), make_det(1, 0, 11, 10, 0.9f, 1, 1),
                                         make_det(50, 50, 60, 60, 0.3f, 1, 2)};
  auto r = sf::det_nms(in, sf::det_nms_options{});
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  CHECK(r.value()[0].source == 1);
  CHECK(r.value()[1].source == 2);
}

TEST_CASE("nms: class-aware keeps other classes, agnostic does not", "[detect]") {
  const std::vector<sf::detection> in = {make_det(0, 0, 10, 10, 0.9f, 0, 0), make_det(1, 0, 11, 10, 0.8f, 2, 1)};
  sf::det_nms_options o;
  auto r = sf::det_nms(in, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 2);
  o.class_agnostic = true;
  r = sf::det_nms(in, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);
  CHECK(r.value()[0].source == 0);
}

TEST_CASE("nms: ties are broken by input order, deterministically", "[detect]") {
  std::vector<sf::detection> in;
  for (uint32_t i = 0; i < 6; ++i) in.push_back(make_det(0, 0, 10, 10, 0.5f, 0, 100 + i));
  in.push_back(make_det(100, 100, 110, 110, 0.5f, 0, 7));
  auto r = sf::det_nms(in, sf::det_nms_options{});
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  CHECK(r.value()[0].source == 100);  // first of the identical boxes
  CHECK(r.value()[1].source == 7);
  for (int rep = 0; rep < 3; ++rep) {
    auto again = sf::det_nms(in, sf::det_nms_options{});
    REQUIRE(again.ok());
    REQUIRE(again.value().size() == 2);
    CHECK(again.value()[0].source == 100);
  }
}

TEST_CASE("nms: IoU equal to the threshold is not suppressed", "[detect]") {
  // Boxes [0,10]x[0,10] and [0,10]x[0,5]: IoU = 50 / 100 = 0.5 exactly.
  const std::vector<sf::detection> in = {make_det(0, 0, 10, 10, 0.9f), make_det(0, 0, 10, 5, 0.8f)};
  sf::det_nms_options o;
  o.iou_threshold = 0.5f;
  auto r = sf::det_nms(in, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 2);
  o.iou_threshold = 0.49f;
  r = sf::det_nms(in, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 1);
}

TEST_CASE("nms: caps on detections and input candidates", "[detect]") {
  std::vector<sf::detection> in;
  for (uint32_t i = 0; i < 50; ++i)
    in.push_back(make_det(float(i) * 20, 0, float(i) * 20 + 10, 10, 0.01f * float(i + 1), 0, i));
  sf::det_nms_options o;
  o.max_detections = 5;
  auto r = sf::det_nms(in, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 5);
  CHECK(r.value()[0].source == 49);
  CHECK(r.value()[4].source == 45);
  o.max_detections = 100;
  o.max_input = 10;
  r = sf::det_nms(in, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 10);
  CHECK(r.value().back().source == 40);
}

TEST_CASE("nms: non-finite candidates are dropped; bad options are errors", "[detect]") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<sf::detection> in = {make_det(0, 0, 10, 10, nan, 0, 0), make_det(0, 0, inf, 10, 0.9f, 0, 1),
                                         make_det(0, 0, 10, 10, 0.5f, 0, 2), make_det(0, 0, 10, 10, inf, 0, 3)};
  auto r = sf::det_nms(in, sf::det_nms_options{});
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);
  CHECK(r.value()[0].source == 2);
  CHECK(sf::det_nms({}, sf::det_nms_options{}).ok());
  sf::det_nms_options o;
  o.iou_threshold = nan;
  CHECK(!sf::det_nms(in, o).ok());
  o.iou_threshold = 1.5f;
  CHECK(!sf::det_nms(in, o).ok());
  o = sf::det_nms_options{};
  o.max_detections = 0;
  CHECK(!sf::det_nms(in, o).ok());
  o = sf::det_nms_options{};
  o.max_input = 0;
  CHECK(!sf::det_nms(in, o).ok());
}
