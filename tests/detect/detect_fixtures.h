// Helpers shared by the detect tests: tensor builders and a small deterministic RNG.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "detect/detect.h"

namespace detect_test {

struct owned_tensor {
  std::vector<float> data;
  std::vector<int64_t> shape;
  owned_tensor(std::vector<int64_t> s, float fill = 0.0f) : shape(std::move(s)) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    data.assign(n, fill);
  }
  sf::det_tensor view() const { return sf::det_tensor{data.data(), data.size(), shape}; }
};

struct rng {
  uint64_t s;
  explicit rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(double(next() >> 11) * (1.0 / 9007199254740992.0)); }
  size_t below(size_t n) { return size_t(next() % n); }
  // Mostly plausible values with a good share of NaN, Inf, huge and denormal ones.
  float garbage() {
    switch (next() % 12) {
      case 0: return std::numeric_limits<float>::quiet_NaN();
      case 1: return std::numeric_limits<float>::infinity();
      case 2: return -std::numeric_limits<float>::infinity();
      case 3: return (next() & 1 ? 1.0f : -1.0f) * std::numeric_limits<float>::max();
      case 4: return uniform(-1e30f, 1e30f);
      case 5: return std::numeric_limits<float>::denorm_min();
      case 6: return 0.0f;
      case 7: return uniform(-100.0f, 100.0f);
      default: return uniform(0.0f, 1.0f);
    }
  }
};

inline bool box_inside(const sf::det_box& b, float w, float h) {
  return std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1) && b.x0 >= 0 &&
         b.y0 >= 0 && b.x1 <= w && b.y1 <= h && b.x0 < b.x1 && b.y0 < b.y1;
}

inline sf::detection make_det(float x0, float y0, float x1, float y1, float score, int32_t cls = 0,
                              uint32_t source = 0) {
  sf::detection d;
  d.box = sf::det_box{x0, y0, x1, y1};
  d.score = score;
  d.class_score = score;
  d.class_id = cls;
  d.source = source;
  return d;
}

}  // namespace detect_test
