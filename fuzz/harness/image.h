// fuzz_image: the input is a PNG/JPEG file (contracts: fuzz/targets.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "common.h"
#include "image/image.h"

namespace sf_fuzz {

inline bool check_tensor_finite(const std::vector<float>& t) {
  for (float x : t) SF_FUZZ_CHECK(std::isfinite(x));
  return true;
}

inline bool exercise_decoded(const sf::image::rgba_image& img) {
  using namespace sf::image;
  const frame_view f = img.view();
  preprocess_options a = yolox_options(16);
  std::vector<float> ta(tensor_size(a));
  auto ga = preprocess(f, a, ta.data(), ta.size());
  SF_FUZZ_CHECK(ga.ok());
  if (!check_tensor_finite(ta)) return false;
  preprocess_options b = imagenet_options(8);
  b.layout = tensor_layout::nhwc;
  std::vector<float> tb(tensor_size(b));
  const box crop{float(img.width) * 0.25f, float(img.height) * 0.1f, float(img.width) * 0.9f, float(img.height)};
  auto gb = preprocess_crop(f, crop, crop_options{0.1f, true}, b, tb.data(), tb.size());
  SF_FUZZ_CHECK(gb.ok());
  if (!check_tensor_finite(tb)) return false;
  return true;
}

}  // namespace sf_fuzz

// =======================================================================================
// Entry point (returns 0 like LLVMFuzzerTestOneInput)

// The input is an encoded image: probe, decode with small limits, preprocess the pixels.
inline int fuzz_image(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  using namespace sf::image;
  auto info = probe(data, size);
  if (info) {
    const image_info& i = info.value();
    SF_FUZZ_CHECK(i.width >= 1 && i.height >= 1 && i.width <= max_side && i.height <= max_side);
    SF_FUZZ_CHECK(int64_t(i.width) * i.height <= max_pixels);
    SF_FUZZ_CHECK(i.channels >= 1 && i.channels <= 4 && i.codec != image_codec::unknown);
  } else {
    SF_FUZZ_CHECK(!info.err().message.empty());
  }
  decode_limits lim;
  lim.max_bytes = size_t(1) << 20;
  lim.max_side = 512;
  lim.max_pixels = int64_t(1) << 16;
  auto img = decode_rgba(data, size, lim);
  if (!img) {
    SF_FUZZ_CHECK(!img.err().message.empty());
    return 0;
  }
  const rgba_image& m = img.value();
  SF_FUZZ_CHECK(m.width >= 1 && m.height >= 1 && m.width <= lim.max_side && m.height <= lim.max_side);
  SF_FUZZ_CHECK(int64_t(m.width) * m.height <= lim.max_pixels);
  SF_FUZZ_CHECK(m.pixels.size() == size_t(m.width) * size_t(m.height) * 4);
  SF_FUZZ_CHECK(info.ok() && info.value().width == m.width && info.value().height == m.height);
  if (!exercise_decoded(m)) return 0;
  return 0;
}
