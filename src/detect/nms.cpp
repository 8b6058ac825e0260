// Greedy non-maximum suppression.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "detect/detect.h"

namespace sf {

float det_iou(const det_box& a, const det_box& b) noexcept {
  const float iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const float ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (!(iw > 0) || !(ih > 0)) return 0;
  const float inter = iw * ih;
  const float area_a = std::max(a.x1 - a.x0, 0.0f) * std::max(a.y1 - a.y0, 0.0f);
  const float area_b = std::max(b.x1 - b.x0, 0.0f) * std::max(b.y1 - b.y0, 0.0f);
  const float uni = area_a + area_b - inter;
  if (!(uni > 0) || !std::isfinite(uni)) return 0;
  return std::min(inter / uni, 1.0f);
}

result<std::vector<detection>> det_nms(const std::vector<detection>& candidates, const det_nms_options& opt) {
  if (!(opt.iou_threshold >= 0.0f && opt.iou_threshold <= 1.0f))
    return make_error(status::invalid_argument, "det_nms: iou_threshold must be within 0..1");
  if (opt.max_detections < 1) return make_error(status::invalid_argument, "det_nms: max_detections must be >= 1");
  if (opt.max_input < 1) return make_error(status::invalid_argument, "det_nms: max_input must be >= 1");

  std::vector<size_t> order;
  order.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    const detection& d = candidates[i];
    if (std::isfinite(d.score) && std::isfinite(d.box.x0) && std::isfinite(d.box.y0) && std::isfinite(d.box.x1) &&
        std::isfinite(d.box.y1))
      order.push_back(i);
  }
  // (score desc, input position asc) is a strict total order, so partial_sort is deterministic.
  auto better = [&](size_t a, size_t b) {
    if (candidates[a].score != candidates[b].score) return candidates[a].score > candidates[b].score;
    return a < b;
  };
  const size_t n = std::min(order.size(), opt.max_input);
  std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(n), order.end(), better);
  order.resize(n);

  // Greedy NMS checking each candidate against the boxes kept so far: the same result as
  // suppressing from each kept box forward, in O(n * kept).
  std::vector<detection> kept;
  for (size_t i : order) {
    const detection& d = candidates[i];
    bool suppressed = false;
    for (const detection& k : kept) {
      if (!opt.class_agnostic && k.class_id != d.class_id) continue;
      if (det_iou(k.box, d.box) > opt.iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept.push_back(d);
    if (kept.size() >= opt.max_detections) break;
  }
  return kept;
}

}  // namespace sf
