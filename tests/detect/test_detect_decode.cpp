#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "detect/detect.h"
#include "detect_fixtures.h"

using detect_test::owned_tensor;

namespace {

constexpr int kNano = 416;
constexpr int64_t kNanoAnchors = 52 * 52 + 26 * 26 + 13 * 13;  // 3549

sf::det_decode_options options(int w, int h) {
  sf::det_decode_options o;
  o.input_width = w;
  o.input_height = h;
  return o;
}

// Sets one YOLOX anchor: row = [tx, ty, tw, th, obj, classes...].
void set_anchor(owned_tensor& t, int64_t anchor, float tx, float ty, float tw, float th, float obj, int cls,
                float cls_score) {
  const int64_t ch = t.shape.back();
  float* r = t.data.data() + anchor * ch;
  r[0] = tx;
  r[1] = ty;
  r[2] = tw;
  r[3] = th;
  r[4] = obj;
  r[5 + cls] = cls_score;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("yolox: one strong anchor decodes to its exact box", "[detect]") {
  owned_tensor t({1, kNanoAnchors, 85});
  // Stride 16 grid (26x26) starts after the 52x52 stride-8 grid; cell gx=5, gy=7.
  const int64_t a = 52 * 52 + 7 * 26 + 5;
  set_anchor(t, a, 0.5f, 0.25f, 0.0f, 0.0f, 0.9f, 3, 0.8f);
  // A weak anchor on the stride-32 grid: below the threshold.
  set_anchor(t, kNanoAnchors - 1, 0.0f, 0.0f, 0.0f, 0.0f, 0.2f, 0, 0.5f);

  auto r = sf::det_decode_yolox(t.view(), options(kNano, kNano));
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);
  const sf::detection& d = r.value()[0];
  // cx = (0.5 + 5) * 16 = 88, cy = (0.25 + 7) * 16 = 116, w = h = exp(0) * 16 = 16.
  CHECK(d.box.x0 == 80.0f);
  CHECK(d.box.y0 == 108.0f);
  CHECK(d.box.x1 == 96.0f);
  CHECK(d.box.y1 == 124.0f);
  CHECK(d.score == Approx(0.72f));
  CHECK(d.class_id == 3);
  CHECK(d.class_score == 0.8f);
  CHECK(d.source == uint32_t(a));
}

TEST_CASE("yolox: strides, exp sizes, clipping and objectness-only mode", "[detect]") {
  owned_tensor t({1, kNanoAnchors, 85});
  // Last anchor: stride 32, cell (12, 12); w = exp(ln 2) * 32 = 64, h = 32.
  set_anchor(t, kNanoAnchors - 1, 0.0f, 0.0f, std::log(2.0f), 0.0f, 0.95f, 7, 0.9f);
  // First anchor: stride 8, cell (0, 0), huge tw: clamped exp then clipped to the input.
  set_anchor(t, 0, 0.5f, 0.5f, 1000.0f, 2.0f, 0.9f, 0, 0.1f);

  auto o = options(kNano, kNano);
  auto r = sf::det_decode_yolox(t.view(), o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);  // anchor 0 scores 0.09 < 0.25
  const sf::detection& d = r.value()[0];
  CHECK(d.box.x0 == Approx(384.0f - 32.0f));
  CHECK(d.box.x1 == Approx(416.0f));  // 416 exactly after clipping (384 + 32)
  CHECK(d.box.y0 == Approx(368.0f));
  CHECK(d.box.y1 == Approx(400.0f));

  o.objectness_only = true;
  r = sf::det_decode_yolox(t.view(), o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  CHECK(r.value()[0].score == 0.95f);  // sorted by score
  CHECK(r.value()[0].class_id == 7);
  const sf::detection& big = r.value()[1];
  CHECK(big.score == 0.9f);
  CHECK(big.class_id == 0);
  CHECK(big.class_score == 0.1f);
  CHECK(big.box.x0 == 0.0f);
  CHECK(big.box.x1 == 416.0f);
  CHECK(big.box.y0 == 0.0f);
  CHECK(big.box.y1 == Approx(4.0f + 0.5f * std::exp(2.0f) * 8.0f));
}

TEST_CASE("yolox: anchor count follows the input size; rank 2 accepted", "[detect]") {
  const int64_t a = 80 * 60 + 40 * 30 + 20 * 15;  // 640x480
  owned_tensor t({a, 6});  // one class, no batch dimension
  set_anchor(t, a - 1, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0, 1.0f);  // stride 32, cell (19, 14)
  auto r = sf::det_decode_yolox(t.view(), options(640, 480));
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);
  CHECK(r.value()[0].box.x0 == 19 * 32 - 16);
  CHECK(r.value()[0].box.y0 == 14 * 32 - 16);
}

TEST_CASE("yolox: shape mismatches are errors naming both shapes", "[detect]") {
  auto o = options(kNano, kNano);
  {
    owned_tensor t({1, 3000, 85});
    auto r = sf::det_decode_yolox(t.view(), o);
    REQUIRE(!r.ok());
    CHECK(r.err().code == sf::status::invalid_argument);
    CHECK(contains(r.err().message, "[1, 3000, 85]"));
    CHECK(contains(r.err().message, "3549"));
    CHECK(contains(r.err().message, "416x416"));
  }
  {
    owned_tensor t({1, kNanoAnchors, 85});
    auto o640 = options(640, 640);
    auto r = sf::det_decode_yolox(t.view(), o640);
    REQUIRE(!r.ok());
    CHECK(contains(r.err().message, "8400"));
  }
  {
    owned_tensor t({2, kNanoAnchors, 85});
    auto r = sf::det_decode_yolox(t.view(), o);
    REQUIRE(!r.ok());
    CHECK(contains(r.err().message, "batch"));
  }
  {
    owned_tensor t({1, kNanoAnchors, 85});
    sf::det_tensor v = t.view();
    v.size -= 1;  // shape promises more floats than there are
    auto r = sf::det_decode_yolox(v, o);
    REQUIRE(!r.ok());
    CHECK(r.err().code == sf::status::invalid_argument);
    v = t.view();
    v.data = nullptr;
    CHECK(!sf::det_decode_yolox(v, o).ok());
    v = t.view();
    v.shape = {1, -1, 85};
    CHECK(!sf::det_decode_yolox(v, o).ok());
    v.shape = {kNanoAnchors * 85};
    CHECK(!sf::det_decode_yolox(v, o).ok());
    v.shape = {};
    CHECK(!sf::det_decode_yolox(v, o).ok());
  }
  {
    owned_tensor t({1, kNanoAnchors, 85});
    auto o2 = o;
    o2.num_classes = 20;
    auto r = sf::det_decode_yolox(t.view(), o2);
    REQUIRE(!r.ok());
    CHECK(contains(r.err().message, "25"));
    o2 = o;
    o2.input_width = 0;
    CHECK(!sf::det_decode_yolox(t.view(), o2).ok());
    o2 = o;
    o2.strides = {};
    CHECK(!sf::det_decode_yolox(t.view(), o2).ok());
    o2 = o;
    o2.score_threshold = std::nanf("");
    CHECK(!sf::det_decode_yolox(t.view(), o2).ok());
    o2 = o;
    o2.max_candidates = 0;
    CHECK(!sf::det_decode_yolox(t.view(), o2).ok());
  }
}

TEST_CASE("decoders keep the best max_candidates, ties by anchor index", "[detect]") {
  owned_tensor t({1, 6, 5});  // no classes: score = objectness
  const float obj[6] = {0.5f, 0.9f, 0.7f, 0.9f, 0.1f, 0.7f};
  for (int a = 0; a < 6; ++a) {
    float* r = t.data.data() + a * 5;
    r[0] = 50;
    r[1] = 50;
    r[2] = 10;
    r[3] = 10;
    r[4] = obj[a];
  }
  auto o = options(100, 100);
  o.max_candidates = 4;
  auto r = sf::det_decode_yolo(t.view(), sf::det_yolo_layout::boxes_objectness_classes, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 4);
  CHECK(r.value()[0].source == 1);
  CHECK(r.value()[1].source == 3);
  CHECK(r.value()[2].source == 2);
  CHECK(r.value()[3].source == 5);
  CHECK(r.value()[0].class_id == -1);
}

TEST_CASE("yolo: decoded [1, A, 5+C] boxes", "[detect]") {
  owned_tensor t({1, 3, 7});
  float* r = t.data.data() + 1 * 7;
  const float row[7] = {100, 50, 20, 10, 0.9f, 0.1f, 0.7f};
  std::copy(row, row + 7, r);
  auto o = options(320, 320);
  auto res = sf::det_decode_yolo(t.view(), sf::det_yolo_layout::boxes_objectness_classes, o);
  REQUIRE(res.ok());
  REQUIRE(res.value().size() == 1);
  const sf::detection& d = res.value()[0];
  CHECK(d.box.x0 == 90.0f);
  CHECK(d.box.y0 == 45.0f);
  CHECK(d.box.x1 == 110.0f);
  CHECK(d.box.y1 == 55.0f);
  CHECK(d.class_id == 1);
  CHECK(d.score == Approx(0.63f));
  CHECK(d.source == 1);

  o.num_classes = 3;
  res = sf::det_decode_yolo(t.view(), sf::det_yolo_layout::boxes_objectness_classes, o);
  REQUIRE(!res.ok());
  CHECK(contains(res.err().message, "[1, A, 8]"));
}

TEST_CASE("yolo: v8 transposed [1, 4+C, A] without objectness", "[detect]") {
  const int64_t a = 4, c = 2;
  owned_tensor t({1, 4 + c, a});
  auto at = [&](int64_t ch, int64_t anchor) -> float& { return t.data[size_t(ch * a + anchor)]; };
  at(0, 2) = 30;
  at(1, 2) = 40;
  at(2, 2) = 10;
  at(3, 2) = 20;
  at(4, 2) = 0.2f;
  at(5, 2) = 0.6f;
  at(4, 0) = 0.1f;  // below threshold
  auto o = options(64, 64);
  auto r = sf::det_decode_yolo(t.view(), sf::det_yolo_layout::v8_transposed, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);
  const sf::detection& d = r.value()[0];
  CHECK(d.box.x0 == 25.0f);
  CHECK(d.box.y0 == 30.0f);
  CHECK(d.box.x1 == 35.0f);
  CHECK(d.box.y1 == 50.0f);
  CHECK(d.class_id == 1);
  CHECK(d.score == 0.6f);
  CHECK(d.source == 2);

  // A [1, A, 4+C] tensor passed as v8 is caught when num_classes is given.
  owned_tensor swapped({1, 8400, 84});
  o.num_classes = 80;
  auto e = sf::det_decode_yolo(swapped.view(), sf::det_yolo_layout::v8_transposed, o);
  REQUIRE(!e.ok());
  CHECK(contains(e.err().message, "[1, 8400, 84]"));
  CHECK(contains(e.err().message, "[1, 84, A]"));
  // v8 needs at least one class.
  owned_tensor four({1, 4, 10});
  o.num_classes = -1;
  CHECK(!sf::det_decode_yolo(four.view(), sf::det_yolo_layout::v8_transposed, o).ok());
  CHECK(!sf::det_decode_yolo(t.view(), static_cast<sf::det_yolo_layout>('?'), o).ok());
}

TEST_CASE("centernet: peaks, offsets and sizes", "[detect]") {
  const int64_t c = 2, h = 16, w = 16;
  owned_tensor heat({1, c, h, w}), size({1, 2, h, w}), off({1, 2, h, w});
  auto hm = [&](int64_t k, int64_t y, int64_t x) -> float& { return heat.data[size_t((k * h + y) * w + x)]; };
  // Class 1 peak at (y=5, x=7) with a lower neighbour that must not become a peak.
  hm(1, 5, 7) = 0.8f;
  hm(1, 5, 8) = 0.5f;
  hm(1, 6, 7) = 0.4f;
  const size_t i = 5 * w + 7;
  size.data[i] = 4.0f;                 // w in cells
  size.data[size_t(h * w) + i] = 2.0f;  // h in cells
  off.data[i] = 0.5f;
  off.data[size_t(h * w) + i] = 0.25f;
  // Class 0 plateau of two equal cells: only the first in raster order is a peak.
  hm(0, 2, 2) = 0.6f;
  hm(0, 2, 3) = 0.6f;
  for (size_t k : {size_t(2 * w + 2), size_t(2 * w + 3)}) {
    size.data[k] = 2.0f;
    size.data[size_t(h * w) + k] = 2.0f;
  }

  auto o = options(64, 64);
  auto r = sf::det_decode_centernet(heat.view(), size.view(), off.view(), 4, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  const sf::detection& d = r.value()[0];
  // cx = (7 + 0.5) * 4 = 30, cy = (5 + 0.25) * 4 = 21, w = 16, h = 8.
  CHECK(d.class_id == 1);
  CHECK(d.score == 0.8f);
  CHECK(d.box.x0 == 22.0f);
  CHECK(d.box.y0 == 17.0f);
  CHECK(d.box.x1 == 38.0f);
  CHECK(d.box.y1 == 25.0f);
  CHECK(d.source == uint32_t(1 * h * w + 5 * w + 7));
  CHECK(r.value()[1].class_id == 0);
  CHECK(r.value()[1].source == uint32_t(2 * w + 2));

  // Class-agnostic: peaks of the per-cell max over classes; a class-0 cell next to the class-1
  // peak with a higher value now wins the neighbourhood.
  hm(0, 5, 6) = 0.85f;
  size.data[5 * w + 6] = 2.0f;
  size.data[size_t(h * w) + 5 * w + 6] = 2.0f;
  o.objectness_only = true;
  r = sf::det_decode_centernet(heat.view(), size.view(), off.view(), 4, o);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);  // (5,6) class 0 and the plateau at (2,2); (5,7) is suppressed
  CHECK(r.value()[0].score == 0.85f);
  CHECK(r.value()[0].class_id == 0);
  CHECK(r.value()[1].source == uint32_t(2 * w + 2));
  o.objectness_only = false;
  r = sf::det_decode_centernet(heat.view(), size.view(), off.view(), 4, o);
  REQUIRE(r.ok());
  CHECK(r.value().size() == 3);  // per class, the class-1 peak survives
}

TEST_CASE("centernet: shape mismatches are errors", "[detect]") {
  owned_tensor heat({3, 16, 16}), size({2, 16, 16}), off({2, 16, 16});
  auto o = options(64, 64);
  REQUIRE(sf::det_decode_centernet(heat.view(), size.view(), off.view(), 4, o).ok());
  owned_tensor bad_size({2, 15, 16});
  auto r = sf::det_decode_centernet(heat.view(), bad_size.view(), off.view(), 4, o);
  REQUIRE(!r.ok());
  CHECK(contains(r.err().message, "[2, 16, 16]"));
  owned_tensor bad_off({3, 16, 16});
  CHECK(!sf::det_decode_centernet(heat.view(), size.view(), bad_off.view(), 4, o).ok());
  r = sf::det_decode_centernet(heat.view(), size.view(), off.view(), 8, o);  // grid should be 8x8
  REQUIRE(!r.ok());
  CHECK(contains(r.err().message, "16x16"));
  CHECK(!sf::det_decode_centernet(heat.view(), size.view(), off.view(), 0, o).ok());
  auto o2 = options(62, 64);  // 62 / 4 = 15.5: 15 or 16 cells both accepted
  CHECK(sf::det_decode_centernet(heat.view(), size.view(), off.view(), 4, o2).ok());
  o2.num_classes = 80;
  CHECK(!sf::det_decode_centernet(heat.view(), size.view(), off.view(), 4, o2).ok());
  owned_tensor batch2({2, 3, 16, 16});
  CHECK(!sf::det_decode_centernet(batch2.view(), size.view(), off.view(), 4, o).ok());
}
