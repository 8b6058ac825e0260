// Every available kernel table against the scalar reference: random data with a
// fixed seed, lengths around every vector width (remainder tails), batch sizes
// around the 4-row blocking, unaligned pointers, extreme values.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "index/kernels.h"

namespace {

using sf::kernels::table;

const size_t kLengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 257, 1280};
const size_t kBatches[] = {0, 1, 2, 3, 4, 5, 9};

// Deterministic across standard libraries (the distributions are not).
struct rng {
  std::mt19937 g{20240601u};
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(g() >> 8) * (1.0f / 16777216.0f); }
  uint8_t byte() { return uint8_t(g() >> 24); }
  int8_t q8() { return int8_t(int(g() % 255u) - 127); }  // [-127, 127]
};

// A buffer whose data starts one element past an allocation boundary, so no SIMD
// path can rely on alignment.
template <class T>
struct unaligned {
  std::vector<T> store;
  explicit unaligned(size_t n) : store(n + 1) {}
  T* data() { return store.data() + 1; }
  T& operator[](size_t i) { return store[i + 1]; }
};

std::vector<const table*> simd_tables() {
  std::vector<const table*> v;
  for (const table* t : sf::kernels::available())
    if (t != &sf::kernels::scalar()) v.push_back(t);
  return v;
}

// Float results may differ from the reference by summation order only.
bool close(float got, float want, double abs_terms) {
  return std::fabs(double(got) - double(want)) <= 1e-4 * abs_terms + 1e-5;
}

double abs_dot(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += std::fabs(double(a[i]) * double(b[i]));
  return s;
}
double abs_dot(const float* a, const uint8_t* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += std::fabs(double(a[i])) * double(b[i]);
  return s;
}

void check_f32(const table& t, rng& r, size_t d) {
  const table& ref = sf::kernels::scalar();
  for (size_t n : kBatches) {
    unaligned<float> q(d), base(n * d), out(n + 1), want(n + 1);
    for (size_t i = 0; i < d; ++i) q[i] = r.uniform(-1, 1);
    for (size_t i = 0; i < n * d; ++i) base[i] = r.uniform(-1, 1);
    out[n] = 12345.f;
    t.dot_f32_batch(q.data(), base.data(), d, n, out.data());
    ref.dot_f32_batch(q.data(), base.data(), d, n, want.data());
    CHECK(out[n] == 12345.f);  // nothing written past out[n-1]
    for (size_t j = 0; j < n; ++j) {
      INFO("dot_f32_batch " << t.name << " d=" << d << " n=" << n << " row " << j);
      CHECK(close(out[j], want[j], abs_dot(q.data(), base.data() + j * d, d)));
      INFO("dot_f32");
      const float one = t.dot_f32(q.data(), base.data() + j * d, d);
      CHECK(close(one, want[j], abs_dot(q.data(), base.data() + j * d, d)));
    }
  }
}

void check_u8(const table& t, rng& r, size_t d) {
  const table& ref = sf::kernels::scalar();
  for (size_t n : kBatches) {
    unaligned<float> q(d), out(n + 1), want(n + 1);
    unaligned<uint8_t> codes(n * d);
    for (size_t i = 0; i < d; ++i) q[i] = r.uniform(-1, 1);
    for (size_t i = 0; i < n * d; ++i) codes[i] = r.byte();
    out[n] = 12345.f;
    t.dot_u8_batch(q.data(), codes.data(), d, n, out.data());
    ref.dot_u8_batch(q.data(), codes.data(), d, n, want.data());
    CHECK(out[n] == 12345.f);
    for (size_t j = 0; j < n; ++j) {
      INFO("dot_u8_batch " << t.name << " d=" << d << " n=" << n << " row " << j);
      CHECK(close(out[j], want[j], abs_dot(q.data(), codes.data() + j * d, d)));
      INFO("dot_u8");
      const float one = t.dot_u8(q.data(), codes.data() + j * d, d);
      CHECK(close(one, want[j], abs_dot(q.data(), codes.data() + j * d, d)));
    }
  }
}

void check_i8u8(const table& t, const int8_t* q8, const uint8_t* codes, size_t d, size_t n) {
  std::vector<int32_t> out(n + 1, 12345), want(n + 1, 0);
  t.dot_i8u8_batch(q8, codes, d, n, out.data());
  sf::kernels::scalar().dot_i8u8_batch(q8, codes, d, n, want.data());
  INFO("dot_i8u8_batch " << t.name << " d=" << d << " n=" << n);
  CHECK(out[n] == 12345);
  out.pop_back();
  want.pop_back();
  CHECK(out == want);  // exact
}

void check_i8u8_random(const table& t, rng& r, size_t d) {
  for (size_t n : kBatches) {
    unaligned<int8_t> q8(d);
    unaligned<uint8_t> codes(n * d);
    for (size_t i = 0; i < d; ++i) q8[i] = r.q8();
    for (size_t i = 0; i < n * d; ++i) codes[i] = r.byte();
    check_i8u8(t, q8.data(), codes.data(), d, n);
  }
}

void check_pq(const table& t, rng& r, size_t m) {
  const table& ref = sf::kernels::scalar();
  unaligned<float> lut(m * 256);
  for (size_t i = 0; i < m * 256; ++i) lut[i] = r.uniform(-1, 4);
  for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(4), size_t(5), size_t(7), size_t(8),
                   size_t(9), size_t(17), size_t(33)}) {
    unaligned<uint8_t> codes(n * m);
    unaligned<float> out(n + 1), want(n + 1);
    for (size_t i = 0; i < n * m; ++i) codes[i] = r.byte();
    if (n > 0 && m > 0) codes[0] = 255, codes[n * m - 1] = 0;  // table edges
    out[n] = 12345.f;
    t.pq_scan(lut.data(), m, codes.data(), n, out.data());
    ref.pq_scan(lut.data(), m, codes.data(), n, want.data());
    CHECK(out[n] == 12345.f);
    for (size_t j = 0; j < n; ++j) {
      double abs_terms = 0;
      for (size_t s = 0; s < m; ++s) abs_terms += std::fabs(lut[s * 256 + codes[j * m + s]]);
      INFO("pq_scan " << t.name << " m=" << m << " n=" << n << " row " << j);
      CHECK(close(out[j], want[j], abs_terms));
    }
  }
}

}  // namespace

TEST_CASE("kernels: the build's SIMD tables are available", "[kernels]") {
  const std::vector<const table*> v = sf::kernels::available();
  REQUIRE(!v.empty());
  CHECK(v.front() == &sf::kernels::scalar());
  CHECK(std::string(sf::kernels::scalar().name) == "scalar");
  for (const table* t : v) {
    INFO(t->name);
    CHECK(t->dot_f32 != nullptr);
    CHECK(t->dot_f32_batch != nullptr);
    CHECK(t->dot_u8 != nullptr);
    CHECK(t->dot_u8_batch != nullptr);
    CHECK(t->dot_i8u8_batch != nullptr);
    CHECK(t->pq_scan != nullptr);
  }
#if defined(SF_HAVE_X86_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    // A SIMD file that silently compiles to "unavailable" must fail here.
    REQUIRE(v.size() == 3);
    CHECK(std::string(v[1]->name) == "sse41");
    CHECK(std::string(v[2]->name) == "avx2");
    if (!std::getenv("SF_SIMD")) CHECK(std::string(sf::kernels::active().name) == "avx2");
  } else if (__builtin_cpu_supports("sse4.1")) {
    CHECK(v.size() > 1);
  }
#elif defined(SF_HAVE_WASM128_KERNELS)
  REQUIRE(v.size() == 2);
  CHECK(std::string(v[1]->name) == "wasm128");
  if (!std::getenv("SF_SIMD")) CHECK(std::string(sf::kernels::active().name) == "wasm128");
#endif
}

TEST_CASE("kernels: float dot products match scalar", "[kernels]") {
  for (const table* t : simd_tables()) {
    rng r;
    for (size_t d : kLengths) check_f32(*t, r, d);
  }
}

TEST_CASE("kernels: sq8 dot products match scalar", "[kernels]") {
  for (const table* t : simd_tables()) {
    rng r;
    for (size_t d : kLengths) check_u8(*t, r, d);
  }
}

TEST_CASE("kernels: int8 x uint8 dot products equal scalar exactly", "[kernels]") {
  for (const table* t : simd_tables()) {
    rng r;
    for (size_t d : kLengths) check_i8u8_random(*t, r, d);
  }
}

TEST_CASE("kernels: pq scan matches scalar", "[kernels]") {
  for (const table* t : simd_tables()) {
    rng r;
    for (size_t m : kLengths) check_pq(*t, r, m);
  }
}

TEST_CASE("kernels: extreme values", "[kernels]") {
  const table& ref = sf::kernels::scalar();
  for (const table* t : simd_tables()) {
    SECTION(std::string("i8u8 at the int32 limit ") + t->name) {
      // d = 65536 (the documented maximum) with |q8| = 127 and codes 255: the sum is
      // +-2,122,383,360, inside int32 but far outside int16 pair sums.
      const size_t d = 65536, n = 5;
      for (int sign : {1, -1}) {
        unaligned<int8_t> q8(d);
        unaligned<uint8_t> codes(n * d);
        for (size_t i = 0; i < d; ++i) q8[i] = int8_t(127 * sign);
        for (size_t i = 0; i < n * d; ++i) codes[i] = 255;
        // row 1: alternate 0 / 255, row 3: alternating query sign handled by codes 0
        for (size_t i = 0; i < d; i += 2) codes[1 * d + i] = 0;
        for (size_t i = 1; i < d; i += 3) codes[3 * d + i] = 0;
        check_i8u8(*t, q8.data(), codes.data(), d, n);
        std::vector<int32_t> out(n);
        t->dot_i8u8_batch(q8.data(), codes.data(), d, n, out.data());
        CHECK(out[0] == sign * 2122383360);
      }
    }
    SECTION(std::string("i8u8 mixed extremes ") + t->name) {
      for (size_t d : kLengths) {
        const size_t n = 9;
        unaligned<int8_t> q8(d);
        unaligned<uint8_t> codes(n * d);
        for (size_t i = 0; i < d; ++i) q8[i] = (i % 3 == 0) ? int8_t(-127) : int8_t(127);
        for (size_t i = 0; i < n * d; ++i) codes[i] = (i % 5 == 1) ? 0 : 255;
        check_i8u8(*t, q8.data(), codes.data(), d, n);
      }
    }
    SECTION(std::string("u8 codes 0 and 255 ") + t->name) {
      rng r;
      for (size_t d : kLengths) {
        const size_t n = 9;
        unaligned<float> q(d), out(n), want(n);
        unaligned<uint8_t> codes(n * d);
        for (size_t i = 0; i < d; ++i) q[i] = r.uniform(-1, 1);
        for (size_t i = 0; i < n * d; ++i) codes[i] = (r.byte() & 1) ? 255 : 0;
        t->dot_u8_batch(q.data(), codes.data(), d, n, out.data());
        ref.dot_u8_batch(q.data(), codes.data(), d, n, want.data());
        for (size_t j = 0; j < n; ++j) {
          INFO("dot_u8_batch " << t->name << " d=" << d << " row " << j);
          CHECK(close(out[j], want[j], abs_dot(q.data(), codes.data() + j * d, d)));
        }
      }
    }
  }
}
