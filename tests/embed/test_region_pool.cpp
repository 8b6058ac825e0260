// Region embeddings pooled from feature maps of one pass (embed::pool_region).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "embed/embed.h"

using sf::embed::feature_map;
using sf::embed::pool_region;
using sf::embed::unit_box;

namespace {

struct owned_map {
  std::vector<float> v;
  size_t c, h, w;
  feature_map view() const { return {v.data(), c, h, w}; }
};

owned_map make_map(size_t c, size_t h, size_t w, unsigned seed) {
  owned_map m{std::vector<float>(c * h * w), c, h, w};
  for (size_t i = 0; i < m.v.size(); ++i) m.v[i] = float(std::sin(0.37 * double(i + 1) * (seed + 1)) + 0.2 * seed);
  return m;
}

// Reference: every cell weighted by the area of its rectangle's intersection with the box
// (two-dimensional, not separable), means in double, L2 per map.
std::vector<double> reference(const std::vector<owned_map>& maps, unit_box b) {
  const double x0 = std::clamp<double>(b.x0, 0, 1), x1 = std::clamp<double>(b.x1, 0, 1);
  const double y0 = std::clamp<double>(b.y0, 0, 1), y1 = std::clamp<double>(b.y1, 0, 1);
  std::vector<double> out;
  for (const auto& m : maps) {
    std::vector<double> v(m.c, 0.0);
    double area = 0;
    for (size_t y = 0; y < m.h; ++y)
      for (size_t x = 0; x < m.w; ++x) {
        const double ox = std::min(x1 * m.w, x + 1.0) - std::max(x0 * m.w, double(x));
        const double oy = std::min(y1 * m.h, y + 1.0) - std::max(y0 * m.h, double(y));
        if (ox <= 0 || oy <= 0) continue;
        area += ox * oy;
        for (size_t c = 0; c < m.c; ++c) v[c] += ox * oy * m.v[(c * m.h + y) * m.w + x];
      }
    double n = 0;
    for (double& e : v) e /= area, n += e * e;
    for (double e : v) out.push_back(e / std::sqrt(n));
  }
  return out;
}

std::vector<float> pooled(const std::vector<owned_map>& maps, unit_box b) {
  std::vector<feature_map> views;
  size_t dim = 0;
  for (const auto& m : maps) views.push_back(m.view()), dim += m.c;
  std::vector<float> out(dim);
  auto r = pool_region(views.data(), views.size(), b, out.data(), out.size());
  REQUIRE(r);
  return out;
}

// Each map's block of out is finite and L2-normalised (all zero for an all-zero map).
void check_unit_blocks(const std::vector<owned_map>& maps, const std::vector<float>& out) {
  size_t o = 0;
  for (const auto& m : maps) {
    double norm = 0;
    for (size_t c = 0; c < m.c; ++c) {
      REQUIRE(std::isfinite(out[o + c]));
      norm += double(out[o + c]) * out[o + c];
    }
    const bool zero = std::all_of(m.v.begin(), m.v.end(), [](float v) { return v == 0.0f; });
    CHECK(norm == Approx(zero ? 0.0 : 1.0).margin(1e-5));
    o += m.c;
  }
}

}  // namespace

TEST_CASE("pool_region: the whole frame is each map's global average, L2-normalised, concatenated", "[embed]") {
  const std::vector<owned_map> maps = {make_map(5, 3, 3, 0), make_map(3, 12, 12, 1), make_map(2, 7, 5, 2)};
  const std::vector<float> got = pooled(maps, unit_box{0, 0, 1, 1});
  REQUIRE(got.size() == 10);
  size_t o = 0;
  for (const auto& m : maps) {
    std::vector<double> mean(m.c, 0.0);
    for (size_t c = 0; c < m.c; ++c) {
      for (size_t i = 0; i < m.h * m.w; ++i) mean[c] += m.v[c * m.h * m.w + i];
      mean[c] /= double(m.h * m.w);
    }
    double n = 0;
    for (double e : mean) n += e * e;
    for (size_t c = 0; c < m.c; ++c) CHECK(got[o + c] == Approx(mean[c] / std::sqrt(n)).margin(1e-6));
    o += m.c;
  }
}

TEST_CASE("pool_region: any box matches the two-dimensional area-weighted reference", "[embed]") {
  const std::vector<owned_map> maps = {make_map(4, 9, 9, 3), make_map(6, 72, 40, 4), make_map(3, 1, 1, 5)};
  const unit_box boxes[] = {
      {0.1f, 0.2f, 0.7f, 0.9f},     {0.33f, 0.01f, 0.34f, 0.02f},  // smaller than a cell of every map
      {0.5f, 0.5f, 1.0f, 1.0f},     {0.0f, 0.0f, 0.111f, 1.0f},
      {-0.3f, 0.25f, 0.6f, 1.7f},   // clipped to the frame
      {0.15f, 0.15f, 0.85f, 0.85f}, // a centre crop
  };
  for (const unit_box& b : boxes) {
    const std::vector<double> want = reference(maps, b);
    const std::vector<float> got = pooled(maps, b);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(2e-6));
  }
  // Clipping: a box reaching outside the frame pools what its part inside covers.
  CHECK(pooled(maps, {-0.3f, 0.25f, 0.6f, 1.7f}) == pooled(maps, {0.0f, 0.25f, 0.6f, 1.0f}));
}

TEST_CASE("pool_region: a box within one cell gives that cell", "[embed]") {
  const std::vector<owned_map> maps = {make_map(3, 4, 4, 6)};
  const std::vector<float> got = pooled(maps, unit_box{0.52f, 0.27f, 0.73f, 0.48f});  // cell (x 2, y 1)
  double n = 0;
  for (size_t c = 0; c < 3; ++c) n += double(maps[0].v[(c * 4 + 1) * 4 + 2]) * maps[0].v[(c * 4 + 1) * 4 + 2];
  for (size_t c = 0; c < 3; ++c) CHECK(got[c] == Approx(maps[0].v[(c * 4 + 1) * 4 + 2] / std::sqrt(n)));
}

TEST_CASE("pool_region: errors name what is wrong", "[embed]") {
  const owned_map m = make_map(3, 4, 4, 7);
  const feature_map v = m.view();
  std::vector<float> out(3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto fails = [&](const feature_map* maps, size_t n, unit_box b, size_t out_size, const char* what) {
    auto r = pool_region(maps, n, b, out.data(), out_size);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == sf::status::invalid_argument);
    CHECK_THAT(r.err().message, Catch::Contains(what));
  };
  fails(nullptr, 1, {}, 3, "no maps");
  fails(&v, 0, {}, 3, "no maps");
  fails(&v, 1, {nan, 0, 1, 1}, 3, "not finite");
  fails(&v, 1, {0.5f, 0, 0.5f, 1}, 3, "empty");
  fails(&v, 1, {1.2f, 0, 1.5f, 1}, 3, "empty");  // outside the frame
  fails(&v, 1, {}, 4, "3 channels in all, the output has 4");
  const feature_map empty{m.v.data(), 3, 0, 4};
  fails(&empty, 1, {}, 3, "map 0 is empty");
  CHECK_FALSE(pool_region(&v, 1, {}, nullptr, 3));
}

TEST_CASE("pool_region: random maps and boxes, degenerate ones included, never crash and pool finite unit vectors", "[embed]") {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&]() {  // splitmix64: deterministic
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) / double(1ull << 53); };
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  auto coordinate = [&]() -> float {
    switch (next() % 12) {
      case 0: return nan;
      case 1: return next() % 2 ? inf : -inf;
      case 2: return 0.0f;
      case 3: return 1.0f;
      case 4: return float(uniform(-1e6, 1e6));
      case 5: return std::nextafter(1.0f, 2.0f);
      default: return float(uniform(-0.2, 1.2));
    }
  };
  size_t pooled_ok = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<owned_map> maps;
    const size_t n = 1 + next() % 3;
    for (size_t m = 0; m < n; ++m) maps.push_back(make_map(1 + next() % 4, 1 + next() % 9, 1 + next() % 9, unsigned(next() % 7)));
    if (next() % 5 == 0)
      for (float& v : maps[0].v) v = 0.0f;  // an all-zero map stays zero (no division by a zero norm)
    const unit_box b{coordinate(), coordinate(), coordinate(), coordinate()};
    std::vector<feature_map> views;
    size_t dim = 0;
    for (const auto& m : maps) views.push_back(m.view()), dim += m.c;
    std::vector<float> out(dim);
    const bool finite = std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1);
    const bool inside = finite && std::min(b.x1, 1.0f) > std::max(b.x0, 0.0f) && std::min(b.y1, 1.0f) > std::max(b.y0, 0.0f);
    auto r = pool_region(views.data(), views.size(), b, out.data(), out.size());
    INFO("round " << round << " box " << b.x0 << "," << b.y0 << "," << b.x1 << "," << b.y1);
    REQUIRE(bool(r) == inside);
    if (!r) {
      ++rejected;
      continue;
    }
    ++pooled_ok;
    check_unit_blocks(maps, out);
  }
  CHECK(pooled_ok > 200);  // both outcomes are exercised (258 and 2742 with this seed)
  CHECK(rejected > 1000);
}

TEST_CASE("pool_region: a box of a tiny fraction of a cell and extreme activations still pool unit vectors", "[embed]") {
  // Found in review: with float arithmetic the inverse area of a 1e-22-wide box overflowed
  // (inf, then 0 * inf = NaN), and maps around 1e20 or 1e-24 skipped their L2 normalisation.
  owned_map tiny_values = make_map(3, 9, 9, 0), huge_values = make_map(4, 9, 9, 1), plain = make_map(2, 9, 9, 2);
  for (float& v : tiny_values.v) v *= 1e-24f;
  for (float& v : huge_values.v) v *= 1e20f;
  const std::vector<owned_map> maps = {tiny_values, huge_values, plain};
  for (const float side : {0.5f, 1e-5f, 1e-22f, 1e-25f, 1e-38f}) {
    // Below float precision at 0.3 a box must start at 0 to stay non-empty.
    const unit_box box = side >= 1e-5f ? unit_box{0.3f, 0.6f, 0.3f + side, 0.6f + side} : unit_box{0, 0, side, side};
    const std::vector<float> got = pooled(maps, box);
    check_unit_blocks(maps, got);  // no map here is all zero: every block has norm 1
    // Every map is scaled evenly, so the directions are the reference's.
    const std::vector<double> want = reference(maps, box);
    for (size_t i = 0; i < want.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-4));
  }
}

TEST_CASE("map_fits_input: a map is its input at one stride, sides rounded either way", "[embed]") {
  using sf::embed::map_fits_input;
  // mobilenetv2-f32-multiscale-maps288 on a 16:9 frame: input 384x224, strides 32, 16, 8, 4.
  CHECK(map_fits_input(12, 7, 384, 224));
  CHECK(map_fits_input(24, 14, 384, 224));
  CHECK(map_fits_input(96, 56, 384, 224));
  CHECK(map_fits_input(10, 10, 299, 299));  // ceil(299 / 32)
  CHECK(map_fits_input(9, 9, 299, 299));    // floor
  CHECK(map_fits_input(1, 1, 224, 224));    // a global pool fits; the binding rejects all-1x1 outputs
  CHECK(map_fits_input(4, 4, 16, 16));
  CHECK_FALSE(map_fits_input(7, 12, 384, 224));  // sides swapped
  CHECK_FALSE(map_fits_input(12, 12, 384, 224)); // a square map of a wide input
  CHECK_FALSE(map_fits_input(3, 7, 384, 224));
  CHECK_FALSE(map_fits_input(0, 7, 384, 224));
  CHECK_FALSE(map_fits_input(12, 7, 0, 224));
}
