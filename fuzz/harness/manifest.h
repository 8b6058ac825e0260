// fuzz_manifest: the input is a model manifest JSON (contracts: fuzz/targets.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "common.h"
#include "image/image.h"
#include "model/manifest.h"

namespace sf_fuzz {

inline bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

inline bool safe_relative_path(std::string_view f) {
  if (f.empty() || f.front() == '/' || f.find('\\') != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos <= f.size()) {
    size_t end = f.find('/', pos);
    if (end == std::string_view::npos) end = f.size();
    if (f.substr(pos, end - pos) == "..") return false;
    pos = end + 1;
  }
  return true;
}

inline bool check_manifest(const sf::model_manifest& m) {
  SF_FUZZ_CHECK(!m.name.empty() && safe_relative_path(m.file));
  SF_FUZZ_CHECK(m.sha256.size() == 64 && is_lower_hex(m.sha256));
  const sf::model_input& in = m.input;
  SF_FUZZ_CHECK(in.width >= 1 && in.width <= 4096 && in.height >= 1 && in.height <= 4096);
  for (int c = 0; c < 3; ++c) {
    SF_FUZZ_CHECK(std::isfinite(in.mean[c]));
    SF_FUZZ_CHECK(std::isfinite(in.stddev[c]) && in.stddev[c] != 0);
  }
  SF_FUZZ_CHECK(std::isfinite(in.scale) && in.scale > 0);
  SF_FUZZ_CHECK(in.pad_value >= 0 && in.pad_value <= 255);
  SF_FUZZ_CHECK(!m.outputs.empty() && m.outputs.size() <= 16);
  for (const std::string& o : m.outputs) SF_FUZZ_CHECK(!o.empty());
  SF_FUZZ_CHECK(m.class_names.size() <= 65536);
  SF_FUZZ_CHECK(sf::model_kind_name(m.kind) != nullptr);
  if (m.kind == sf::model_kind::embedding) SF_FUZZ_CHECK(m.embedding_dim >= 1 && m.embedding_dim <= 65536);
  if (m.kind == sf::model_kind::yolox || m.kind == sf::model_kind::yolo || m.kind == sf::model_kind::yolov8) {
    SF_FUZZ_CHECK(!m.strides.empty() && m.strides.size() <= 8);
    for (size_t i = 0; i < m.strides.size(); ++i) {
      SF_FUZZ_CHECK(m.strides[i] >= 1 && m.strides[i] <= 1024);
      if (i) SF_FUZZ_CHECK(m.strides[i] > m.strides[i - 1]);
    }
  }
  if (m.kind == sf::model_kind::centernet) SF_FUZZ_CHECK(m.output_stride >= 1 && m.output_stride <= 64);
  const sf::image::preprocess_options p = sf::preprocess_options_for(in);
  SF_FUZZ_CHECK(p.width == int(in.width) && p.height == int(in.height));
  SF_FUZZ_CHECK(sf::image::tensor_size(p) == size_t(3) * in.width * in.height);
  // A letterboxed canvas fitted to a frame (input.size_multiple) is never larger than the
  // input, is a multiple of it on both sides, and covers the letterboxed frame (scaled down to
  // within input.max_pixels when set); a stretched one is a multiple within 4096 per side;
  // without it, the input size.
  if (in.size_multiple) SF_FUZZ_CHECK(in.width % in.size_multiple == 0 && in.height % in.size_multiple == 0);
  if (in.max_pixels) SF_FUZZ_CHECK(in.size_multiple != 0);
  if (m.pooling == sf::embedding_pooling::regions) SF_FUZZ_CHECK(m.kind == sf::model_kind::embedding && !m.input.letterbox);
  static const int frames[][2] = {{1, 1}, {1280, 720}, {720, 1280}, {65536, 1}, {1, 65536}, {333, 777}};
  for (const auto& f : frames) {
    const sf::image::preprocess_options q = sf::preprocess_options_for(in, f[0], f[1]);
    if (in.size_multiple && !in.letterbox) {
      SF_FUZZ_CHECK(q.width >= int(in.size_multiple) && q.width <= 4096 && q.width % int(in.size_multiple) == 0);
      SF_FUZZ_CHECK(q.height >= int(in.size_multiple) && q.height <= 4096 && q.height % int(in.size_multiple) == 0);
      continue;
    }
    SF_FUZZ_CHECK(q.width >= 1 && q.width <= int(in.width) && q.height >= 1 && q.height <= int(in.height));
    if (!in.size_multiple) {
      SF_FUZZ_CHECK(q.width == int(in.width) && q.height == int(in.height));
      continue;
    }
    SF_FUZZ_CHECK(q.width % int(in.size_multiple) == 0 && q.height % int(in.size_multiple) == 0);
    double r = std::min(double(in.width) / f[0], double(in.height) / f[1]);
    if (in.max_pixels) r = std::min(r, std::sqrt(double(in.max_pixels) / (double(f[0]) * f[1])));
    SF_FUZZ_CHECK(q.width >= std::min<double>(in.width, std::floor(f[0] * r)) && q.height >= std::min<double>(in.height, std::floor(f[1] * r)));
  }
  return true;
}

}  // namespace sf_fuzz

// =======================================================================================
// Entry point (returns 0 like LLVMFuzzerTestOneInput)

// The input is a manifest JSON.
inline int fuzz_manifest(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = sf::parse_model_manifest(text, "fuzz.json");
  if (!r) {
    SF_FUZZ_CHECK(r.err().code == sf::status::parse_error || r.err().code == sf::status::limit_exceeded);
    SF_FUZZ_CHECK(starts_with(r.err().message, "fuzz.json"));
    return 0;
  }
  if (!check_manifest(r.value())) return 0;
  return 0;
}
