// preprocess(): validation, letterbox geometry, per-axis resampling taps, and the
// separable driver that runs the chosen kernel table (resample_kernels.h).
//
// Taps: each output column (row) is a weighted sum of a few consecutive frame columns
// (rows). Bilinear uses pixel-centre alignment (src = c0 + (o + 0.5) / scale - 0.5,
// clamped to the frame); area averaging weights every frame pixel by its overlap with
// the output pixel's footprint [c0 + o / scale, c0 + (o + 1) / scale). Weights of one
// output sum to 1. Columns use a fixed tap count K per row (zero-padded) so the kernels
// loop without branches; rows keep only their non-zero taps. Rows are blended in integers:
// their weights are rounded to Q15 (fixed_weights; within 1/32768 each, summing to exactly
// 32768), so a value is off by at most 127.5 / 32768 (0.004) of an 8-bit level per row.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "image/resample_kernels.h"

namespace sf::image {
namespace kernels {

#ifndef SF_HAVE_X86_KERNELS
const table* sse41_table() noexcept { return nullptr; }
const table* avx2_table() noexcept { return nullptr; }
#endif
#ifndef SF_HAVE_WASM128_KERNELS
const table* wasm128_table() noexcept { return nullptr; }
#endif

std::vector<const table*> available() {
  std::vector<const table*> v{&scalar()};
#ifdef SF_HAVE_X86_KERNELS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.1") && sse41_table()) v.push_back(sse41_table());
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && avx2_table()) v.push_back(avx2_table());
#endif
  if (wasm128_table()) v.push_back(wasm128_table());
  return v;
}

const table& active() noexcept {
  static const table* chosen = [] {
    std::vector<const table*> v = available();
    if (const char* want = std::getenv("SF_SIMD")) {
      for (const table* t : v)
        if (std::strcmp(t->name, want) == 0) return t;
    }
    return v.back();
  }();
  return *chosen;
}

}  // namespace kernels

namespace {

error bad(status s, const std::string& what) { return make_error(s, "image::preprocess: " + what); }

std::string dims(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

struct axis_taps {
  int lo = 0, hi = 0;  // frame index range touched, [lo, hi)
  int K = 0;           // taps per output
  std::vector<int32_t> start;  // per output, relative to lo
  std::vector<float> w;        // per output, K weights
  std::vector<double> wd;      // the same weights in double (the fixed-point rows use them)
};

// Taps for `out_len` outputs covering [c0, c1) of a frame axis of `frame_len` pixels.
axis_taps make_taps(double c0, double c1, int frame_len, int out_len, bool area) {
  const double inv = (c1 - c0) / double(out_len);  // frame pixels per output pixel
  const size_t nout = static_cast<size_t>(out_len);
  std::vector<int32_t> first(nout), count(nout);
  std::vector<double> wt;
  std::vector<size_t> off(nout);
  int lo = frame_len, hi = 0, maxc = 1;
  for (int o = 0; o < out_len; ++o) {
    off[size_t(o)] = wt.size();
    int f = 0, n = 0;
    if (area) {
      const double a = c0 + double(o) * inv;
      const double b = std::min(c1, c0 + double(o + 1) * inv);
      const double span = b - a;
      f = std::clamp(int(std::floor(a)), 0, frame_len - 1);
      const int l = std::clamp(int(std::ceil(b)), f + 1, frame_len);
      double total = 0.0;
      for (int i = f; i < l; ++i) {
        double cover = span > 0 ? std::min(b, double(i + 1)) - std::max(a, double(i)) : (i == f ? 1.0 : 0.0);
        cover = std::max(cover, 0.0);
        wt.push_back(cover);
        total += cover;
      }
      n = l - f;
      if (total <= 0.0) {  // degenerate footprint: nearest pixel
        for (int i = 0; i < n; ++i) wt[off[size_t(o)] + size_t(i)] = (i == 0);
        total = 1.0;
      }
      for (int i = 0; i < n; ++i) wt[off[size_t(o)] + size_t(i)] /= total;
      // Trim zero-weight ends (a footprint ending exactly on a pixel edge).
      while (n > 1 && wt[off[size_t(o)] + size_t(n - 1)] <= 0.0) {
        wt.pop_back();
        --n;
      }
      while (n > 1 && wt[off[size_t(o)]] <= 0.0) {
        wt.erase(wt.begin() + std::ptrdiff_t(off[size_t(o)]));
        ++f;
        --n;
      }
    } else {
      double s = c0 + (double(o) + 0.5) * inv - 0.5;
      s = std::clamp(s, 0.0, double(frame_len - 1));
      f = std::min(int(std::floor(s)), frame_len - 1);
      const double t = s - double(f);
      if (t > 0.0 && f + 1 < frame_len) {
        wt.push_back(1.0 - t);
        wt.push_back(t);
        n = 2;
      } else {
        wt.push_back(1.0);
        n = 1;
      }
    }
    first[size_t(o)] = f;
    count[size_t(o)] = n;
    lo = std::min(lo, f);
    hi = std::max(hi, f + n);
    maxc = std::max(maxc, n);
  }
  axis_taps t;
  t.lo = lo;
  t.hi = hi;
  t.K = std::min(maxc, hi - lo);
  t.start.resize(size_t(out_len));
  t.w.assign(size_t(out_len) * size_t(t.K), 0.0f);
  t.wd.assign(size_t(out_len) * size_t(t.K), 0.0);
  const int range = hi - lo;
  for (int o = 0; o < out_len; ++o) {
    const int s = first[size_t(o)] - lo;
    const int s2 = std::min(s, range - t.K);  // keep start + K inside [0, range)
    t.start[size_t(o)] = s2;
    for (int i = 0; i < count[size_t(o)]; ++i) {
      const size_t j = size_t(o) * size_t(t.K) + size_t(s - s2 + i);
      t.wd[j] = wt[off[size_t(o)] + size_t(i)];
      t.w[j] = float(t.wd[j]);
    }
  }
  return t;
}

// Q15 weights for the integer vertical pass: w * 32768 rounded by largest remainder, so one
// output's K weights sum to exactly 32768 and each is within 1/32768 of its real weight.
// (A constant frame therefore stays exactly constant.)
std::vector<int32_t> fixed_weights(const axis_taps& t) {
  const size_t K = size_t(t.K), nout = t.start.size();
  std::vector<int32_t> q(nout * K, 0);
  std::vector<double> rem(K);
  std::vector<size_t> order(K);
  for (size_t o = 0; o < nout; ++o) {
    const double* w = t.wd.data() + o * K;
    int32_t* qo = q.data() + o * K;
    int64_t sum = 0;
    for (size_t k = 0; k < K; ++k) {
      const double x = w[k] * double(kernels::vertical_one);
      qo[k] = int32_t(std::floor(x));
      rem[k] = x - double(qo[k]);
      sum += qo[k];
    }
    for (size_t k = 0; k < K; ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rem[a] > rem[b] || (rem[a] == rem[b] && a < b); });
    // The weights sum to 1 up to double rounding, so 0 <= r <= K.
    for (int64_t r = kernels::vertical_one - sum, i = 0; r > 0; --r, i = (i + 1) % int64_t(K)) ++qo[order[size_t(i)]];
  }
  return q;
}

bool finite(float v) { return std::isfinite(v); }

// Fills the tensor rectangle [x0, x1) x [y0, y1) with the per-channel value v.
void fill_rect(float* out, const preprocess_options& o, int x0, int x1, int y0, int y1, const float v[3]) {
  if (x0 >= x1 || y0 >= y1) return;
  const size_t W = size_t(o.width), plane = size_t(o.width) * size_t(o.height);
  for (int y = y0; y < y1; ++y) {
    if (o.layout == tensor_layout::nchw) {
      for (int c = 0; c < 3; ++c) std::fill_n(out + size_t(c) * plane + size_t(y) * W + size_t(x0), x1 - x0, v[c]);
    } else {
      float* p = out + (size_t(y) * W + size_t(x0)) * 3;
      for (int x = x0; x < x1; ++x, p += 3) {
        p[0] = v[0];
        p[1] = v[1];
        p[2] = v[2];
      }
    }
  }
}

}  // namespace

preprocess_options yolox_options(int size) {
  preprocess_options o;
  o.width = o.height = size;
  o.mode = resize_mode::letterbox;
  o.anchor = pad_anchor::top_left;
  o.pad_value = 114.0f;
  o.order = channel_order::bgr;
  o.layout = tensor_layout::nchw;
  o.scale = 1.0f;
  return o;
}

preprocess_options imagenet_options(int size) {
  preprocess_options o;
  o.width = o.height = size;
  o.mode = resize_mode::stretch;
  o.order = channel_order::rgb;
  o.layout = tensor_layout::nchw;
  o.scale = 1.0f / 255.0f;
  o.mean[0] = 0.485f;
  o.mean[1] = 0.456f;
  o.mean[2] = 0.406f;
  o.std[0] = 0.229f;
  o.std[1] = 0.224f;
  o.std[2] = 0.225f;
  return o;
}

size_t tensor_size(const preprocess_options& o) {
  if (o.width <= 0 || o.height <= 0) return 0;
  return size_t(3) * size_t(o.width) * size_t(o.height);
}

namespace kernels {

result<geometry> preprocess_with(const table& t, const frame_view& f, const preprocess_options& o, float* out,
                                 size_t out_len) {
  // ---- frame
  if (f.format != pixel_format::rgba && f.format != pixel_format::rgb)
    return bad(status::invalid_argument, "frame format must be rgba or rgb");
  if (f.width <= 0 || f.height <= 0) return bad(status::invalid_argument, "frame size " + dims(f.width, f.height) + " is empty");
  if (f.width > max_side || f.height > max_side || int64_t(f.width) * f.height > max_pixels)
    return bad(status::limit_exceeded, "frame size " + dims(f.width, f.height) + " exceeds the limit (" +
                                           std::to_string(max_side) + " per side, " + std::to_string(max_pixels) +
                                           " pixels)");
  if (!f.data) return bad(status::invalid_argument, "frame data is null");
  const int C = channels(f.format);
  const int64_t row_bytes = int64_t(f.width) * C;
  const int64_t stride = f.stride == 0 ? row_bytes : int64_t(f.stride);
  if (stride < row_bytes)
    return bad(status::invalid_argument, "frame stride " + std::to_string(stride) + " < width * channels = " +
                                             std::to_string(row_bytes));
  const int64_t need = stride * (f.height - 1) + row_bytes;
  if (uint64_t(need) > uint64_t(f.size))
    return bad(status::invalid_argument, "frame buffer has " + std::to_string(f.size) + " bytes, " +
                                             dims(f.width, f.height) + " with stride " + std::to_string(stride) +
                                             " needs " + std::to_string(need));
  // ---- options
  if (o.width <= 0 || o.height <= 0)
    return bad(status::invalid_argument, "model input size " + dims(o.width, o.height) + " is empty");
  if (o.width > max_side || o.height > max_side || int64_t(o.width) * o.height > max_pixels)
    return bad(status::limit_exceeded, "model input size " + dims(o.width, o.height) + " exceeds the limit");
  if (o.mode != resize_mode::stretch && o.mode != resize_mode::letterbox)
    return bad(status::invalid_argument, "unknown resize mode");
  if (o.anchor != pad_anchor::center && o.anchor != pad_anchor::top_left)
    return bad(status::invalid_argument, "unknown pad anchor");
  if (o.order != channel_order::rgb && o.order != channel_order::bgr)
    return bad(status::invalid_argument, "unknown channel order");
  if (o.layout != tensor_layout::nchw && o.layout != tensor_layout::nhwc)
    return bad(status::invalid_argument, "unknown tensor layout");
  if (o.resample != resample_mode::automatic && o.resample != resample_mode::bilinear &&
      o.resample != resample_mode::area)
    return bad(status::invalid_argument, "unknown resample mode");
  if (!finite(o.scale) || !finite(o.pad_value)) return bad(status::invalid_argument, "scale and pad_value must be finite");
  for (int c = 0; c < 3; ++c) {
    if (!finite(o.mean[c]) || !finite(o.std[c]) || o.std[c] == 0.0f)
      return bad(status::invalid_argument, "mean[" + std::to_string(c) + "] must be finite and std[" +
                                               std::to_string(c) + "] finite and non-zero");
  }
  const size_t need_out = tensor_size(o);
  if (!out) return bad(status::invalid_argument, "output tensor is null");
  if (out_len < need_out)
    return bad(status::invalid_argument, "output tensor has " + std::to_string(out_len) + " floats, " +
                                             dims(o.width, o.height) + "x3 needs " + std::to_string(need_out));
  // ---- crop
  box cr{0.0f, 0.0f, float(f.width), float(f.height)};
  if (o.use_crop) {
    const box& b = o.crop;
    if (!finite(b.x0) || !finite(b.y0) || !finite(b.x1) || !finite(b.y1))
      return bad(status::invalid_argument, "crop box has a non-finite coordinate");
    cr.x0 = std::clamp(b.x0, 0.0f, float(f.width));
    cr.x1 = std::clamp(b.x1, 0.0f, float(f.width));
    cr.y0 = std::clamp(b.y0, 0.0f, float(f.height));
    cr.y1 = std::clamp(b.y1, 0.0f, float(f.height));
    if (!(cr.x1 > cr.x0) || !(cr.y1 > cr.y0))
      return bad(status::invalid_argument,
                 "crop box (" + std::to_string(b.x0) + ", " + std::to_string(b.y0) + ", " + std::to_string(b.x1) + ", " +
                     std::to_string(b.y1) + ") is empty or outside the " + dims(f.width, f.height) + " frame");
  }
  // ---- geometry
  const double cw = double(cr.x1) - cr.x0, ch = double(cr.y1) - cr.y0;
  geometry g;
  g.crop = cr;
  g.model_width = o.width;
  g.model_height = o.height;
  if (o.mode == resize_mode::stretch) {
    g.content_width = o.width;
    g.content_height = o.height;
  } else {
    const double r = std::min(double(o.width) / cw, double(o.height) / ch);
    g.content_width = std::clamp(int(std::lround(cw * r)), 1, o.width);
    g.content_height = std::clamp(int(std::lround(ch * r)), 1, o.height);
    if (o.anchor == pad_anchor::center) {
      g.pad_x = (o.width - g.content_width) / 2;
      g.pad_y = (o.height - g.content_height) / 2;
    }
  }
  g.scale_x = float(double(g.content_width) / cw);
  g.scale_y = float(double(g.content_height) / ch);

  // ---- normalisation: v * a + b (the vertical pass gives 32768 * v: a carries the 2^-15)
  float a[3], bias[3], padv[3];
  for (int c = 0; c < 3; ++c) {
    a[c] = o.scale / o.std[c];
    bias[c] = -o.mean[c] / o.std[c];
    padv[c] = o.pad_value * a[c] + bias[c];
    a[c] *= 1.0f / float(vertical_one);
  }
  const int W = o.width, H = o.height;
  const int px = g.pad_x, py = g.pad_y, nw = g.content_width, nh = g.content_height;
  fill_rect(out, o, 0, W, 0, py, padv);
  fill_rect(out, o, 0, W, py + nh, H, padv);
  fill_rect(out, o, 0, px, py, py + nh, padv);
  fill_rect(out, o, px + nw, W, py, py + nh, padv);

  // ---- taps
  const bool area_x = o.resample == resample_mode::area || (o.resample == resample_mode::automatic && cw > 2.0 * nw);
  const bool area_y = o.resample == resample_mode::area || (o.resample == resample_mode::automatic && ch > 2.0 * nh);
  const axis_taps tx = make_taps(cr.x0, cr.x1, f.width, nw, area_x);
  const axis_taps ty = make_taps(cr.y0, cr.y1, f.height, nh, area_y);

  const std::vector<int32_t> qy = fixed_weights(ty);

  const size_t n = size_t(tx.hi - tx.lo) * size_t(C);
  std::vector<float> acc(n + 4, 0.0f);  // SIMD horizontal loads read one float past
  std::vector<const uint8_t*> rows(size_t(ty.K) + 1);
  std::vector<int16_t> rw(size_t(ty.K) + 1);
  const uint8_t* base = f.data + size_t(tx.lo) * size_t(C);
  const bool bgr = o.order == channel_order::bgr;
  const bool nchw = o.layout == tensor_layout::nchw;
  const size_t plane = size_t(W) * size_t(H);
  for (int y = 0; y < nh; ++y) {
    int taps = 0;
    for (int k = 0; k < ty.K; ++k) {
      const int32_t wk = qy[size_t(y) * size_t(ty.K) + size_t(k)];
      if (wk == 0) continue;
      const uint8_t* row = base + size_t(ty.lo + ty.start[size_t(y)] + k) * size_t(stride);
      if (wk == vertical_one) {  // a lone tap: int16 holds at most 32767, so twice 16384
        rows[size_t(taps)] = row;
        rw[size_t(taps)] = int16_t(vertical_one / 2);
        ++taps;
        rows[size_t(taps)] = row;
        rw[size_t(taps)] = int16_t(vertical_one / 2);
      } else {
        rows[size_t(taps)] = row;
        rw[size_t(taps)] = int16_t(wk);
      }
      ++taps;
    }
    t.vertical(rows.data(), rw.data(), taps, n, acc.data());
    float* dst = nchw ? out + size_t(py + y) * size_t(W) + size_t(px) : out + (size_t(py + y) * size_t(W) + size_t(px)) * 3;
    t.horizontal(acc.data(), C, tx.start.data(), tx.w.data(), tx.K, nw, bgr, a, bias, nchw, plane, dst);
  }
  return g;
}

}  // namespace kernels

result<geometry> preprocess(const frame_view& frame, const preprocess_options& o, float* out, size_t out_len) {
  return kernels::preprocess_with(kernels::active(), frame, o, out, out_len);
}

}  // namespace sf::image
