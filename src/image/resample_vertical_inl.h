// Internal: the tap grouping shared by the SIMD vertical passes (resample_sse41.cpp,
// resample_avx2.cpp, resample_wasm128.cpp). Included inside each file's anonymous namespace
// before it defines
//   template <int P> void vertical_pairs(const uint8_t* const* r, const int16_t* w, size_t n,
//                                        float* acc, bool first, bool last);
// which adds, for i < n, sum_{j < 2P} int32(r[j][i]) * w[j] to the int32 partial sums in acc
// (or to 0 when `first`), and stores them as int32 bit patterns, or converted to float when
// `last`. The SIMD kernels multiply-add row pairs (k, k+1) with one 16-bit dot product per
// 32-bit lane (u8 bytes of the two rows interleaved, widened to i16); an odd last tap is
// paired with itself at weight 0. Taps run in groups of up to 4 pairs so the sums stay in
// registers; between groups they live in acc as int32 (integer adds: any grouping gives the
// scalar reference's exact result).

template <int P>
void vertical_pairs(const uint8_t* const* r, const int16_t* w, size_t n, float* acc, bool first, bool last);

// The scalar part of a group (columns [i, n)), same arithmetic as resample_scalar.cpp.
inline void vertical_tail(const uint8_t* const* r, const int16_t* w, int taps, size_t i, size_t n, float* acc,
                          bool first, bool last) {
  for (; i < n; ++i) {
    uint32_t s = 0;
    if (!first) std::memcpy(&s, acc + i, 4);
    for (int k = 0; k < taps; ++k) s += uint32_t(int32_t(r[k][i]) * int32_t(w[k]));
    if (last)
      acc[i] = float(int32_t(s));
    else
      std::memcpy(acc + i, &s, 4);
  }
}

inline void vertical_grouped(const uint8_t* const* rows, const int16_t* w, int taps, size_t n, float* acc) {
  if (taps <= 0) {
    for (size_t i = 0; i < n; ++i) acc[i] = 0.0f;
    return;
  }
  constexpr int G = 4;  // pairs per group
  for (int k = 0; k < taps; k += 2 * G) {
    const uint8_t* r[2 * G];
    int16_t pw[2 * G];
    const int m = taps - k < 2 * G ? taps - k : 2 * G;  // taps in this group
    for (int j = 0; j < m; ++j) {
      r[j] = rows[k + j];
      pw[j] = w[k + j];
    }
    if (m & 1) {  // odd: the last row again, weight 0
      r[m] = r[m - 1];
      pw[m] = 0;
    }
    const bool first = k == 0, last = k + 2 * G >= taps;
    switch ((m + 1) / 2) {
      case 1: vertical_pairs<1>(r, pw, n, acc, first, last); break;
      case 2: vertical_pairs<2>(r, pw, n, acc, first, last); break;
      case 3: vertical_pairs<3>(r, pw, n, acc, first, last); break;
      default: vertical_pairs<4>(r, pw, n, acc, first, last); break;
    }
  }
}
