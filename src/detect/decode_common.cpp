#include "detect/decode_common.h"

#include <algorithm>
#include <cmath>

namespace sf::det_internal {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

result<void> check_tensor(const det_tensor& t, const char* what) {
  if (t.shape.empty() || t.shape.size() > 8)
    return make_error(status::invalid_argument, std::string(what) + ": tensor rank " +
                                                    std::to_string(t.shape.size()) + " is not 1..8");
  uint64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 1)
      return make_error(status::invalid_argument,
                        std::string(what) + ": shape " + shape_string(t.shape) + " has a dimension < 1");
    if (uint64_t(d) > (uint64_t(1) << 40) / n)
      return make_error(status::limit_exceeded,
                        std::string(what) + ": shape " + shape_string(t.shape) + " is too large");
    n *= uint64_t(d);
  }
  if (n != uint64_t(t.size))
    return make_error(status::invalid_argument, std::string(what) + ": shape " + shape_string(t.shape) +
                                                    " holds " + std::to_string(n) + " floats but size is " +
                                                    std::to_string(t.size));
  if (t.data == nullptr) return make_error(status::invalid_argument, std::string(what) + ": data is null");
  return {};
}

result<std::vector<int64_t>> squeeze_batch(const det_tensor& t, size_t rank, const char* what) {
  std::vector<int64_t> s = t.shape;
  if (s.size() == rank + 1) {
    if (s[0] != 1)
      return make_error(status::invalid_argument, std::string(what) + ": shape " + shape_string(t.shape) +
                                                      " has batch " + std::to_string(s[0]) +
                                                      "; pass one image at a time (batch 1)");
    s.erase(s.begin());
  }
  if (s.size() != rank)
    return make_error(status::invalid_argument, std::string(what) + ": shape " + shape_string(t.shape) +
                                                    " has rank " + std::to_string(t.shape.size()) +
                                                    ", expected " + std::to_string(rank) + " or " +
                                                    std::to_string(rank + 1) + " with batch 1");
  return s;
}

result<void> check_decode_options(const det_decode_options& opt, const char* what) {
  if (opt.input_width < 1 || opt.input_width > kMaxInputSide || opt.input_height < 1 ||
      opt.input_height > kMaxInputSide)
    return make_error(status::invalid_argument,
                      std::string(what) + ": input size " + std::to_string(opt.input_width) + "x" +
                          std::to_string(opt.input_height) + " is not within 1..65536 (set input_width/height)");
  if (!std::isfinite(opt.score_threshold))
    return make_error(status::invalid_argument, std::string(what) + ": score_threshold is not finite");
  if (opt.max_candidates < 1)
    return make_error(status::invalid_argument, std::string(what) + ": max_candidates must be >= 1");
  if (opt.num_classes < -1)
    return make_error(status::invalid_argument,
                      std::string(what) + ": num_classes " + std::to_string(opt.num_classes) + " is not -1 or >= 0");
  return {};
}

bool clip_box(det_box* b, float w, float h) noexcept {
  if (!(std::isfinite(b->x0) && std::isfinite(b->y0) && std::isfinite(b->x1) && std::isfinite(b->y1)))
    return false;
  b->x0 = std::min(std::max(b->x0, 0.0f), w);
  b->x1 = std::min(std::max(b->x1, 0.0f), w);
  b->y0 = std::min(std::max(b->y0, 0.0f), h);
  b->y1 = std::min(std::max(b->y1, 0.0f), h);
  return b->x1 > b->x0 && b->y1 > b->y0;
}

bool make_box(float cx, float cy, float bw, float bh, float w, float h, det_box* out) noexcept {
  if (!(std::isfinite(cx) && std::isfinite(cy) && std::isfinite(bw) && std::isfinite(bh))) return false;
  det_box b{cx - 0.5f * bw, cy - 0.5f * bh, cx + 0.5f * bw, cy + 0.5f * bh};
  if (!clip_box(&b, w, h)) return false;
  *out = b;
  return true;
}

void keep_top(std::vector<detection>* d, size_t k) {
  auto better = [](const detection& a, const detection& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.source < b.source;
  };
  if (d->size() > k) {
    std::partial_sort(d->begin(), d->begin() + std::ptrdiff_t(k), d->end(), better);
    d->resize(k);
  } else {
    std::sort(d->begin(), d->end(), better);
  }
}

}  // namespace sf::det_internal
