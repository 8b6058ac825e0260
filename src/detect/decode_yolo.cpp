// Already-decoded YOLO-style heads: [1, A, 5+C] with objectness, and YOLOv8's [1, 4+C, A].
#include <cmath>
#include <string>

#include "detect/decode_common.h"
#include "detect/detect.h"

namespace sf {

using namespace det_internal;

result<std::vector<detection>> det_decode_yolo(const det_tensor& output, det_yolo_layout layout,
                                               const det_decode_options& opt) {
  const char* what = "det_decode_yolo";
  SF_TRY(check_decode_options(opt, what));
  SF_TRY(check_tensor(output, what));
  auto sq = squeeze_batch(output, 2, what);
  if (!sq) return sq.err();
  const std::vector<int64_t>& s = sq.value();

  const bool v8 = layout == det_yolo_layout::v8_transposed;
  if (!v8 && layout != det_yolo_layout::boxes_objectness_classes)
    return make_error(status::invalid_argument, std::string(what) + ": unknown layout");
  const int64_t anchors = v8 ? s[1] : s[0];
  const int64_t channels = v8 ? s[0] : s[1];
  const int64_t fixed = v8 ? 4 : 5;
  // Both layouts need 5 channels: v8 has no objectness, so it needs at least one class.
  if (channels < 5 || (opt.num_classes >= 0 && channels != fixed + int64_t(opt.num_classes))) {
    const std::string want_c = opt.num_classes >= 0 ? std::to_string(fixed + opt.num_classes)
                                                    : (v8 ? std::string("4+C (C >= 1)") : std::string("5+C"));
    return make_error(status::invalid_argument,
                      std::string(what) + ": output shape " + shape_string(output.shape) + " does not match layout " +
                          (v8 ? "v8_transposed: expected [1, " + want_c + ", A]"
                              : "boxes_objectness_classes: expected [1, A, " + want_c + "]"));
  }
  if (uint64_t(anchors) > UINT32_MAX)
    return make_error(status::limit_exceeded, std::string(what) + ": more than 2^32 anchors");

  const size_t nc = size_t(channels - fixed);
  // Element (anchor a, channel k) is at a * a_step + k * k_step.
  const size_t a_step = v8 ? 1 : size_t(channels);
  const size_t k_step = v8 ? size_t(anchors) : 1;
  const float in_w = float(opt.input_width), in_h = float(opt.input_height);
  std::vector<detection> out;
  for (size_t a = 0; a < size_t(anchors); ++a) {
    const float* p = output.data + a * a_step;
    float cls = 0;
    const int32_t cid = best_class(p + size_t(fixed) * k_step, nc, k_step, &cls);
    float score;
    if (v8) {
      if (cid < 0) continue;
      score = cls;
    } else {
      const float obj = p[4 * k_step];
      if (!std::isfinite(obj)) continue;
      score = obj;
      if (!opt.objectness_only && nc > 0) {
        if (cid < 0) continue;
        score = obj * cls;
      }
    }
    if (!(score >= opt.score_threshold) || !std::isfinite(score)) continue;
    detection d;
    if (!make_box(p[0], p[k_step], p[2 * k_step], p[3 * k_step], in_w, in_h, &d.box)) continue;
    d.score = score;
    d.class_score = cls;
    d.class_id = cid;
    d.source = uint32_t(a);
    out.push_back(d);
  }
  keep_top(&out, opt.max_candidates);
  return out;
}

}  // namespace sf
