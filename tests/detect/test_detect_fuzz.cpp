// Garbage in, never a crash: every decoder, NMS and proposals on random floats (NaN, Inf, huge,
// denormal) and random shapes. Results must be ok or an error; boxes always finite and inside.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "detect/detect.h"
#include "detect_fixtures.h"

using detect_test::box_inside;
using detect_test::owned_tensor;
using detect_test::rng;

namespace {

void fill(owned_tensor& t, rng& g) {
  for (float& v : t.data) v = g.garbage();
}

// Checks a decoder result and pushes it through NMS and proposals.
void check_decoded(const sf::result<std::vector<sf::detection>>& r, const sf::det_decode_options& o, rng& g) {
  if (!r.ok()) {
    CHECK(!r.err().message.empty());
    return;
  }
  const std::vector<sf::detection>& d = r.value();
  REQUIRE(d.size() <= o.max_candidates);
  for (size_t i = 0; i < d.size(); ++i) {
    REQUIRE(box_inside(d[i].box, float(o.input_width), float(o.input_height)));
    REQUIRE(std::isfinite(d[i].score));
    REQUIRE(d[i].score >= o.score_threshold);
    if (i) REQUIRE(d[i - 1].score >= d[i].score);
  }
  sf::det_nms_options n;
  n.class_agnostic = (g.next() & 1) != 0;
  n.iou_threshold = g.uniform(0.0f, 1.0f);
  n.max_detections = 1 + g.below(50);
  auto k = sf::det_nms(d, n);
  REQUIRE(k.ok());
  REQUIRE(k.value().size() <= n.max_detections);
  sf::det_proposal_options p;
  p.frame_width = 1 + int(g.below(2000));
  p.frame_height = 1 + int(g.below(2000));
  p.map.scale = g.uniform(0.01f, 4.0f);
  p.map.pad_x = g.uniform(-50.0f, 50.0f);
  p.map.pad_y = g.uniform(-50.0f, 50.0f);
  p.min_side = g.uniform(0.0f, 20.0f);
  p.max_regions = 2 + g.below(6);
  auto pr = sf::det_proposals(k.value(), p);
  REQUIRE(pr.ok());
  REQUIRE(pr.value().size() >= 2);
  REQUIRE(pr.value().size() <= p.max_regions);
  CHECK(pr.value()[0].kind == sf::det_region_kind::full_frame);
  CHECK(pr.value()[1].kind == sf::det_region_kind::centre_crop);
  for (const sf::det_region& reg : pr.value())
    REQUIRE(box_inside(reg.box, float(p.frame_width), float(p.frame_height)));
}

sf::det_decode_options random_options(rng& g, int w, int h) {
  sf::det_decode_options o;
  o.input_width = w;
  o.input_height = h;
  o.score_threshold = (g.next() & 3) == 0 ? -1e30f : g.uniform(-1.0f, 1.0f);
  o.max_candidates = 1 + g.below(2000);
  o.objectness_only = (g.next() & 1) != 0;
  return o;
}

std::vector<int64_t> random_shape(rng& g, size_t max_rank) {
  std::vector<int64_t> s(1 + g.below(max_rank));
  for (int64_t& d : s) d = int64_t(g.below(40));  // 0 allowed: must be an error
  return s;
}

}  // namespace

TEST_CASE("fuzz: yolox decoder on garbage", "[detect]") {
  rng g(11);
  for (int it = 0; it < 200; ++it) {
    const int w = 32 * int(1 + g.below(3)), h = 32 * int(1 + g.below(3));
    const int64_t a = (w / 8) * (h / 8) + (w / 16) * (h / 16) + (w / 32) * (h / 32);
    const int64_t c = 5 + int64_t(g.below(4));
    owned_tensor t({1, a, c});
    fill(t, g);
    const auto o = random_options(g, w, h);
    check_decoded(sf::det_decode_yolox(t.view(), o), o, g);
  }
  // The real YOLOX-Nano size, a few times.
  for (int it = 0; it < 3; ++it) {
    owned_tensor t({1, 3549, 85});
    fill(t, g);
    const auto o = random_options(g, 416, 416);
    check_decoded(sf::det_decode_yolox(t.view(), o), o, g);
  }
  // Random shapes against a fixed input: ok only when the shape happens to fit.
  for (int it = 0; it < 300; ++it) {
    owned_tensor t(random_shape(g, 4));
    fill(t, g);
    const auto o = random_options(g, 32, 32);
    check_decoded(sf::det_decode_yolox(t.view(), o), o, g);
  }
}

TEST_CASE("fuzz: generic yolo decoders on garbage", "[detect]") {
  rng g(22);
  for (int it = 0; it < 400; ++it) {
    const auto layout = (it & 1) ? sf::det_yolo_layout::v8_transposed : sf::det_yolo_layout::boxes_objectness_classes;
    owned_tensor t((it % 3) == 0 ? random_shape(g, 4)
                                 : std::vector<int64_t>{1, int64_t(1 + g.below(300)), int64_t(4 + g.below(8))});
    fill(t, g);
    const auto o = random_options(g, 1 + int(g.below(1000)), 1 + int(g.below(1000)));
    check_decoded(sf::det_decode_yolo(t.view(), layout, o), o, g);
  }
}

TEST_CASE("fuzz: centernet decoder on garbage", "[detect]") {
  rng g(33);
  for (int it = 0; it < 300; ++it) {
    const int stride = 1 << g.below(4);
    const int64_t gh = int64_t(1 + g.below(24)), gw = int64_t(1 + g.below(24)), c = int64_t(1 + g.below(4));
    const bool bad = (it % 4) == 0;
    owned_tensor heat(bad ? random_shape(g, 4) : std::vector<int64_t>{c, gh, gw});
    owned_tensor size(bad && (g.next() & 1) ? random_shape(g, 4) : std::vector<int64_t>{2, gh, gw});
    owned_tensor off(std::vector<int64_t>{1, 2, gh, gw});
    fill(heat, g);
    fill(size, g);
    fill(off, g);
    const auto o = random_options(g, int(gw) * stride, int(gh) * stride);
    check_decoded(sf::det_decode_centernet(heat.view(), size.view(), off.view(), stride, o), o, g);
  }
}

TEST_CASE("fuzz: nms and proposals on garbage detections", "[detect]") {
  rng g(44);
  for (int it = 0; it < 300; ++it) {
    std::vector<sf::detection> d(g.below(200));
    for (size_t i = 0; i < d.size(); ++i) {
      d[i].box = sf::det_box{g.garbage(), g.garbage(), g.garbage(), g.garbage()};
      d[i].score = g.garbage();
      d[i].class_score = g.garbage();
      d[i].class_id = int32_t(g.below(3)) - 1;
      d[i].source = uint32_t(i);
    }
    sf::det_nms_options n;
    n.class_agnostic = (it & 1) != 0;
    auto k = sf::det_nms(d, n);
    REQUIRE(k.ok());
    for (const sf::detection& x : k.value()) REQUIRE(std::isfinite(x.score));
    sf::det_proposal_options p;
    p.frame_width = 1 + int(g.below(2000));
    p.frame_height = 1 + int(g.below(2000));
    p.max_regions = 2 + g.below(6);
    auto pr = sf::det_proposals(d, p);
    REQUIRE(pr.ok());
    REQUIRE(pr.value().size() <= p.max_regions);
    for (const sf::det_region& reg : pr.value())
      REQUIRE(box_inside(reg.box, float(p.frame_width), float(p.frame_height)));
  }
}
