// Box geometry between frame and model space, and the embedder crop helper.
#include <algorithm>
#include <cmath>

#include "image/image.h"

namespace sf::image {

box to_source(const geometry& g, const box& m) {
  auto fx = [&](float v) { return std::clamp((v - float(g.pad_x)) / g.scale_x + g.crop.x0, g.crop.x0, g.crop.x1); };
  auto fy = [&](float v) { return std::clamp((v - float(g.pad_y)) / g.scale_y + g.crop.y0, g.crop.y0, g.crop.y1); };
  return box{fx(m.x0), fy(m.y0), fx(m.x1), fy(m.y1)};
}

box to_model(const geometry& g, const box& s) {
  auto fx = [&](float v) { return (v - g.crop.x0) * g.scale_x + float(g.pad_x); };
  auto fy = [&](float v) { return (v - g.crop.y0) * g.scale_y + float(g.pad_y); };
  return box{fx(s.x0), fy(s.y0), fx(s.x1), fy(s.y1)};
}

namespace {

// Moves [lo, hi) inside [0, len] when it fits, otherwise clamps it.
void fit(float& lo, float& hi, float len) {
  const float size = hi - lo;
  if (size <= len) {
    if (lo < 0.0f) {
      hi -= lo;
      lo = 0.0f;
    }
    if (hi > len) {
      lo -= hi - len;
      hi = len;
    }
    lo = std::max(lo, 0.0f);
  } else {
    lo = std::max(lo, 0.0f);
    hi = std::min(hi, len);
  }
}

}  // namespace

box expand_box(const box& b, const crop_options& c, int frame_width, int frame_height) {
  if (!std::isfinite(b.x0) || !std::isfinite(b.y0) || !std::isfinite(b.x1) || !std::isfinite(b.y1) ||
      !std::isfinite(c.margin) || !(b.x1 > b.x0) || !(b.y1 > b.y0))
    return b;  // preprocess() reports the problem
  float w = b.x1 - b.x0, h = b.y1 - b.y0;
  const float m = std::max(c.margin, 0.0f);
  box r{b.x0 - m * w, b.y0 - m * h, b.x1 + m * w, b.y1 + m * h};
  if (c.square) {
    w = r.x1 - r.x0;
    h = r.y1 - r.y0;
    const float side = std::max(w, h);
    const float cx = 0.5f * (r.x0 + r.x1), cy = 0.5f * (r.y0 + r.y1);
    r = box{cx - 0.5f * side, cy - 0.5f * side, cx + 0.5f * side, cy + 0.5f * side};
  }
  // A box entirely outside the frame stays outside (preprocess() reports it).
  if (b.x1 <= 0.0f || b.y1 <= 0.0f || b.x0 >= float(frame_width) || b.y0 >= float(frame_height)) return r;
  fit(r.x0, r.x1, float(std::max(frame_width, 0)));
  fit(r.y0, r.y1, float(std::max(frame_height, 0)));
  return r;
}

result<geometry> preprocess_crop(const frame_view& frame, const box& b, const crop_options& c,
                                 const preprocess_options& o, float* out, size_t out_len) {
  preprocess_options p = o;
  p.use_crop = true;
  p.crop = expand_box(b, c, frame.width, frame.height);
  return preprocess(frame, p, out, out_len);
}

}  // namespace sf::image
