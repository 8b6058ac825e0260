// Model manifests: a small JSON file beside each ONNX model saying what it is, where it
// came from and how to feed it. Parsed with simdjson On Demand; no exceptions.
//
//   auto m = sf::parse_model_manifest(text, "models/yolox-nano.json");
//   if (!m) { show(m.err().message); }   // "models/yolox-nano.json:9:14: field 'input.std[1]':
//                                        //  expected a finite non-zero number, got 0"
//   const sf::model_manifest& mm = m.value();
//   mm.input.width; mm.kind == sf::model_kind::yolox; mm.strides;  // {8, 16, 32}
//
// {"manifest_version": 1,                               optional, 1 if present
//  "name": "yolox-nano", "file": "yolox_nano.onnx",     required, non-empty; file is a
//                                                       relative path without "..", "\"
//  "sha256": "<64 hex digits>",                         required (stored lower case)
//  "licence": "Apache-2.0", "source_url": "https://..", licence required, source_url optional
//  "notes": "...",                                      optional
//  "input": {"name": "images", "width": 416, "height": 416,    required, sizes 1..4096
//            "layout": "NCHW"|"NHWC",                   default NCHW
//            "color": "RGB"|"BGR",                      default RGB
//            "mean": [m0,m1,m2], "std": [s0,s1,s2],     finite; std != 0; default 0 / 1
//            "scale": 0.00392156862745098,              finite > 0, default 1: the tensor is
//                                                       (pixel * scale - mean) / std
//            "letterbox": true, "pad_value": 114,       default false / 0; pad in 0..255
//            "size_multiple": 32},                      optional, 1..1024: the model takes any
//                                                       input whose sides are multiples of it.
//                                                       Letterboxed: up to width x height, and
//                                                       each frame gets the smallest such canvas
//                                                       holding its letterboxed content.
//                                                       Stretched: each frame gets its own
//                                                       aspect at the pixels of width x height
//                                                       (or max_pixels), sides rounded to the
//                                                       nearest multiple
//            "max_pixels": 102400,                      optional, size_multiple only: the
//                                                       letterboxed content is scaled down to at
//                                                       most this many pixels (the canvas rounds
//                                                       it up to the multiple), so any aspect
//                                                       costs about the same; stretched: the
//                                                       pixel budget instead of width x height
//  "outputs": ["output"],                               required, 1..16 non-empty names
//  "kind": "embedding"|"yolox"|"yolo"|"yolov8"|"centernet",    required
//  "class_names": ["person", ...],                      optional, up to 65536 strings
//  "embedding_dim": 1280,                               required for kind embedding, 1..65536
//  "pooling": "global"|"regions",                       embedding only, default global: the
//                                                       model outputs one embedding per input
//                                                       image; "regions": its outputs are
//                                                       feature maps [1,C,H,W] of one pass over
//                                                       the whole frame, which the core pools
//                                                       per region (embed::pool_region; the
//                                                       channels add up to embedding_dim)
//  "strides": [8, 16, 32],                              yolox/yolo/yolov8: default [8,16,32];
//                                                       1..8 increasing values in 1..1024
//  "output_stride": 4}                                  centernet: default 4, 1..64
//
// Unknown fields are ignored (their values are skipped, not validated); duplicate known
// fields are errors; at most 1 MiB of text. Error messages name the source, the line and
// column (1-based, when a value is at fault), the field path and what was expected:
// "<source>:<line>:<col>: field 'input.mean[2]': <reason>". Status: parse_error for
// malformed or invalid content, limit_exceeded for the size limit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "image/image.h"

namespace sf {

enum class model_kind : char { embedding = 'E', yolox = 'X', yolo = 'Y', yolov8 = '8', centernet = 'C' };
enum class tensor_layout : char { nchw = 'C', nhwc = 'H' };
enum class color_order : char { rgb = 'R', bgr = 'B' };
enum class embedding_pooling : char { global = 'G', regions = 'R' };

// "embedding", "yolox", ... / "NCHW", "NHWC" / "RGB", "BGR"
const char* model_kind_name(model_kind k) noexcept;
const char* tensor_layout_name(tensor_layout l) noexcept;
const char* color_order_name(color_order c) noexcept;

struct model_input {
  std::string name;
  uint32_t width = 0, height = 0;
  tensor_layout layout = tensor_layout::nchw;
  color_order color = color_order::rgb;
  std::array<float, 3> mean{0.f, 0.f, 0.f};    // per channel, in the model's colour order
  std::array<float, 3> stddev{1.f, 1.f, 1.f};  // JSON "std"
  double scale = 1.0;                          // tensor = (pixel * scale - mean) / std
  bool letterbox = false;
  float pad_value = 0.f;                       // letterbox padding, pixel units 0..255
  uint32_t size_multiple = 0;                  // 0: fixed width x height (see above)
  uint32_t max_pixels = 0;                     // 0: no budget beyond width x height
};

struct model_manifest {
  std::string name, file, sha256, licence, source_url, notes;
  model_input input;
  std::vector<std::string> outputs;
  model_kind kind = model_kind::embedding;
  std::vector<std::string> class_names;  // may be empty
  uint32_t embedding_dim = 0;            // kind embedding (0 otherwise unless given)
  embedding_pooling pooling = embedding_pooling::global;
  std::vector<uint32_t> strides;         // yolox / yolo / yolov8 (empty otherwise unless given)
  uint32_t output_stride = 0;            // centernet (0 otherwise unless given)
};

constexpr size_t k_max_manifest_bytes = size_t(1) << 20;

[[nodiscard]] result<model_manifest> parse_model_manifest(std::string_view json, std::string_view source_name);

// How to turn a frame into this model's input tensor (size, letterbox or stretch, padding,
// colour order, layout, scale, mean/std). Letterboxed detector inputs pad right/bottom, as
// YOLOX's own preprocessing does, so boxes map back with det_letterbox_fit(..., false).
image::preprocess_options preprocess_options_for(const model_input& in);
// The same for one frame: with input.size_multiple, the canvas shrinks to the frame's
// aspect (a 1280x720 frame into a 416x416 model with multiple 32: 416x256, the content at
// the same scale as in the square), so a wide or tall video frame costs the detector only
// the pixels it covers; a stretched input gets the frame's aspect at about the same pixels
// (1280x720 into 288x288 with multiple 32: 384x224), so nothing is squashed. Without it,
// the fixed size. Frame sides must be >= 1.
image::preprocess_options preprocess_options_for(const model_input& in, int frame_width, int frame_height);

}  // namespace sf
