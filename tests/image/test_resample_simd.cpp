// Every available resampling kernel table against the scalar reference, on odd frame
// and tensor sizes (remainders of every vector width), both pixel formats, layouts,
// channel orders, resize and resample modes, fractional crops, unaligned buffers.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "image/resample_kernels.h"
#include "image_fixtures.h"

using namespace sf::image;
using sf_test_image::close_rel;
using sf_test_image::make_frame;

namespace {

std::vector<const kernels::table*> simd_tables() {
  std::vector<const kernels::table*> v;
  for (const kernels::table* t : kernels::available())
    if (t != &kernels::scalar()) v.push_back(t);
  return v;
}

}  // namespace

TEST_CASE("SIMD resampling tables match scalar", "[image]") {
  const auto tables = simd_tables();
  INFO("tables: " << tables.size());
  if (tables.empty()) {
    WARN("no SIMD table in this build; scalar only");
    return;
  }
  const int frame_sizes[][2] = {{1, 1}, {2, 3}, {3, 5}, {5, 2}, {7, 9}, {17, 13}, {33, 7}, {64, 48}, {127, 93}, {250, 141}, {641, 359}};
  const int out_sizes[][2] = {{1, 1}, {3, 3}, {4, 4}, {5, 7}, {13, 17}, {31, 29}, {64, 64}, {67, 45}, {224, 224}};
  sf_test_image::rng r;
  int cases = 0;
  for (const auto& fs : frame_sizes) {
    for (const auto& os : out_sizes) {
      for (int variant = 0; variant < 2; ++variant) {
        const auto fmt = r.below(2) ? pixel_format::rgba : pixel_format::rgb;
        auto f = make_frame(fs[0], fs[1], fmt, [&](int, int, int) { return r.byte(); }, int(r.below(5)), 1 + int(r.below(3)));
        preprocess_options o;
        o.width = os[0];
        o.height = os[1];
        o.mode = r.below(2) ? resize_mode::letterbox : resize_mode::stretch;
        o.anchor = r.below(2) ? pad_anchor::center : pad_anchor::top_left;
        o.order = r.below(2) ? channel_order::bgr : channel_order::rgb;
        o.layout = r.below(2) ? tensor_layout::nhwc : tensor_layout::nchw;
        o.resample = resample_mode(std::vector<char>{'a', 'b', 'r'}[r.below(3)]);
        o.scale = r.below(2) ? 1.0f / 255.0f : 1.0f;
        for (int c = 0; c < 3; ++c) {
          o.mean[c] = r.uniform(-1.0f, 1.0f) * (o.scale == 1.0f ? 128.0f : 1.0f);
          o.std[c] = r.uniform(0.1f, 2.0f);
        }
        if (variant == 1) {
          o.use_crop = true;
          const float x0 = r.uniform(-2.0f, fs[0] * 0.6f), y0 = r.uniform(-2.0f, fs[1] * 0.6f);
          o.crop = box{x0, y0, r.uniform(std::max(0.0f, x0) + 0.25f, fs[0] + 2.0f), r.uniform(std::max(0.0f, y0) + 0.25f, fs[1] + 2.0f)};
        }
        const size_t n = tensor_size(o);
        std::vector<float> want(n + 1, -7.0f);
        auto gw = kernels::preprocess_with(kernels::scalar(), f.view(), o, want.data() + 1, n);
        REQUIRE(gw.ok());
        for (const kernels::table* t : tables) {
          std::vector<float> got(n + 2, -7.0f);
          auto gg = kernels::preprocess_with(*t, f.view(), o, got.data() + 1, n);
          REQUIRE(gg.ok());
          INFO(t->name << " frame " << fs[0] << "x" << fs[1] << (fmt == pixel_format::rgba ? " rgba" : " rgb") << " -> "
                       << os[0] << "x" << os[1] << " mode " << char(o.mode) << " resample " << char(o.resample)
                       << " layout " << char(o.layout) << " crop " << o.use_crop);
          CHECK(got[0] == -7.0f);      // nothing written before the tensor
          CHECK(got[n + 1] == -7.0f);  // nor after it
          size_t bad = 0, first = 0;
          for (size_t i = 0; i < n; ++i)
            if (!close_rel(got[i + 1], want[i + 1])) {
              if (!bad) first = i;
              ++bad;
            }
          INFO("first mismatch at " << first << ": " << got[first + 1] << " vs " << want[first + 1]);
          CHECK(bad == 0);
        }
        ++cases;
      }
    }
  }
  CHECK(cases == 11 * 9 * 2);
}

TEST_CASE("kernel contract: vertical is bit-identical to scalar", "[image]") {
  // Integer weights, any sign, taps across the 4-pair groups (1..9 and 17), lengths across
  // every vector width's remainder, rows aligned and not, rows repeated.
  sf_test_image::rng r;
  for (const kernels::table* t : simd_tables()) {
    for (size_t n : {0u, 1u, 3u, 4u, 5u, 15u, 16u, 17u, 31u, 32u, 33u, 63u, 100u, 1027u}) {
      for (int taps : {0, 1, 2, 3, 4, 5, 7, 8, 9, 17}) {
        std::vector<std::vector<uint8_t>> rows(size_t(taps), std::vector<uint8_t>(n + 1));
        std::vector<const uint8_t*> ptr;
        std::vector<int16_t> w;
        for (auto& row : rows) {
          for (auto& b : row) b = r.byte();
          ptr.push_back(row.data() + (r.below(2) && n ? 1 : 0));
          w.push_back(int16_t(int32_t(r.below(65536)) - 32768));
        }
        if (taps > 2) ptr[1] = ptr[0];  // a row used twice
        std::vector<float> a(n + 1, 3.0f), b(n + 1, 3.0f);
        kernels::scalar().vertical(ptr.data(), w.data(), taps, n, a.data());
        t->vertical(ptr.data(), w.data(), taps, n, b.data());
        INFO(t->name << " n " << n << " taps " << taps);
        for (size_t i = 0; i < n; ++i) REQUIRE(b[i] == a[i]);
        CHECK(b[n] == 3.0f);
        if (taps == 0)
          for (size_t i = 0; i < n; ++i) REQUIRE(a[i] == 0.0f);
      }
    }
    // Extremes: all 255 at the largest weights (the int32 range the contract allows).
    const size_t n = 70;
    std::vector<uint8_t> hi(n, 255);
    for (int16_t wv : {int16_t(32767), int16_t(-32768)}) {
      std::vector<const uint8_t*> ptr(9, hi.data());
      std::vector<int16_t> w(9, wv);
      std::vector<float> a(n), b(n);
      kernels::scalar().vertical(ptr.data(), w.data(), 9, n, a.data());
      t->vertical(ptr.data(), w.data(), 9, n, b.data());
      CHECK(a[0] == float(9 * 255 * int32_t(wv)));
      for (size_t i = 0; i < n; ++i) REQUIRE(b[i] == a[i]);
    }
  }
}

TEST_CASE("kernel contract: horizontal against scalar", "[image]") {
  sf_test_image::rng r;
  for (const kernels::table* t : simd_tables()) {
    for (int C : {3, 4}) {
      for (int out_w : {1, 3, 4, 5, 8, 13, 31}) {
        for (int K : {1, 2, 3, 7}) {
          const int src_w = out_w * 2 + K;
          std::vector<float> acc(size_t(src_w * C) + 4);
          for (auto& v : acc) v = r.uniform(0.0f, 255.0f * 32768.0f);
          std::vector<int32_t> start(static_cast<size_t>(out_w));
          std::vector<float> w(static_cast<size_t>(out_w * K));
          for (int x = 0; x < out_w; ++x) start[size_t(x)] = int32_t(r.below(uint32_t(src_w - K + 1)));
          for (auto& v : w) v = r.uniform(0.0f, 1.0f);
          const float a[3] = {1.0f / 32768.0f, 2.0f / 32768.0f, 0.5f / 32768.0f}, b[3] = {-1.0f, 0.5f, 3.0f};
          for (bool bgr : {false, true}) {
            for (bool nchw : {false, true}) {
              const size_t plane = size_t(out_w) + 3;
              std::vector<float> want(3 * plane + 2, -7.0f), got(3 * plane + 2, -7.0f);
              kernels::scalar().horizontal(acc.data(), C, start.data(), w.data(), K, out_w, bgr, a, b, nchw, plane, want.data());
              t->horizontal(acc.data(), C, start.data(), w.data(), K, out_w, bgr, a, b, nchw, plane, got.data());
              INFO(t->name << " C " << C << " out_w " << out_w << " K " << K << " bgr " << bgr << " nchw " << nchw);
              for (size_t i = 0; i < want.size(); ++i) REQUIRE(close_rel(got[i], want[i]));
            }
          }
        }
      }
    }
  }
}
