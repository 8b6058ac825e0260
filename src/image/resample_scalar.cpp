// Scalar reference kernels for preprocess(): the contract of resample_kernels.h written
// plainly. Every SIMD table is tested against this one.
#include "image/resample_kernels.h"

namespace sf::image::kernels {
namespace {

void vertical(const uint8_t* const* rows, const int16_t* w, int taps, size_t n, float* acc) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t s = 0;  // wraps like the SIMD lanes (no overflow within the contract)
    for (int k = 0; k < taps; ++k) s += uint32_t(int32_t(rows[k][i]) * int32_t(w[k]));
    acc[i] = float(int32_t(s));
  }
}

void horizontal(const float* acc, int C, const int32_t* start, const float* w, int K, int out_w, bool bgr,
                const float* a, const float* b, bool nchw, size_t plane, float* out) {
  for (int x = 0; x < out_w; ++x) {
    float p[3] = {0.0f, 0.0f, 0.0f};
    const float* wx = w + size_t(x) * size_t(K);
    for (int k = 0; k < K; ++k) {
      const float* px = acc + size_t(start[x] + k) * size_t(C);
      for (int c = 0; c < 3; ++c) p[c] += wx[k] * px[c];
    }
    for (int c = 0; c < 3; ++c) {
      float v = p[bgr ? 2 - c : c] * a[c] + b[c];
      if (nchw)
        out[size_t(c) * plane + size_t(x)] = v;
      else
        out[size_t(x) * 3 + size_t(c)] = v;
    }
  }
}

const table kScalar{"scalar", vertical, horizontal};

}  // namespace

const table& scalar() noexcept { return kScalar; }

}  // namespace sf::image::kernels
