// shopframe image: frame preprocessing into model tensors, JPEG/PNG decoding, crops.
//
//   sf::image::frame_view f{rgba, rgba_len, 1280, 720};               // RGBA, tight rows
//   sf::image::preprocess_options o = sf::image::yolox_options(416);  // letterbox, pad 114
//   std::vector<float> t(sf::image::tensor_size(o));                   // or a Float32Array view
//   auto g = sf::image::preprocess(f, o, t.data(), t.size());
//   if (!g) return g.err();                       // status + message, nothing thrown
//   sf::image::box src = sf::image::to_source(g.value(), model_box); // back to frame pixels
//
//   auto e = sf::image::preprocess_crop(f, src, {0.1f, true},         // 10% margin, square
//                                       sf::image::imagenet_options(224), emb_in, 3 * 224 * 224);
//   auto img = sf::image::decode_rgba(jpeg_bytes, jpeg_len);           // owning RGBA pixels
//
// Data conventions
// - Frames are u8, HWC, RGBA (4 bytes/pixel) or RGB (3), row stride in bytes (>= width *
//   channels; 0 means tight). The caller owns frame memory; views never copy or keep it.
// - Boxes are xyxy in float pixels of the frame (x0,y0 inclusive edge, x1,y1 exclusive edge:
//   the whole frame is {0, 0, width, height}).
// - Tensors are float32, batch 1, NCHW (3 planes of height*width) or NHWC (height*width*3),
//   written into caller-owned memory (in WASM a Float32Array view of the module's memory).
//   Every element of the tensor is written (padding included).
// - Normalisation: out[c] = (v * scale - mean[c]) / std[c], v in [0, 255], c the tensor
//   channel after channel reordering (mean/std are given in the tensor's channel order).
// - Resampling: pixel-centre aligned; area averaging on an axis shrunk by more than 2x,
//   bilinear otherwise (override with preprocess_options::resample). Alpha is ignored.
//   Vertical weights are 15-bit fixed point: a value is off the exact resample by at most
//   0.004 of a pixel level per frame row blended into it (0.02 for 5 rows); constant
//   regions stay exact.
// - decode_rgba returns an owning image; nothing else in this header allocates memory that
//   outlives the call.
// Errors are sf::result values (status invalid_argument, limit_exceeded, corrupt,
// truncated, unsupported); bad input never aborts or prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"

namespace sf::image {

// Documented limits for frames, model inputs and decoded images.
constexpr int max_side = 16384;                       // width or height, pixels
constexpr int64_t max_pixels = 100'000'000;            // width * height
constexpr size_t max_encoded_bytes = 64u << 20;        // decode input size

enum class pixel_format : char { rgba = 'A', rgb = 'C' };

struct frame_view {
  const uint8_t* data = nullptr;
  size_t size = 0;  // bytes readable at data (checked against height * stride)
  int width = 0;
  int height = 0;
  pixel_format format = pixel_format::rgba;
  int stride = 0;  // bytes between row starts; 0 = width * channels
};

inline int channels(pixel_format f) { return f == pixel_format::rgba ? 4 : 3; }

struct box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

enum class resize_mode : char { stretch = 's', letterbox = 'l' };
enum class pad_anchor : char { center = 'c', top_left = 't' };  // YOLOX: top_left
enum class channel_order : char { rgb = 'r', bgr = 'b' };
enum class tensor_layout : char { nchw = 'c', nhwc = 'h' };
enum class resample_mode : char { automatic = 'a', bilinear = 'b', area = 'r' };

struct preprocess_options {
  int width = 640;   // model input width
  int height = 640;  // model input height
  resize_mode mode = resize_mode::letterbox;
  pad_anchor anchor = pad_anchor::center;
  float pad_value = 114.0f;  // padding, in pixel units (normalised like pixels)
  channel_order order = channel_order::rgb;
  tensor_layout layout = tensor_layout::nchw;
  float scale = 1.0f / 255.0f;
  float mean[3] = {0.0f, 0.0f, 0.0f};
  float std[3] = {1.0f, 1.0f, 1.0f};
  resample_mode resample = resample_mode::automatic;
  bool use_crop = false;  // when true, only `crop` (clamped to the frame) is used
  box crop;
};

// YOLOX: letterbox top-left, pad 114, BGR, NCHW, raw 0..255 values.
preprocess_options yolox_options(int size = 416);
// ImageNet classifiers/embedders: stretch, RGB, NCHW, scale 1/255, ImageNet mean/std.
preprocess_options imagenet_options(int size = 224);

// Floats needed for the tensor of `o` (3 * width * height).
size_t tensor_size(const preprocess_options& o);

// How source pixels map into the model input:
//   model_x = (src_x - crop.x0) * scale_x + pad_x      (same for y)
struct geometry {
  box crop;                  // frame region used (clamped), frame pixels
  float scale_x = 1, scale_y = 1;  // model pixels per frame pixel
  int pad_x = 0, pad_y = 0;  // model pixels before the content (letterbox)
  int content_width = 0, content_height = 0;  // model pixels covered by the frame
  int model_width = 0, model_height = 0;
};

// Model-space box -> frame pixels, clamped to geometry.crop.
box to_source(const geometry& g, const box& model_box);
// Frame-pixel box -> model space (not clamped).
box to_model(const geometry& g, const box& frame_box);

// Resamples (the crop of) `frame` into the tensor described by `o`, written to
// out[0 .. tensor_size(o)). out_len is the number of floats available at out.
[[nodiscard]] result<geometry> preprocess(const frame_view& frame, const preprocess_options& o, float* out,
                                          size_t out_len);

// Embedder crops.
struct crop_options {
  float margin = 0.0f;  // fraction of the box's width/height added on each side
  bool square = false;  // grow the shorter side to the longer one (centred)
};

// The box after margin and squaring, moved inside the frame where possible and clamped
// (a box entirely outside the frame is returned expanded but unmoved).
box expand_box(const box& b, const crop_options& c, int frame_width, int frame_height);

// preprocess() of expand_box(b, c, ...) with o.use_crop forced on.
[[nodiscard]] result<geometry> preprocess_crop(const frame_view& frame, const box& b, const crop_options& c,
                                               const preprocess_options& o, float* out, size_t out_len);

// Decoding (JPEG, PNG via stb_image).
enum class image_codec : char { unknown = '?', jpeg = 'J', png = 'P' };

struct decode_limits {
  size_t max_bytes = max_encoded_bytes;
  int max_side = sf::image::max_side;
  int64_t max_pixels = sf::image::max_pixels;
};

struct image_info {
  int width = 0;
  int height = 0;
  int channels = 0;  // in the file (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)
  image_codec codec = image_codec::unknown;
};

// An owning RGBA image (tight rows).
struct rgba_image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 4
  frame_view view() const {
    return frame_view{pixels.data(), pixels.size(), width, height, pixel_format::rgba, width * 4};
  }
};

// Header only: dimensions and codec, without decoding pixels.
[[nodiscard]] result<image_info> probe(const uint8_t* data, size_t size);
// Full decode into RGBA u8. Dimensions are checked against `limits` before decoding.
[[nodiscard]] result<rgba_image> decode_rgba(const uint8_t* data, size_t size, const decode_limits& limits = {});

}  // namespace sf::image
