// Internal: the 128-bit horizontal pass shared by resample_sse41.cpp and resample_avx2.cpp.
// Included inside an anonymous namespace of each file, so each copy is compiled with its
// file's flags (the AVX2 copy gets VEX encoding and fused multiply-add through SF_MADD).
// One pixel is one __m128 (lanes R, G, B, A-or-next-R); four pixels are transposed into
// one vector per tensor channel for NCHW.

inline void horizontal_x86(const float* acc, int C, const int32_t* start, const float* w, int K, int out_w, bool bgr,
                           const float* a, const float* b, bool nchw, size_t plane, float* out) {
  const __m128 va = _mm_setr_ps(a[0], a[1], a[2], 0.0f);
  const __m128 vb = _mm_setr_ps(b[0], b[1], b[2], 0.0f);
  const size_t step = size_t(C);
  auto pixel = [&](int x) {
    const float* wx = w + size_t(x) * size_t(K);
    const float* px = acc + size_t(start[x]) * step;
    __m128 p = _mm_setzero_ps();
    for (int k = 0; k < K; ++k) p = SF_MADD(_mm_set1_ps(wx[k]), _mm_loadu_ps(px + size_t(k) * step), p);
    if (bgr) p = _mm_shuffle_ps(p, p, _MM_SHUFFLE(3, 0, 1, 2));
    return SF_MADD(p, va, vb);
  };
  int x = 0;
  if (nchw) {
    float* o0 = out;
    float* o1 = out + plane;
    float* o2 = out + 2 * plane;
    for (; x + 4 <= out_w; x += 4) {
      __m128 p0 = pixel(x), p1 = pixel(x + 1), p2 = pixel(x + 2), p3 = pixel(x + 3);
      _MM_TRANSPOSE4_PS(p0, p1, p2, p3);
      _mm_storeu_ps(o0 + x, p0);
      _mm_storeu_ps(o1 + x, p1);
      _mm_storeu_ps(o2 + x, p2);
    }
    for (; x < out_w; ++x) {
      alignas(16) float v[4];
      _mm_store_ps(v, pixel(x));
      o0[x] = v[0];
      o1[x] = v[1];
      o2[x] = v[2];
    }
  } else {
    for (; x + 4 <= out_w; x += 4) {
      float* o = out + size_t(x) * 3;
      // Each 4-float store spills one lane into the next pixel, which the next store
      // overwrites; the last pixel of the group is stored as 2 + 1 floats.
      _mm_storeu_ps(o, pixel(x));
      _mm_storeu_ps(o + 3, pixel(x + 1));
      _mm_storeu_ps(o + 6, pixel(x + 2));
      __m128 p3 = pixel(x + 3);
      _mm_storel_pi(reinterpret_cast<__m64*>(o + 9), p3);
      _mm_store_ss(o + 11, _mm_movehl_ps(p3, p3));
    }
    for (; x < out_w; ++x) {
      float* o = out + size_t(x) * 3;
      __m128 p = pixel(x);
      _mm_storel_pi(reinterpret_cast<__m64*>(o), p);
      _mm_store_ss(o + 2, _mm_movehl_ps(p, p));
    }
  }
}
