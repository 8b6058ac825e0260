// Shared helpers for the image tests: synthetic frames and tolerant comparisons.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "image/image.h"

namespace sf_test_image {

// An owning frame: rows of `stride` bytes (>= width * channels), data starts `shift`
// bytes into the allocation so nothing can rely on alignment.
struct test_frame {
  std::vector<uint8_t> store;
  int width = 0, height = 0, stride = 0, shift = 0;
  sf::image::pixel_format format = sf::image::pixel_format::rgba;
  uint8_t* data() { return store.data() + shift; }
  uint8_t* at(int x, int y) { return data() + size_t(y) * size_t(stride) + size_t(x) * size_t(sf::image::channels(format)); }
  sf::image::frame_view view() const {
    return sf::image::frame_view{store.data() + shift, store.size() - size_t(shift), width, height, format, stride};
  }
};

// px(x, y, c) gives channel c (0..3) of pixel (x, y).
inline test_frame make_frame(int w, int h, sf::image::pixel_format f, const std::function<uint8_t(int, int, int)>& px,
                             int extra_stride = 0, int shift = 1) {
  test_frame t;
  t.width = w;
  t.height = h;
  t.format = f;
  const int C = sf::image::channels(f);
  t.stride = w * C + extra_stride;
  t.shift = shift;
  t.store.assign(size_t(shift) + size_t(t.stride) * size_t(h), 0xEE);  // 0xEE in stride padding
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < C; ++c) t.at(x, y)[c] = px(x, y, c);
  return t;
}

// Deterministic across standard libraries.
struct rng {
  std::mt19937 g{20240611u};
  uint32_t below(uint32_t n) { return n ? g() % n : 0; }
  int range(int lo, int hi) { return lo + int(below(uint32_t(hi - lo + 1))); }  // inclusive
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(g() >> 8) * (1.0f / 16777216.0f); }
  uint8_t byte() { return uint8_t(g() >> 24); }
};

inline bool close_rel(float got, float want, float rel = 1e-4f) {
  return std::fabs(got - want) <= rel * std::max(1.0f, std::fabs(want));
}

}  // namespace sf_test_image
