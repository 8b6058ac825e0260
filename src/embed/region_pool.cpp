// Region embeddings from one pass over the whole frame (see embed.h, pool_region).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "embed/embed.h"

namespace sf::embed {

namespace {

// Weights of the cells [first, first + w.size()) of a side of `cells` cells that the interval
// [lo, hi) (in cell units) covers: each the length it shares with the interval.
size_t cover(double lo, double hi, size_t cells, std::vector<float>& w) {
  w.clear();
  const size_t first = size_t(std::max(0.0, std::floor(lo)));
  const size_t end = std::min(cells, size_t(std::ceil(hi)));
  for (size_t i = first; i < end; ++i) w.push_back(float(std::min(hi, double(i + 1)) - std::max(lo, double(i))));
  return first;
}

}  // namespace

result<void> pool_region(const feature_map* maps, size_t n_maps, unit_box box, float* out, size_t out_size) {
  if (!maps || !out || n_maps == 0) return make_error(status::invalid_argument, "pool_region: no maps or no output");
  if (!(std::isfinite(box.x0) && std::isfinite(box.y0) && std::isfinite(box.x1) && std::isfinite(box.y1)))
    return make_error(status::invalid_argument, "pool_region: box is not finite");
  const double x0 = std::clamp(double(box.x0), 0.0, 1.0), x1 = std::clamp(double(box.x1), 0.0, 1.0);
  const double y0 = std::clamp(double(box.y0), 0.0, 1.0), y1 = std::clamp(double(box.y1), 0.0, 1.0);
  if (!(x1 > x0 && y1 > y0))
    return make_error(status::invalid_argument, "pool_region: box is empty within the frame");
  size_t dim = 0;
  for (size_t m = 0; m < n_maps; ++m) {
    const feature_map& f = maps[m];
    if (!f.data || f.channels == 0 || f.height == 0 || f.width == 0)
      return make_error(status::invalid_argument, "pool_region: map " + std::to_string(m) + " is empty");
    dim += f.channels;
  }
  if (dim != out_size)
    return make_error(status::invalid_argument, "pool_region: the maps have " + std::to_string(dim) +
                                                    " channels in all, the output has " + std::to_string(out_size));
  std::vector<float> wx, wy;
  float* o = out;
  for (size_t m = 0; m < n_maps; ++m) {
    const feature_map& f = maps[m];
    const size_t fx = cover(x0 * f.width, x1 * f.width, f.width, wx);
    const size_t fy = cover(y0 * f.height, y1 * f.height, f.height, wy);
    const double area = (x1 - x0) * double(f.width) * (y1 - y0) * double(f.height);  // in cells, > 0
    const float inv = float(1.0 / area);
    // Separable weights: per channel, each row's weighted sum, weighted by the row's share.
    // A few hundred thousand multiply-adds per region, about 1% of the pass that made the maps.
    for (size_t c = 0; c < f.channels; ++c) {
      const float* plane = f.data + c * f.height * f.width;
      float sum = 0;
      for (size_t j = 0; j < wy.size(); ++j) {
        const float* row = plane + (fy + j) * f.width + fx;
        float r = 0;
        for (size_t i = 0; i < wx.size(); ++i) r += wx[i] * row[i];
        sum += wy[j] * r;
      }
      o[c] = sum * inv;
    }
    l2_normalize(o, 1, f.channels);
    o += f.channels;
  }
  return {};
}

}  // namespace sf::embed
