// CenterNet-style head: class heat-maps, box sizes and centre offsets on one output grid.
#include <cmath>
#include <string>

#include "detect/decode_common.h"
#include "detect/detect.h"

namespace sf {

using namespace det_internal;

namespace {

// Peak test on a plane of h x w values: v must beat every neighbour before it in raster
// order (strictly) and be at least every neighbour after it. NaN neighbours are ignored.
bool is_peak(const float* plane, int64_t h, int64_t w, int64_t y, int64_t x, float v) noexcept {
  for (int64_t dy = -1; dy <= 1; ++dy) {
    const int64_t ny = y + dy;
    if (ny < 0 || ny >= h) continue;
    for (int64_t dx = -1; dx <= 1; ++dx) {
      const int64_t nx = x + dx;
      if ((dy == 0 && dx == 0) || nx < 0 || nx >= w) continue;
      const float n = plane[ny * w + nx];
      const bool before = dy < 0 || (dy == 0 && dx < 0);
      if (before ? (n >= v) : (n > v)) return false;
    }
  }
  return true;
}

bool grid_matches(int64_t cells, int input, int stride) {
  const int64_t lo = int64_t(input) / stride, hi = (int64_t(input) + stride - 1) / stride;
  return cells == lo || cells == hi;
}

}  // namespace

result<std::vector<detection>> det_decode_centernet(const det_tensor& heat, const det_tensor& size,
                                                    const det_tensor& offset, int stride,
                                                    const det_decode_options& opt) {
  const char* what = "det_decode_centernet";
  SF_TRY(check_decode_options(opt, what));
  if (stride < 1 || stride > 1024)
    return make_error(status::invalid_argument,
                      std::string(what) + ": stride " + std::to_string(stride) + " is not within 1..1024");
  SF_TRY(check_tensor(heat, "det_decode_centernet heat"));
  SF_TRY(check_tensor(size, "det_decode_centernet size"));
  SF_TRY(check_tensor(offset, "det_decode_centernet offset"));
  auto hs = squeeze_batch(heat, 3, "det_decode_centernet heat");
  if (!hs) return hs.err();
  auto ss = squeeze_batch(size, 3, "det_decode_centernet size");
  if (!ss) return ss.err();
  auto os = squeeze_batch(offset, 3, "det_decode_centernet offset");
  if (!os) return os.err();
  const int64_t nc = hs.value()[0], gh = hs.value()[1], gw = hs.value()[2];
  const std::string want2 = "[2, " + std::to_string(gh) + ", " + std::to_string(gw) + "]";
  if (ss.value() != std::vector<int64_t>{2, gh, gw})
    return make_error(status::invalid_argument, std::string(what) + ": size shape " + shape_string(size.shape) +
                                                    " does not match heat " + shape_string(heat.shape) +
                                                    ": expected " + want2);
  if (os.value() != std::vector<int64_t>{2, gh, gw})
    return make_error(status::invalid_argument, std::string(what) + ": offset shape " +
                                                    shape_string(offset.shape) + " does not match heat " +
                                                    shape_string(heat.shape) + ": expected " + want2);
  if (opt.num_classes >= 0 && nc != opt.num_classes)
    return make_error(status::invalid_argument, std::string(what) + ": heat shape " + shape_string(heat.shape) +
                                                    " has " + std::to_string(nc) + " classes, expected " +
                                                    std::to_string(opt.num_classes));
  if (!grid_matches(gh, opt.input_height, stride) || !grid_matches(gw, opt.input_width, stride))
    return make_error(status::invalid_argument,
                      std::string(what) + ": heat grid " + std::to_string(gh) + "x" + std::to_string(gw) +
                          " (HxW) does not match input " + std::to_string(opt.input_width) + "x" +
                          std::to_string(opt.input_height) + " (WxH) at stride " + std::to_string(stride) +
                          ": expected " + std::to_string(opt.input_height / stride) + "x" +
                          std::to_string(opt.input_width / stride) + " (or rounded up)");
  if (uint64_t(nc) * uint64_t(gh) * uint64_t(gw) > UINT32_MAX)
    return make_error(status::limit_exceeded, std::string(what) + ": more than 2^32 heat-map cells");

  const size_t plane = size_t(gh) * size_t(gw);
  const float fs = float(stride);
  const float in_w = float(opt.input_width), in_h = float(opt.input_height);
  std::vector<detection> out;

  auto emit = [&](int64_t y, int64_t x, float score, int32_t cid, uint32_t source) {
    const size_t i = size_t(y) * size_t(gw) + size_t(x);
    const float cx = (float(x) + offset.data[i]) * fs;
    const float cy = (float(y) + offset.data[plane + i]) * fs;
    const float bw = size.data[i] * fs;
    const float bh = size.data[plane + i] * fs;
    detection d;
    if (!make_box(cx, cy, bw, bh, in_w, in_h, &d.box)) return;
    d.score = score;
    d.class_score = score;
    d.class_id = cid;
    d.source = source;
    out.push_back(d);
  };

  if (!opt.objectness_only) {
    for (int64_t c = 0; c < nc; ++c) {
      const float* p = heat.data + size_t(c) * plane;
      for (int64_t y = 0; y < gh; ++y)
        for (int64_t x = 0; x < gw; ++x) {
          const float v = p[y * gw + x];
          if (!(v >= opt.score_threshold) || !std::isfinite(v)) continue;
          if (!is_peak(p, gh, gw, y, x, v)) continue;
          emit(y, x, v, int32_t(c), uint32_t(size_t(c) * plane + size_t(y * gw + x)));
        }
    }
  } else {
    // Class-agnostic: peaks of the per-cell maximum over classes.
    std::vector<float> best(plane);
    std::vector<int32_t> best_id(plane);
    for (size_t i = 0; i < plane; ++i) {
      float v = 0;
      best_id[i] = best_class(heat.data + i, size_t(nc), plane, &v);
      best[i] = best_id[i] < 0 ? std::nanf("") : v;
    }
    for (int64_t y = 0; y < gh; ++y)
      for (int64_t x = 0; x < gw; ++x) {
        const size_t i = size_t(y * gw + x);
        const float v = best[i];
        if (!(v >= opt.score_threshold) || !std::isfinite(v)) continue;
        if (!is_peak(best.data(), gh, gw, y, x, v)) continue;
        emit(y, x, v, best_id[i], uint32_t(size_t(best_id[i]) * plane + i));
      }
  }
  keep_top(&out, opt.max_candidates);
  return out;
}

}  // namespace sf
