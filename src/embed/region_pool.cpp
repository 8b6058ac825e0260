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
size_t cover(double lo, double hi, size_t cells, std::vector<double>& w) {
  w.clear();
  const size_t first = size_t(std::max(0.0, std::floor(lo)));
  const size_t end = std::min(cells, size_t(std::ceil(hi)));
  for (size_t i = first; i < end; ++i) w.push_back(std::min(hi, double(i + 1)) - std::max(lo, double(i)));
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
  std::vector<double> wx, wy, means;
  float* o = out;
  for (size_t m = 0; m < n_maps; ++m) {
    const feature_map& f = maps[m];
    const size_t fx = cover(x0 * f.width, x1 * f.width, f.width, wx);
    const size_t fy = cover(y0 * f.height, y1 * f.height, f.height, wy);
    const double area = (x1 - x0) * double(f.width) * (y1 - y0) * double(f.height);  // in cells, > 0
    // Separable weights: per channel, each row's weighted sum, weighted by the row's share.
    // A few hundred thousand multiply-adds per region, about 1% of the pass that made the maps.
    // In double: a box of a tiny fraction of a cell has an area whose inverse overflows a float,
    // and the per-map norm below must not overflow or underflow on extreme activations.
    means.assign(f.channels, 0.0);
    double norm2 = 0;
    for (size_t c = 0; c < f.channels; ++c) {
      const float* plane = f.data + c * f.height * f.width;
      double sum = 0;
      for (size_t j = 0; j < wy.size(); ++j) {
        const float* row = plane + (fy + j) * f.width + fx;
        double r = 0;
        for (size_t i = 0; i < wx.size(); ++i) r += wx[i] * row[i];
        sum += wy[j] * r;
      }
      means[c] = sum / area;  // a weighted mean of floats: within their range
      norm2 += means[c] * means[c];
    }
    // Each map L2-normalised on its own (an all-zero map stays zero), as the catalog's vectors.
    const double scale = norm2 > 0 && std::isfinite(norm2) ? 1.0 / std::sqrt(norm2) : 1.0;
    for (size_t c = 0; c < f.channels; ++c) o[c] = float(means[c] * scale);
    o += f.channels;
  }
  return {};
}

bool map_fits_input(size_t map_w, size_t map_h, size_t in_w, size_t in_h) {
  if (map_w == 0 || map_h == 0 || in_w == 0 || in_h == 0) return false;
  // A side of m cells over n pixels has a stride s with m - 1 < n / s < m + 1, i.e.
  // n / (m + 1) < s < n / (m - 1); both sides must share one s.
  const auto lo = [](size_t n, size_t m) { return double(n) / double(m + 1); };
  const auto hi = [](size_t n, size_t m) { return m > 1 ? double(n) / double(m - 1) : HUGE_VAL; };
  return std::max(lo(in_w, map_w), lo(in_h, map_h)) < std::min(hi(in_w, map_w), hi(in_h, map_h));
}

}  // namespace sf::embed
