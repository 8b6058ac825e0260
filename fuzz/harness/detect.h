// fuzz_detect: the input is byte-coded decoder options and tensors, read with sf_fuzz::reader
// (the format is described above fuzz_detect; contracts: fuzz/targets.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"
#include "detect/detect.h"

namespace sf_fuzz {

// Inside [0, w] x [0, h]; `strict`: also non-empty.
inline bool box_inside(const sf::det_box& b, float w, float h, bool strict) {
  if (!finite_box(b) || b.x0 < 0 || b.y0 < 0 || b.x1 > w || b.y1 > h) return false;
  return strict ? (b.x0 < b.x1 && b.y0 < b.y1) : (b.x0 <= b.x1 && b.y0 <= b.y1);
}

// A tensor filled from bytes; `size` may deliberately differ from the shape's product.
struct owned_tensor {
  std::vector<float> data;
  std::vector<int64_t> shape;
  sf::det_tensor view() const { return sf::det_tensor{data.data(), data.size(), shape}; }
};

constexpr size_t k_max_tensor_floats = size_t(1) << 16;

// Product of positive dims, or 0 when a dim is < 1 or the product exceeds the cap.
inline size_t shape_floats(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 1 || uint64_t(d) > k_max_tensor_floats) return 0;
    n *= size_t(d);
    if (n > k_max_tensor_floats) return 0;
  }
  return n;
}

// Fill modes: byte-coded values in [-1, 3] times a scale, raw float bits, or one constant.
// Values cycle through `pool` (the input's tail) so large tensors need few bytes.
inline void fill_tensor(owned_tensor& t, size_t n, uint8_t mode, float scale, float constant,
                        const std::vector<uint8_t>& pool, size_t& cursor) {
  t.data.assign(n, 0.5f);
  if (pool.empty()) return;
  for (size_t i = 0; i < n; ++i) {
    switch (mode % 4) {
      case 0:
      case 1: {
        const unsigned s = pool[cursor++ % pool.size()];
        t.data[i] = s > k_plain_max ? special_value(s - k_plain_max - 1)
                                    : (-1.0f + 4.0f * float(s) / float(k_plain_max)) * scale;
        break;
      }
      case 2: {
        uint32_t b = 0;
        for (int k = 0; k < 4; ++k) b |= uint32_t(pool[cursor++ % pool.size()]) << (8 * k);
        std::memcpy(&t.data[i], &b, 4);
        break;
      }
      default:
        t.data[i] = constant;
    }
  }
}

inline bool check_decoded(const sf::result<std::vector<sf::detection>>& r, const sf::det_decode_options& o,
                          int classes, size_t sources, bool must_fail) {
  if (!r) {
    SF_FUZZ_CHECK(!r.err().message.empty());
    return true;
  }
  SF_FUZZ_CHECK(!must_fail);
  const std::vector<sf::detection>& d = r.value();
  SF_FUZZ_CHECK(d.size() <= o.max_candidates);
  for (size_t i = 0; i < d.size(); ++i) {
    SF_FUZZ_CHECK(box_inside(d[i].box, float(o.input_width), float(o.input_height), true));
    SF_FUZZ_CHECK(std::isfinite(d[i].score) && d[i].score >= o.score_threshold);
    SF_FUZZ_CHECK(d[i].class_id >= -1 && d[i].class_id < classes);
    SF_FUZZ_CHECK(d[i].source < sources);
    if (i) SF_FUZZ_CHECK(d[i - 1].score >= d[i].score);
    if (i && d[i - 1].score == d[i].score) SF_FUZZ_CHECK(d[i - 1].source < d[i].source);
  }
  return true;
}

inline std::vector<int64_t> maybe_batch(std::vector<int64_t> s, bool batch) {
  if (batch) s.insert(s.begin(), 1);
  return s;
}

// Shape mode 0: consistent; 1: raw dims from bytes (may be <= 0 or huge); 2: consistent shape,
// one float short (must be an error).
inline std::vector<int64_t> raw_shape(reader& in) {
  std::vector<int64_t> s(1 + in.u8() % 4);
  for (int64_t& d : s) {
    const uint8_t b = in.u8();
    switch (b) {
      case 0xFF: d = std::numeric_limits<int64_t>::max(); break;
      case 0xFE: d = int64_t(1) << 32; break;
      case 0xFD: d = -1; break;
      case 0xFC: d = std::numeric_limits<int64_t>::min(); break;
      default: d = b;
    }
  }
  return s;
}

// Builds the tensor for `shape` in shape mode `mode`; false when too large to bother.
inline bool make_tensor(owned_tensor& t, std::vector<int64_t> shape, uint8_t shape_mode, uint8_t fill_mode, float scale,
                        float constant, const std::vector<uint8_t>& pool, size_t& cursor, bool* must_fail) {
  size_t n = shape_floats(shape);
  t.shape = std::move(shape);
  if (shape_mode == 2) {
    if (n == 0) return false;
    n -= 1;  // one float short of the shape
    *must_fail = true;
  } else if (n == 0) {
    if (shape_mode == 0) return false;
    n = cursor % 7;  // an invalid or huge shape: a few floats only (must be an error)
    *must_fail = true;
  }
  fill_tensor(t, n, fill_mode, scale, constant, pool, cursor);
  return true;
}

inline bool check_nms_and_proposals(std::vector<sf::detection> cands, reader& in, int input_w, int input_h) {
  sf::det_nms_options n;
  n.iou_threshold = in.num(0.0f, 1.0f);
  n.class_agnostic = in.flag();
  n.max_detections = in.u8() % 40;
  n.max_input = in.u16() % 2048;
  const bool nms_valid = n.iou_threshold >= 0 && n.iou_threshold <= 1 && n.max_detections >= 1 && n.max_input >= 1;
  auto k = sf::det_nms(cands, n);
  SF_FUZZ_CHECK(k.ok() == nms_valid);
  if (!k) return true;
  const std::vector<sf::detection>& kept = k.value();
  SF_FUZZ_CHECK(kept.size() <= n.max_detections && kept.size() <= n.max_input);
  for (size_t i = 0; i < kept.size(); ++i) {
    SF_FUZZ_CHECK(std::isfinite(kept[i].score) && finite_box(kept[i].box));
    if (i) SF_FUZZ_CHECK(kept[i - 1].score >= kept[i].score);
    for (size_t j = 0; j < i; ++j) {
      const float iou = sf::det_iou(kept[j].box, kept[i].box);
      SF_FUZZ_CHECK(iou >= 0 && iou <= 1);
      if (n.class_agnostic || kept[j].class_id == kept[i].class_id) SF_FUZZ_CHECK(iou <= n.iou_threshold);
    }
  }

  sf::det_proposal_options p;
  p.frame_width = 1 + in.u16() % 4096;
  p.frame_height = 1 + in.u16() % 4096;
  if (in.flag()) {
    auto fit = sf::det_letterbox_fit(p.frame_width, p.frame_height, input_w, input_h, in.flag());
    SF_FUZZ_CHECK(fit.ok());
    p.map = fit.value();
  } else {
    p.map.scale = in.num(0.0f, 4.0f);
    p.map.pad_x = in.num(-100.0f, 100.0f);
    p.map.pad_y = in.num(-100.0f, 100.0f);
  }
  p.min_side = in.num(0.0f, 64.0f);
  p.centre_fraction = in.num(0.0f, 1.25f);
  p.hint_class = int32_t(in.u8() % 4) - 1;
  p.hint_min_class_score = in.num(0.0f, 1.0f);
  p.merge_iou = in.num(0.0f, 1.25f);
  p.max_regions = in.u8() % 12;
  auto pr = sf::det_proposals(kept, p);
  SF_FUZZ_TRACE("nms %zu, proposals: %s %zu\n", kept.size(), pr ? "ok" : pr.err().message.c_str(),
                pr ? pr.value().size() : size_t(0));
  if (!pr) {
    SF_FUZZ_CHECK(!pr.err().message.empty());
    return true;
  }
  const std::vector<sf::det_region>& regs = pr.value();
  SF_FUZZ_CHECK(regs.size() >= 2 && regs.size() <= p.max_regions);
  SF_FUZZ_CHECK(regs[0].kind == sf::det_region_kind::full_frame && regs[1].kind == sf::det_region_kind::centre_crop);
  const float fw = float(p.frame_width), fh = float(p.frame_height);
  for (size_t i = 0; i < regs.size(); ++i) {
    const sf::det_region& r = regs[i];
    const bool fixed = i < 2;
    SF_FUZZ_CHECK(box_inside(r.box, fw, fh, !fixed));
    if (!fixed) {
      SF_FUZZ_CHECK(r.kind == sf::det_region_kind::detection || r.kind == sf::det_region_kind::person_hint);
      SF_FUZZ_CHECK(std::min(r.box.x1 - r.box.x0, r.box.y1 - r.box.y0) >= p.min_side);
      SF_FUZZ_CHECK(r.source < kept.size());
      for (size_t j = 0; j < i; ++j) SF_FUZZ_CHECK(sf::det_iou(regs[j].box, r.box) <= p.merge_iou);
    }
  }
  return true;
}

}  // namespace sf_fuzz

// =======================================================================================
// Entry point (returns 0 like LLVMFuzzerTestOneInput)

// Byte format (sf_fuzz::reader; see fuzz/make_seeds.cpp):
//   u8 decoder (%4: 0 yolox, 1 yolo boxes_objectness_classes, 2 yolo v8_transposed, 3 centernet)
//   u8 shape mode (%3: 0 consistent, 1 raw dims, 2 one float short), u8 fill mode (%4),
//   u8 scale index (%4: 1, 8, 64, 512), num(-2, 2) constant for fill mode 3,
//   u16 input width-1 (%640), u16 input height-1 (%640), num(-1, 1) score threshold,
//   u16 max_candidates (%1200, 0 invalid), u8 objectness_only (&1), u8 classes (%12),
//   u8 num_classes mode (%4: given right, -1, off by one, raw byte - 128), u8 batch (&1);
//   yolox: u8 stride count (%5; 0 keeps the default), that many u8 strides;
//   yolo: u16 anchors (%1024); centernet: u8 stride (%20), u8 floor/ceil bits;
//   raw shape mode: for each tensor u8 rank-1 (%4) and u8 dims (0xFC..0xFF: huge/negative);
//   u8 extra candidate count (%8), each: num box x0,y0 (-50,600), w,h (-10,300), score,
//   class score (0,1), u8 class (%4 - 1);
//   NMS: num iou (0,1), u8 class_agnostic, u8 max_detections (%40), u16 max_input (%2048);
//   proposals: u16 frame w, h (%4096 + 1), u8 letterbox_fit (&1) then u8 centred, else
//   num scale (0,4), pad x, y (-100,100); num min_side (0,64), centre_fraction (0,1.25),
//   u8 hint class (%4 - 1), num hint score (0,1), merge_iou (0,1.25), u8 max_regions (%12)
//   -- NMS and proposal options sit in a fixed 40-byte block (unused bytes ignored);
//   the bytes after that block fill the tensors (cycled; fill mode 2 reads 4 per float).
inline int fuzz_detect(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  reader in(data, size);
  const uint8_t decoder = in.u8() % 4;
  const uint8_t shape_mode = in.u8() % 3;
  const uint8_t fill_mode = in.u8() % 4;
  static const float scales[4] = {1.0f, 8.0f, 64.0f, 512.0f};
  const float scale = scales[in.u8() % 4];
  const float constant = in.num(-2.0f, 2.0f);
  sf::det_decode_options o;
  o.input_width = 1 + in.u16() % 640;
  o.input_height = 1 + in.u16() % 640;
  o.score_threshold = in.num(-1.0f, 1.0f);
  o.max_candidates = in.u16() % 1200;
  o.objectness_only = in.flag();
  const int classes = in.u8() % 12;
  switch (in.u8() % 4) {
    case 0: o.num_classes = classes; break;
    case 1: o.num_classes = -1; break;
    case 2: o.num_classes = classes + 1; break;
    default: o.num_classes = int(in.u8()) - 128;
  }
  const bool batch = in.flag();
  const int64_t C = classes;
  int64_t anchors = 0;
  int cn_stride = 0;
  int64_t cn_h = 0, cn_w = 0;
  if (decoder == 0) {
    const unsigned ns = in.u8() % 5;
    if (ns) {
      o.strides.clear();
      for (unsigned i = 0; i < ns; ++i) o.strides.push_back(in.u8());
    }
    for (int s : o.strides)
      if (s > 0)
        anchors += int64_t((o.input_height + s - 1) / s) * int64_t((o.input_width + s - 1) / s);
  } else if (decoder <= 2) {
    anchors = in.u16() % 1024;
  } else {
    cn_stride = in.u8() % 20;
    const uint8_t bits = in.u8();
    const int s = std::max(cn_stride, 1);
    cn_h = (bits & 1) ? (o.input_height + s - 1) / s : o.input_height / s;
    cn_w = (bits & 2) ? (o.input_width + s - 1) / s : o.input_width / s;
  }
  std::vector<std::vector<int64_t>> raw_shapes;
  if (shape_mode == 1)
    for (int i = 0; i < (decoder == 3 ? 3 : 1); ++i) raw_shapes.push_back(raw_shape(in));

  std::vector<sf::detection> extra(in.u8() % 8);
  for (sf::detection& d : extra) {
    d.box.x0 = in.num(-50.0f, 600.0f);
    d.box.y0 = in.num(-50.0f, 600.0f);
    d.box.x1 = d.box.x0 + in.num(-10.0f, 300.0f);
    d.box.y1 = d.box.y0 + in.num(-10.0f, 300.0f);
    d.score = in.num(0.0f, 1.0f);
    d.class_score = in.num(0.0f, 1.0f);
    d.class_id = int32_t(in.u8() % 4) - 1;
  }
  // NMS and proposal options come next, in a fixed-size block (zeros when short); the
  // tensors take whatever follows it.
  std::vector<uint8_t> tail(in.data(), in.data() + in.remaining());
  constexpr size_t k_post_bytes = 40;
  std::vector<uint8_t> post_block(tail.begin(), tail.begin() + std::min(tail.size(), k_post_bytes));
  std::vector<uint8_t> pool(tail.begin() + std::min(tail.size(), k_post_bytes), tail.end());
  size_t cursor = 0;

  bool must_fail = false;
  sf::result<std::vector<sf::detection>> decoded = sf::make_error(sf::status::ok, "");
  int report_classes = int(std::max<int64_t>(C, 1));
  size_t sources = 0;
  if (decoder <= 2) {
    owned_tensor t;
    std::vector<int64_t> shape;
    if (decoder == 2) shape = maybe_batch({4 + C, anchors}, batch);
    else shape = maybe_batch({anchors, 5 + C}, batch);
    if (shape_mode == 1) shape = raw_shapes[0];
    if (!make_tensor(t, shape, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (shape_mode == 1) {  // whatever the decoder accepts: bound the checks by the data
      report_classes = int(std::min<size_t>(t.data.size(), 1 << 20)) + 1;
      sources = t.data.size();
    } else {
      sources = size_t(anchors);
    }
    if (decoder == 0) decoded = sf::det_decode_yolox(t.view(), o);
    else
      decoded = sf::det_decode_yolo(
          t.view(), decoder == 1 ? sf::det_yolo_layout::boxes_objectness_classes : sf::det_yolo_layout::v8_transposed,
          o);
  } else {
    owned_tensor heat, sz, off;
    std::vector<int64_t> hs = maybe_batch({C, cn_h, cn_w}, batch), ss = maybe_batch({2, cn_h, cn_w}, batch),
                         os = {2, cn_h, cn_w};
    if (shape_mode == 1) hs = raw_shapes[0], ss = raw_shapes[1], os = raw_shapes[2];
    if (!make_tensor(heat, hs, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (!make_tensor(sz, ss, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (!make_tensor(off, os, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (shape_mode == 1) {
      report_classes = int(std::min<size_t>(heat.data.size(), 1 << 20)) + 1;
      sources = heat.data.size();
    } else {
      sources = size_t(C * cn_h * cn_w);
    }
    decoded = sf::det_decode_centernet(heat.view(), sz.view(), off.view(), cn_stride, o);
  }
  SF_FUZZ_TRACE("decode: %s %zu\n", decoded ? "ok" : decoded.err().message.c_str(),
                decoded ? decoded.value().size() : size_t(0));
  if (!check_decoded(decoded, o, report_classes, sources, must_fail)) return 0;

  std::vector<sf::detection> cands = decoded ? decoded.value() : std::vector<sf::detection>{};
  cands.insert(cands.end(), extra.begin(), extra.end());
  reader opts(post_block.data(), post_block.size());
  if (!check_nms_and_proposals(std::move(cands), opts, o.input_width, o.input_height)) return 0;
  return 0;
}
