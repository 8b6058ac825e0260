// shopframe detection: decode detector heads, suppress overlaps, build product regions.
//
//   sf::det_tensor out{ort_data, 3549 * 85, {1, 3549, 85}};      // YOLOX-Nano, 416x416 input
//   sf::det_decode_options dopt;
//   dopt.input_width = dopt.input_height = 416;
//   dopt.objectness_only = true;                                  // products are rarely COCO classes
//   auto cands = sf::det_decode_yolox(out, dopt);                 // boxes in model-input pixels
//   if (!cands) return cands.err();
//   sf::det_nms_options nopt; nopt.class_agnostic = true;
//   auto kept = sf::det_nms(cands.value(), nopt);
//   sf::det_proposal_options popt; popt.frame_width = 1280; popt.frame_height = 720;
//   popt.map = sf::det_letterbox_fit(1280, 720, 416, 416, /*centred=*/false).value();
//   auto regions = sf::det_proposals(kept.value(), popt);        // full frame, centre crop, best boxes
//
// Conventions
// - Boxes are `xyxy` floats (x0 <= x1, y0 <= y1) in model-input pixels (0..input_width,
//   0..input_height), except det_region boxes, which are in source-frame pixels.
//   Every box a decoder returns is finite, non-empty and clipped to the model input.
// - Tensors are float32, row-major (C order) with an explicit shape; `size` is the number of
//   floats readable at `data` and must equal the product of the shape.
// - Nothing is owned across calls: inputs are read-only views used only during the call, and
//   results are returned by value. All functions are stateless and thread-compatible.
// - Bad input (wrong shape, bad option) yields an error naming what was expected and what was
//   given; NaN/Inf/huge values inside tensors are never an error: such candidates are dropped.
// - Lists returned by decoders and det_nms are ordered by score, highest first; equal scores
//   keep the order of their source (anchor index, heat-map index, input position).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"

namespace sf {

struct det_box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct detection {
  det_box box;              // xyxy, model-input pixels, clipped to the input
  float score = 0;          // see det_decode_options::objectness_only
  float class_score = 0;    // best class probability (0 when the head has no classes)
  int32_t class_id = -1;    // best class (argmax, lowest id on ties); -1 when the head has no classes
  uint32_t source = 0;      // anchor index (YOLO heads) or heat-map cell c*H*W + y*W + x (CenterNet)
};

// A read-only view of a float32 row-major tensor.
struct det_tensor {
  const float* data = nullptr;
  size_t size = 0;               // floats readable at `data`; must equal the product of `shape`
  std::vector<int64_t> shape;    // e.g. {1, 3549, 85}
};

// Layouts of already-decoded YOLO-style heads (det_decode_yolo).
enum class det_yolo_layout : char {
  boxes_objectness_classes = 'o',  // [1, A, 4+1+C]: cx, cy, w, h (input px), objectness, C class scores
  v8_transposed = '8',             // [1, 4+C, A]: cx, cy, w, h (input px), C class scores; no objectness
};

struct det_decode_options {
  int input_width = 0;              // model input size in pixels (required, 1..65536)
  int input_height = 0;
  float score_threshold = 0.25f;    // keep candidates with score >= threshold
  size_t max_candidates = 1000;     // keep at most this many (best scores), >= 1
  // false: score = objectness * best class score (heads without objectness: best class score).
  // true (class-agnostic proposal mode): score = objectness alone (heads without objectness:
  //   best class score; CenterNet: peaks of the per-cell maximum over classes).
  // class_id / class_score always report the best class, so "person" boxes can act as hints.
  bool objectness_only = false;
  int num_classes = -1;             // -1: inferred from the shape; otherwise checked against it
  std::vector<int> strides = {8, 16, 32};  // YOLOX only: one grid per stride, ceil(size / stride)
};

// YOLOX head as exported without decoding (the shared YOLOX-Nano): output [1, A, 5+C] (or [A, 5+C]),
// A = sum over strides s of ceil(H/s) * ceil(W/s), anchors ordered stride by stride, row by row.
// Per anchor: tx, ty, tw, th, objectness, C class scores (sigmoids already applied);
// cx = (tx + grid_x) * s, w = exp(tw) * s (argument clamped to +-20). Errors if A does not match.
result<std::vector<detection>> det_decode_yolox(const det_tensor& output, const det_decode_options& opt);

// Already-decoded YOLO-style head of a user model, in one of the layouts above (batch 1 or no batch
// dimension). det_yolo_layout::v8_transposed needs C >= 1; set num_classes to catch a swapped layout.
result<std::vector<detection>> det_decode_yolo(const det_tensor& output, det_yolo_layout layout,
                                               const det_decode_options& opt);

// CenterNet-style head at output stride `stride`: heat [C, H, W] (sigmoided), size [2, H, W]
// (w, h in output cells) and offset [2, H, W] (x, y in output cells); a leading batch of 1 is
// allowed on each. H must be floor or ceil of input_height / stride (same for W). A cell is a peak
// when it is the maximum of its 3x3 neighbourhood (on a plateau the first cell in raster order
// wins); box = (x + off_x -+ w/2) * stride, (y + off_y -+ h/2) * stride.
result<std::vector<detection>> det_decode_centernet(const det_tensor& heat, const det_tensor& size,
                                                    const det_tensor& offset, int stride,
                                                    const det_decode_options& opt);

// Intersection over union; 0 when the union is empty.
float det_iou(const det_box& a, const det_box& b) noexcept;

struct det_nms_options {
  float iou_threshold = 0.45f;  // suppress a box whose IoU with a kept box is > threshold, 0..1
  bool class_agnostic = false;  // false: only boxes of the same class_id suppress each other
  size_t max_detections = 100;  // >= 1
  size_t max_input = 1000;      // only the best-scored max_input candidates enter NMS, >= 1
};

// Greedy NMS. Candidates with a non-finite score or box are dropped. Equal scores are broken by
// input order (earlier wins), so the result is deterministic.
result<std::vector<detection>> det_nms(const std::vector<detection>& candidates, const det_nms_options& opt);

// Letterbox geometry: model pixel x maps to source pixel (x - pad_x) / scale (same for y).
struct det_letterbox {
  float scale = 1;
  float pad_x = 0;
  float pad_y = 0;
};

// Geometry of fitting a src_w x src_h frame into dst_w x dst_h keeping the aspect ratio:
// scale = min(dst_w / src_w, dst_h / src_h); padding split evenly when `centred`, else all on the
// right/bottom (YOLOX's own preprocessing pads right/bottom).
result<det_letterbox> det_letterbox_fit(int src_w, int src_h, int dst_w, int dst_h, bool centred);

// Maps a box from model pixels to source pixels (not clipped).
det_box det_letterbox_to_source(const det_letterbox& map, const det_box& b) noexcept;

enum class det_region_kind : char {
  detection = 'd',    // a detector box
  person_hint = 'p',  // a box of the hint class (COCO person): products are often held in hands
  full_frame = 'f',
  centre_crop = 'c',
};

struct det_region {
  det_box box;          // source-frame pixels, clipped to the frame
  det_region_kind kind = det_region_kind::detection;
  float score = 0;      // detection score; 0 for full_frame and centre_crop
  int32_t class_id = -1;
  uint32_t source = 0;  // index into the detections given to det_proposals; 0 for fixed regions
};

struct det_proposal_options {
  int frame_width = 0;            // source frame size in pixels (required, 1..65536)
  int frame_height = 0;
  det_letterbox map;              // model pixels -> source pixels
  float min_side = 16;            // drop mapped, clipped boxes whose shorter side is below this (px)
  float centre_fraction = 0.7f;   // centre crop side as a fraction of each frame side, (0, 1]
  int32_t hint_class = 0;         // class marked as person_hint (COCO person); -1: none
  float hint_min_class_score = 0.25f;  // ... when its class_score is at least this
  float merge_iou = 0.9f;         // a box with IoU > merge_iou against a region already chosen is a duplicate
  size_t max_regions = 4;         // total, including full frame and centre crop; >= 2
};

// Regions to embed for product matching: always the full frame then the centre crop, then the
// best-scored detections (detection or person_hint) after mapping, clipping, size filtering and
// duplicate merging, up to max_regions in total.
result<std::vector<det_region>> det_proposals(const std::vector<detection>& detections,
                                              const det_proposal_options& opt);

}  // namespace sf
