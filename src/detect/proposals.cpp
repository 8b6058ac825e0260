// Region proposals for product matching: full frame, centre crop and the best detector boxes.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "detect/decode_common.h"
#include "detect/detect.h"

namespace sf {

result<det_letterbox> det_letterbox_fit(int src_w, int src_h, int dst_w, int dst_h, bool centred) {
  const int lim = det_internal::kMaxInputSide;
  if (src_w < 1 || src_h < 1 || dst_w < 1 || dst_h < 1 || src_w > lim || src_h > lim || dst_w > lim || dst_h > lim)
    return make_error(status::invalid_argument, "det_letterbox_fit: sizes " + std::to_string(src_w) + "x" +
                                                    std::to_string(src_h) + " -> " + std::to_string(dst_w) + "x" +
                                                    std::to_string(dst_h) + " are not within 1..65536");
  det_letterbox m;
  const double scale = std::min(double(dst_w) / src_w, double(dst_h) / src_h);
  m.scale = float(scale);
  if (centred) {
    m.pad_x = float((dst_w - src_w * scale) * 0.5);
    m.pad_y = float((dst_h - src_h * scale) * 0.5);
  }
  return m;
}

det_box det_letterbox_to_source(const det_letterbox& map, const det_box& b) noexcept {
  return det_box{(b.x0 - map.pad_x) / map.scale, (b.y0 - map.pad_y) / map.scale, (b.x1 - map.pad_x) / map.scale,
                 (b.y1 - map.pad_y) / map.scale};
}

result<std::vector<det_region>> det_proposals(const std::vector<detection>& detections,
                                              const det_proposal_options& opt) {
  const int lim = det_internal::kMaxInputSide;
  if (opt.frame_width < 1 || opt.frame_height < 1 || opt.frame_width > lim || opt.frame_height > lim)
    return make_error(status::invalid_argument, "det_proposals: frame size " + std::to_string(opt.frame_width) +
                                                    "x" + std::to_string(opt.frame_height) +
                                                    " is not within 1..65536 (set frame_width/height)");
  if (!(std::isfinite(opt.map.scale) && opt.map.scale > 0 && std::isfinite(opt.map.pad_x) &&
        std::isfinite(opt.map.pad_y)))
    return make_error(status::invalid_argument, "det_proposals: map needs a finite scale > 0 and finite pads");
  if (!(std::isfinite(opt.min_side) && opt.min_side >= 0))
    return make_error(status::invalid_argument, "det_proposals: min_side must be finite and >= 0");
  if (!(opt.centre_fraction > 0 && opt.centre_fraction <= 1))
    return make_error(status::invalid_argument, "det_proposals: centre_fraction must be within (0, 1]");
  if (!(opt.merge_iou >= 0 && opt.merge_iou <= 1))
    return make_error(status::invalid_argument, "det_proposals: merge_iou must be within 0..1");
  if (!std::isfinite(opt.hint_min_class_score))
    return make_error(status::invalid_argument, "det_proposals: hint_min_class_score is not finite");
  if (opt.max_regions < 2)
    return make_error(status::invalid_argument,
                      "det_proposals: max_regions must be >= 2 (full frame and centre crop are always present)");

  const float fw = float(opt.frame_width), fh = float(opt.frame_height);
  std::vector<det_region> out;
  out.reserve(opt.max_regions);
  det_region full;
  full.box = det_box{0, 0, fw, fh};
  full.kind = det_region_kind::full_frame;
  out.push_back(full);
  det_region centre;
  const float cw = fw * opt.centre_fraction, ch = fh * opt.centre_fraction;
  centre.box = det_box{0.5f * (fw - cw), 0.5f * (fh - ch), 0.5f * (fw + cw), 0.5f * (fh + ch)};
  centre.kind = det_region_kind::centre_crop;
  out.push_back(centre);

  // Map, clip and filter every detection, then take them best score first.
  std::vector<det_region> cands;
  for (size_t i = 0; i < detections.size(); ++i) {
    const detection& d = detections[i];
    if (!std::isfinite(d.score)) continue;
    det_region r;
    r.box = det_letterbox_to_source(opt.map, d.box);
    if (!det_internal::clip_box(&r.box, fw, fh)) continue;
    if (std::min(r.box.x1 - r.box.x0, r.box.y1 - r.box.y0) < opt.min_side) continue;
    r.score = d.score;
    r.class_id = d.class_id;
    r.source = uint32_t(std::min<size_t>(i, UINT32_MAX));
    const bool hint = opt.hint_class >= 0 && d.class_id == opt.hint_class &&
                      d.class_score >= opt.hint_min_class_score;
    r.kind = hint ? det_region_kind::person_hint : det_region_kind::detection;
    cands.push_back(r);
  }
  std::stable_sort(cands.begin(), cands.end(),
                   [](const det_region& a, const det_region& b) { return a.score > b.score; });
  for (const det_region& r : cands) {
    if (out.size() >= opt.max_regions) break;
    bool duplicate = false;
    for (const det_region& k : out)
      if (det_iou(k.box, r.box) > opt.merge_iou) {
        duplicate = true;
        break;
      }
    if (!duplicate) out.push_back(r);
  }
  return out;
}

}  // namespace sf
