// preprocess(): letterbox/stretch geometry, box mapping, exact values on small synthetic
// frames (area/bilinear, constant images, normalisation, channel order, layouts), the
// embedder crop helper, and every error path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/resample_kernels.h"
#include "image_fixtures.h"

using namespace sf::image;
using sf_test_image::close_rel;
using sf_test_image::make_frame;
using sf_test_image::test_frame;

namespace {

preprocess_options raw_options(int w, int h, resize_mode m = resize_mode::stretch) {
  preprocess_options o;
  o.width = w;
  o.height = h;
  o.mode = m;
  o.scale = 1.0f;  // tensor values are pixel values
  return o;
}

// Tensor value at (x, y, c) for either layout.
float at(const std::vector<float>& t, const preprocess_options& o, int x, int y, int c) {
  if (o.layout == tensor_layout::nchw) return t[size_t(c) * size_t(o.width * o.height) + size_t(y * o.width + x)];
  return t[(size_t(y) * size_t(o.width) + size_t(x)) * 3 + size_t(c)];
}

std::vector<float> run(const frame_view& f, const preprocess_options& o, geometry* g = nullptr,
                       const kernels::table& t = kernels::scalar()) {
  std::vector<float> out(tensor_size(o), -1e9f);
  auto r = kernels::preprocess_with(t, f, o, out.data(), out.size());
  REQUIRE(r.ok());
  if (g) *g = r.value();
  return out;
}

}  // namespace

TEST_CASE("letterbox geometry for 1280x720 into 416x416", "[image]") {
  test_frame f = make_frame(1280, 720, pixel_format::rgba, [](int, int, int c) { return uint8_t(c * 50); });
  preprocess_options o = raw_options(416, 416, resize_mode::letterbox);
  o.pad_value = 114.0f;
  geometry g;
  std::vector<float> t = run(f.view(), o, &g);
  CHECK(g.content_width == 416);
  CHECK(g.content_height == 234);
  CHECK(g.pad_x == 0);
  CHECK(g.pad_y == 91);
  CHECK(g.scale_x == Approx(0.325f));
  CHECK(g.scale_y == Approx(0.325f));
  CHECK(g.model_width == 416);
  // Padding rows above and below, content in between.
  for (int c = 0; c < 3; ++c) {
    CHECK(at(t, o, 0, 0, c) == 114.0f);
    CHECK(at(t, o, 415, 90, c) == 114.0f);
    CHECK(at(t, o, 7, 91, c) == Approx(c * 50.0f));
    CHECK(at(t, o, 415, 324, c) == Approx(c * 50.0f));
    CHECK(at(t, o, 3, 325, c) == 114.0f);
    CHECK(at(t, o, 415, 415, c) == 114.0f);
  }

  // YOLOX: padding at the bottom/right only.
  o.anchor = pad_anchor::top_left;
  t = run(f.view(), o, &g);
  CHECK(g.pad_x == 0);
  CHECK(g.pad_y == 0);
  CHECK(at(t, o, 0, 0, 2) == Approx(100.0f));
  CHECK(at(t, o, 0, 233, 1) == Approx(50.0f));
  CHECK(at(t, o, 0, 234, 1) == 114.0f);

  // Portrait frame: padding left and right.
  test_frame p = make_frame(300, 600, pixel_format::rgb, [](int, int, int) { return uint8_t(9); });
  t = run(p.view(), raw_options(200, 200, resize_mode::letterbox), &g);
  CHECK(g.content_width == 100);
  CHECK(g.content_height == 200);
  CHECK(g.pad_x == 50);
  CHECK(g.pad_y == 0);
}

TEST_CASE("box mapping round trip", "[image]") {
  test_frame f = make_frame(1280, 720, pixel_format::rgba, [](int, int, int) { return uint8_t(1); });
  for (auto mode : {resize_mode::letterbox, resize_mode::stretch}) {
    for (auto anchor : {pad_anchor::center, pad_anchor::top_left}) {
      preprocess_options o = raw_options(416, 320, mode);
      o.anchor = anchor;
      o.use_crop = true;
      o.crop = box{100.5f, 40.0f, 1000.0f, 700.0f};
      geometry g;
      run(f.view(), o, &g);
      const box src{200.0f, 100.0f, 640.5f, 555.0f};
      const box m = to_model(g, src);
      const box back = to_source(g, m);
      CHECK(back.x0 == Approx(src.x0).margin(1e-3));
      CHECK(back.y0 == Approx(src.y0).margin(1e-3));
      CHECK(back.x1 == Approx(src.x1).margin(1e-3));
      CHECK(back.y1 == Approx(src.y1).margin(1e-3));
      // The crop's corners land on the content's corners.
      const box c = to_model(g, o.crop);
      CHECK(c.x0 == Approx(g.pad_x));
      CHECK(c.y0 == Approx(g.pad_y));
      CHECK(c.x1 == Approx(g.pad_x + g.content_width));
      CHECK(c.y1 == Approx(g.pad_y + g.content_height));
    }
  }
  // to_source clamps to the crop (a detection spilling into the padding).
  preprocess_options o = raw_options(416, 416, resize_mode::letterbox);
  geometry g;
  run(f.view(), o, &g);
  const box s = to_source(g, box{-10.0f, 0.0f, 500.0f, 416.0f});
  CHECK(s.x0 == 0.0f);
  CHECK(s.y0 == 0.0f);
  CHECK(s.x1 == 1280.0f);
  CHECK(s.y1 == 720.0f);
  // Model centre maps to the frame centre.
  const box mid = to_source(g, box{208.0f, 208.0f, 208.0f, 208.0f});
  CHECK(mid.x0 == Approx(640.0f));
  CHECK(mid.y0 == Approx(360.0f));
}

TEST_CASE("downscale by 2, 3 and 4 gives block means", "[image]") {
  for (int k : {2, 3, 4}) {
    for (auto rs : {resample_mode::automatic, resample_mode::area}) {
      const int n = 2 * k;
      auto px = [](int x, int y, int c) { return uint8_t(x * 17 + y * 29 + c * 3); };
      test_frame f = make_frame(n, n, pixel_format::rgb, px);
      preprocess_options o = raw_options(2, 2);
      o.resample = rs;
      std::vector<float> t = run(f.view(), o);
      for (int by = 0; by < 2; ++by)
        for (int bx = 0; bx < 2; ++bx)
          for (int c = 0; c < 3; ++c) {
            double s = 0;
            for (int y = 0; y < k; ++y)
              for (int x = 0; x < k; ++x) s += px(bx * k + x, by * k + y, c);
            INFO("k=" << k << " block " << bx << "," << by << " c=" << c);
            // Q15 row weights (1/3 is not exact): within 0.01 of a level, see the
            // double-reference test below.
            CHECK(at(t, o, bx, by, c) == Approx(s / (k * k)).epsilon(1e-5).margin(0.01));
          }
    }
  }
}

TEST_CASE("bilinear upscale is pixel-centre aligned", "[image]") {
  test_frame f = make_frame(2, 1, pixel_format::rgba, [](int x, int, int) { return uint8_t(x * 100); });
  preprocess_options o = raw_options(4, 1);
  std::vector<float> t = run(f.view(), o);
  CHECK(at(t, o, 0, 0, 0) == Approx(0.0f).margin(1e-5));
  CHECK(at(t, o, 1, 0, 0) == Approx(25.0f));
  CHECK(at(t, o, 2, 0, 0) == Approx(75.0f));
  CHECK(at(t, o, 3, 0, 0) == Approx(100.0f));
  // Same size: identity.
  test_frame g = make_frame(7, 5, pixel_format::rgb, [](int x, int y, int c) { return uint8_t(x * 31 + y * 7 + c); });
  o = raw_options(7, 5);
  t = run(g.view(), o);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) CHECK(at(t, o, x, y, c) == float(x * 31 + y * 7 + c));
}

TEST_CASE("constant frames stay constant through any resize", "[image]") {
  const uint8_t rgb[3] = {77, 33, 200};
  sf_test_image::rng r;
  for (int i = 0; i < 60; ++i) {
    const auto fmt = i % 2 ? pixel_format::rgb : pixel_format::rgba;
    const int fw = r.range(1, 300), fh = r.range(1, 300);
    test_frame f = make_frame(fw, fh, fmt, [&](int, int, int c) { return c < 3 ? rgb[c] : uint8_t(i); }, i % 3);
    preprocess_options o = raw_options(r.range(1, 120), r.range(1, 120), i % 3 ? resize_mode::letterbox : resize_mode::stretch);
    o.layout = i % 4 < 2 ? tensor_layout::nchw : tensor_layout::nhwc;
    o.resample = resample_mode(std::vector<char>{'a', 'b', 'r'}[size_t(i % 3)]);
    if (i % 5 == 0) {
      o.use_crop = true;
      o.crop = box{r.uniform(-5.0f, fw * 0.5f), r.uniform(-5.0f, fh * 0.5f), r.uniform(fw * 0.5f + 0.5f, fw + 5.0f),
                   r.uniform(fh * 0.5f + 0.5f, fh + 5.0f)};
    }
    for (const kernels::table* t : kernels::available()) {
      geometry g;
      std::vector<float> out = run(f.view(), o, &g, *t);
      for (int y = g.pad_y; y < g.pad_y + g.content_height; ++y)
        for (int x = g.pad_x; x < g.pad_x + g.content_width; ++x)
          for (int c = 0; c < 3; ++c) {
            INFO("case " << i << " table " << t->name << " " << fw << "x" << fh << " -> " << o.width << "x" << o.height);
            if (!close_rel(at(out, o, x, y, c), float(rgb[c]), 1e-5f)) FAIL("pixel " << x << "," << y << " c" << c);
          }
    }
  }
}

TEST_CASE("normalisation, channel order and layouts", "[image]") {
  test_frame f = make_frame(1, 1, pixel_format::rgba, [](int, int, int c) { return uint8_t(std::vector<int>{255, 0, 128, 3}[size_t(c)]); });
  preprocess_options o = imagenet_options(3);
  std::vector<float> t = run(f.view(), o);
  const float want[3] = {(1.0f - 0.485f) / 0.229f, (0.0f - 0.456f) / 0.224f, (128.0f / 255.0f - 0.406f) / 0.225f};
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) CHECK(close_rel(at(t, o, x, y, c), want[c]));

  // BGR: tensor channel 0 is blue; mean/std follow the tensor's channel order.
  o.order = channel_order::bgr;
  t = run(f.view(), o);
  CHECK(close_rel(at(t, o, 0, 0, 0), (128.0f / 255.0f - 0.485f) / 0.229f));
  CHECK(close_rel(at(t, o, 0, 0, 2), (1.0f - 0.406f) / 0.225f));

  // YOLOX preset: raw BGR values, top-left padding of 114.
  test_frame w = make_frame(4, 2, pixel_format::rgb, [](int, int, int c) { return uint8_t(10 + c); });
  preprocess_options y = yolox_options(8);
  geometry g;
  t = run(w.view(), y, &g);
  CHECK(g.pad_y == 0);
  CHECK(g.content_height == 4);
  CHECK(at(t, y, 0, 0, 0) == Approx(12.0f));
  CHECK(at(t, y, 0, 0, 2) == Approx(10.0f));
  CHECK(at(t, y, 0, 7, 1) == 114.0f);

  // NHWC holds the same values as NCHW, transposed; padding normalised like pixels.
  test_frame q = make_frame(37, 23, pixel_format::rgba, [](int x, int y, int c) { return uint8_t(x * 7 + y * 13 + c * 40); });
  preprocess_options a = imagenet_options(29);
  a.mode = resize_mode::letterbox;
  a.pad_value = 0.0f;
  preprocess_options b = a;
  b.layout = tensor_layout::nhwc;
  std::vector<float> ta = run(q.view(), a), tb = run(q.view(), b);
  for (int yy = 0; yy < 29; ++yy)
    for (int x = 0; x < 29; ++x)
      for (int c = 0; c < 3; ++c) REQUIRE(at(ta, a, x, yy, c) == at(tb, b, x, yy, c));
  CHECK(close_rel(at(ta, a, 0, 0, 1), -0.456f / 0.224f));
}

TEST_CASE("alpha and stride padding do not leak into the tensor", "[image]") {
  auto px = [](int x, int y, int c) { return uint8_t(c == 3 ? (x * y) & 255 : x * 5 + y * 3 + c * 60); };
  test_frame a = make_frame(45, 31, pixel_format::rgba, px);
  test_frame b = make_frame(45, 31, pixel_format::rgb, px, 13);
  preprocess_options o = raw_options(19, 16, resize_mode::letterbox);
  for (const kernels::table* t : kernels::available()) {
    std::vector<float> ta = run(a.view(), o, nullptr, *t), tb = run(b.view(), o, nullptr, *t);
    for (size_t i = 0; i < ta.size(); ++i) REQUIRE(close_rel(ta[i], tb[i], 1e-5f));
  }
}

TEST_CASE("crops", "[image]") {
  auto px = [](int x, int y, int c) { return uint8_t((x * 3 + y * 5 + c * 11) & 255); };
  test_frame f = make_frame(60, 40, pixel_format::rgb, px);
  // An integer crop at scale 1 copies pixels.
  preprocess_options o = raw_options(10, 8);
  o.use_crop = true;
  o.crop = box{20.0f, 10.0f, 30.0f, 18.0f};
  geometry g;
  std::vector<float> t = run(f.view(), o, &g);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 10; ++x)
      for (int c = 0; c < 3; ++c) REQUIRE(at(t, o, x, y, c) == float(px(20 + x, 10 + y, c)));
  // A crop hanging outside is clamped.
  o.crop = box{-10.0f, -5.0f, 10.0f, 8.0f};
  t = run(f.view(), o, &g);
  CHECK(g.crop.x0 == 0.0f);
  CHECK(g.crop.y0 == 0.0f);
  CHECK(g.crop.x1 == 10.0f);
  CHECK(g.crop.y1 == 8.0f);
  CHECK(at(t, o, 9, 7, 2) == float(px(9, 7, 2)));

  // expand_box: margin then square, centred.
  box e = expand_box(box{100, 100, 200, 150}, crop_options{0.1f, true}, 1280, 720);
  CHECK(e.x0 == Approx(90.0f));
  CHECK(e.x1 == Approx(210.0f));
  CHECK(e.y0 == Approx(65.0f));
  CHECK(e.y1 == Approx(185.0f));
  // Near an edge the square moves inside the frame instead of shrinking.
  e = expand_box(box{0, 0, 50, 20}, crop_options{0.0f, true}, 1280, 720);
  CHECK(e.x0 == 0.0f);
  CHECK(e.y0 == 0.0f);
  CHECK(e.x1 == Approx(50.0f));
  CHECK(e.y1 == Approx(50.0f));
  // Larger than the frame: clamped.
  e = expand_box(box{0, 0, 60, 10}, crop_options{0.5f, true}, 60, 40);
  CHECK(e.x0 == 0.0f);
  CHECK(e.x1 == 60.0f);
  CHECK(e.y0 == 0.0f);
  CHECK(e.y1 == 40.0f);

  // preprocess_crop == preprocess with the expanded crop.
  preprocess_options im = imagenet_options(24);
  std::vector<float> t1(tensor_size(im)), t2(tensor_size(im));
  auto r1 = preprocess_crop(f.view(), box{12, 8, 30, 20}, crop_options{0.2f, true}, im, t1.data(), t1.size());
  REQUIRE(r1.ok());
  preprocess_options im2 = im;
  im2.use_crop = true;
  im2.crop = expand_box(box{12, 8, 30, 20}, crop_options{0.2f, true}, 60, 40);
  auto r2 = preprocess(f.view(), im2, t2.data(), t2.size());
  REQUIRE(r2.ok());
  CHECK(t1 == t2);
  CHECK(r1.value().crop.x1 - r1.value().crop.x0 == Approx(r1.value().crop.y1 - r1.value().crop.y0));
}

TEST_CASE("preprocess errors", "[image]") {
  test_frame f = make_frame(64, 48, pixel_format::rgba, [](int, int, int) { return uint8_t(5); });
  preprocess_options o = raw_options(32, 32);
  std::vector<float> out(tensor_size(o));
  auto expect = [&](const frame_view& v, const preprocess_options& opt, sf::status s, size_t len = 0) {
    auto r = preprocess(v, opt, out.data(), len ? len : out.size());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == s);
    CHECK(r.err().message.find("image::preprocess") != std::string::npos);
  };
  frame_view v = f.view();
  frame_view bad = v;
  bad.width = 0;
  expect(bad, o, sf::status::invalid_argument);
  bad = v;
  bad.height = -3;
  expect(bad, o, sf::status::invalid_argument);
  bad = v;
  bad.stride = 64 * 4 - 1;
  expect(bad, o, sf::status::invalid_argument);
  bad = v;
  bad.size = v.size - 1;
  expect(bad, o, sf::status::invalid_argument);
  bad = v;
  bad.data = nullptr;
  expect(bad, o, sf::status::invalid_argument);
  bad = v;
  bad.format = pixel_format('x');
  expect(bad, o, sf::status::invalid_argument);
  bad = v;
  bad.width = 20000;
  expect(bad, o, sf::status::limit_exceeded);
  bad = v;
  bad.width = 12000;
  bad.height = 12000;  // 144 Mpx
  expect(bad, o, sf::status::limit_exceeded);

  preprocess_options p = o;
  p.width = 0;
  expect(v, p, sf::status::invalid_argument);
  p = o;
  p.height = 17000;
  expect(v, p, sf::status::limit_exceeded);
  p = o;
  p.std[1] = 0.0f;
  expect(v, p, sf::status::invalid_argument);
  p = o;
  p.mean[2] = NAN;
  expect(v, p, sf::status::invalid_argument);
  p = o;
  p.layout = tensor_layout('?');
  expect(v, p, sf::status::invalid_argument);
  expect(v, o, sf::status::invalid_argument, out.size() - 1);
  CHECK_FALSE(preprocess(v, o, nullptr, out.size()).ok());

  p = o;
  p.use_crop = true;
  p.crop = box{100, 10, 120, 20};  // right of the frame
  expect(v, p, sf::status::invalid_argument);
  p.crop = box{10, 10, 10, 20};  // empty
  expect(v, p, sf::status::invalid_argument);
  p.crop = box{30, 10, 20, 20};  // inverted
  expect(v, p, sf::status::invalid_argument);
  p.crop = box{0, NAN, 20, 20};
  expect(v, p, sf::status::invalid_argument);
  auto r = preprocess_crop(v, box{-50, -50, -10, -10}, crop_options{0.1f, true}, o, out.data(), out.size());
  CHECK_FALSE(r.ok());
}

namespace {

// Exact area-average weights of one axis in double: output o covers
// [c0 + o * s, c0 + (o + 1) * s), s = (c1 - c0) / out_len; frame pixel i is weighted by its
// overlap with that footprint, divided by s. Written independently of make_taps.
std::vector<std::vector<std::pair<int, double>>> exact_area(double c0, double c1, int out_len) {
  std::vector<std::vector<std::pair<int, double>>> w;
  w.resize(size_t(out_len));
  const double s = (c1 - c0) / out_len;
  for (int o = 0; o < out_len; ++o) {
    const double a = c0 + o * s, b = c0 + (o + 1) * s;
    for (int i = int(std::floor(a)); i < int(std::ceil(b)); ++i) {
      const double cover = std::min(b, i + 1.0) - std::max(a, double(i));
      if (cover > 0) w[size_t(o)].push_back({i, cover / s});
    }
  }
  return w;
}

}  // namespace

// The integer vertical pass (Q15 weights) and the float horizontal pass against the exact
// area average computed in double, every table. Tolerance: 0.025 of one 8-bit level
// (0.025 / 255 of the range), far inside the 1/255 step the models see. It is a bound, not a
// fit: each Q15 weight is within 1/32768 of the exact one and a row's errors sum to 0, so the
// vertical error is at most 127.5 * K / 32768 levels (K <= 6 rows per output here: 0.0234);
// the float horizontal pass adds ~1e-5. Seen: 0.005.
TEST_CASE("area averaging matches an exact double-precision reference", "[image]") {
  constexpr double kTol = 0.025;  // pixel levels (tensor values with scale 1, mean 0, std 1)
  struct cfg {
    int fw, fh, ow, oh;
    box crop;
    pixel_format fmt;
  };
  const cfg cases[] = {
      {1280, 720, 224, 224, box{0, 0, 1280, 720}, pixel_format::rgba},             // the embedder's full frame
      {1280, 720, 224, 224, box{200.25f, 100.5f, 921.75f, 655.0f}, pixel_format::rgba},  // a fractional crop
      {1280, 720, 416, 234, box{0, 0, 1280, 720}, pixel_format::rgba},             // the detector's content
      {333, 250, 97, 61, box{3.3f, 1.7f, 330.1f, 249.9f}, pixel_format::rgb},
      {64, 48, 21, 16, box{0, 0, 64, 48}, pixel_format::rgb},
  };
  sf_test_image::rng r;
  double worst = 0.0;
  for (const cfg& c : cases) {
    // Smooth gradients plus noise: the worst case for weight rounding is high contrast.
    test_frame f = make_frame(c.fw, c.fh, c.fmt, [&](int x, int y, int ch) {
      return uint8_t(ch == 3 ? 0 : (r.below(4) ? r.byte() : uint8_t((x * 7 + y * 3 + ch * 80) & 255)));
    });
    preprocess_options o = raw_options(c.ow, c.oh);
    o.resample = resample_mode::area;
    o.use_crop = true;
    o.crop = c.crop;
    const auto wx = exact_area(c.crop.x0, c.crop.x1, c.ow), wy = exact_area(c.crop.y0, c.crop.y1, c.oh);
    std::vector<double> want(size_t(c.ow) * size_t(c.oh) * 3, 0.0);
    for (int y = 0; y < c.oh; ++y)
      for (const auto& [j, vj] : wy[size_t(y)])
        for (int x = 0; x < c.ow; ++x)
          for (const auto& [i, ui] : wx[size_t(x)])
            for (int ch = 0; ch < 3; ++ch) want[(size_t(y) * size_t(c.ow) + size_t(x)) * 3 + size_t(ch)] += vj * ui * f.at(i, j)[ch];
    for (const kernels::table* t : kernels::available()) {
      std::vector<float> got = run(f.view(), o, nullptr, *t);
      double err = 0.0;
      for (int y = 0; y < c.oh; ++y)
        for (int x = 0; x < c.ow; ++x)
          for (int ch = 0; ch < 3; ++ch)
            err = std::max(err, std::fabs(double(at(got, o, x, y, ch)) -
                                          want[(size_t(y) * size_t(c.ow) + size_t(x)) * 3 + size_t(ch)]));
      INFO(t->name << " " << c.fw << "x" << c.fh << " -> " << c.ow << "x" << c.oh << ": max error " << err << " levels");
      CHECK(err <= kTol);
      worst = std::max(worst, err);
    }
  }
  INFO("worst " << worst << " levels");
  CHECK(worst > 0.0);  // the comparison ran (and the Q15 rounding is visible)
}
