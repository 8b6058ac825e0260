// YOLOX head decoding (grid-relative boxes, strides 8/16/32 by default).
#include <algorithm>
#include <cmath>
#include <string>

#include "detect/decode_common.h"
#include "detect/detect.h"

namespace sf {

using namespace det_internal;

result<std::vector<detection>> det_decode_yolox(const det_tensor& output, const det_decode_options& opt) {
  const char* what = "det_decode_yolox";
  SF_TRY(check_decode_options(opt, what));
  SF_TRY(check_tensor(output, what));
  auto sq = squeeze_batch(output, 2, what);
  if (!sq) return sq.err();
  const std::vector<int64_t>& s = sq.value();
  if (opt.strides.empty() || opt.strides.size() > 8)
    return make_error(status::invalid_argument, std::string(what) + ": need 1..8 strides");

  // Expected anchor count from the input size and strides (conv arithmetic: ceil).
  uint64_t expected = 0;
  std::string stride_list;
  for (int st : opt.strides) {
    if (st < 1 || st > 1024)
      return make_error(status::invalid_argument, std::string(what) + ": stride " + std::to_string(st) +
                                                      " is not within 1..1024");
    const uint64_t gh = (uint64_t(opt.input_height) + uint64_t(st) - 1) / uint64_t(st);
    const uint64_t gw = (uint64_t(opt.input_width) + uint64_t(st) - 1) / uint64_t(st);
    expected += gh * gw;
    if (!stride_list.empty()) stride_list += "/";
    stride_list += std::to_string(st);
  }
  const int64_t anchors = s[0], channels = s[1];
  const std::string want_c = opt.num_classes >= 0 ? std::to_string(5 + opt.num_classes) : std::string("5+C");
  if (uint64_t(anchors) != expected || channels < 5 ||
      (opt.num_classes >= 0 && channels != 5 + int64_t(opt.num_classes)))
    return make_error(status::invalid_argument,
                      std::string(what) + ": output shape " + shape_string(output.shape) + " does not match input " +
                          std::to_string(opt.input_width) + "x" + std::to_string(opt.input_height) + " with strides " +
                          stride_list + ": expected [1, " + std::to_string(expected) + ", " + want_c + "]");
  if (expected > UINT32_MAX)
    return make_error(status::limit_exceeded, std::string(what) + ": more than 2^32 anchors");

  const size_t nc = size_t(channels) - 5;
  const float in_w = float(opt.input_width), in_h = float(opt.input_height);
  std::vector<detection> out;
  const float* row = output.data;
  uint32_t a = 0;
  for (int st : opt.strides) {
    const int gh = (opt.input_height + st - 1) / st;
    const int gw = (opt.input_width + st - 1) / st;
    const float fs = float(st);
    for (int gy = 0; gy < gh; ++gy) {
      for (int gx = 0; gx < gw; ++gx, ++a, row += channels) {
        const float obj = row[4];
        if (!std::isfinite(obj)) continue;
        float cls = 0;
        const int32_t cid = best_class(row + 5, nc, 1, &cls);
        float score = obj;
        if (!opt.objectness_only && nc > 0) {
          if (cid < 0) continue;
          score = obj * cls;
        }
        if (!(score >= opt.score_threshold) || !std::isfinite(score)) continue;
        const float cx = (row[0] + float(gx)) * fs;
        const float cy = (row[1] + float(gy)) * fs;
        // std::min/max with NaN return the first argument, so test finiteness before exp.
        if (!std::isfinite(row[2]) || !std::isfinite(row[3])) continue;
        const float bw = std::exp(std::min(std::max(row[2], -kMaxExpArg), kMaxExpArg)) * fs;
        const float bh = std::exp(std::min(std::max(row[3], -kMaxExpArg), kMaxExpArg)) * fs;
        detection d;
        if (!make_box(cx, cy, bw, bh, in_w, in_h, &d.box)) continue;
        d.score = score;
        d.class_score = cls;
        d.class_id = cid;
        d.source = a;
        out.push_back(d);
      }
    }
  }
  keep_top(&out, opt.max_candidates);
  return out;
}

}  // namespace sf
