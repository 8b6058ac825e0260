// Times every kernel of every available table at d = 256, n = 4096 and prints
// ns per row (per call for the one-row kernels) and the speed-up over scalar.
//
//   build/<dir>/bench/kernels_native [d] [n] [pq_m]
//
// Each measurement repeats the call for about 0.2 s in ~1 ms samples and reports
// the fastest sample (robust on a shared machine). No assertions: this only
// reports. Also builds with em++ (-msimd128) to compare scalar and wasm128 in node.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "index/kernels.h"

namespace {

using sf::kernels::table;
using clk = std::chrono::steady_clock;

volatile float g_sink_f;  // keeps results alive
volatile int32_t g_sink_i;

double now_ns() {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now().time_since_epoch()).count());
}

// Runs fn in samples of about 1 ms for about 0.2 s and returns the fastest sample's
// ns per call: on a shared machine the minimum is the sample nobody interrupted.
template <class Fn>
double time_ns(Fn&& fn) {
  fn();  // warm caches
  size_t reps = 1;
  for (;;) {  // calibrate the sample length
    const double t0 = now_ns();
    for (size_t r = 0; r < reps; ++r) fn();
    const double ns = now_ns() - t0;
    if (ns > 1e6 || reps > (size_t(1) << 30)) break;
    reps *= 2;
  }
  double best = 1e300;
  const double end = now_ns() + 0.2e9;
  do {
    const double t0 = now_ns();
    for (size_t r = 0; r < reps; ++r) fn();
    const double ns = (now_ns() - t0) / double(reps);
    if (ns < best) best = ns;
  } while (now_ns() < end);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t d = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  const size_t n = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 4096;
  const size_t m = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 32;  // pq sub-quantizers

  std::mt19937 g(7);
  std::uniform_real_distribution<float> uf(-1.f, 1.f);
  std::vector<float> q(d), base(n * d), out(n), lut(m * 256);
  std::vector<uint8_t> codes(n * d), pq_codes(n * m);
  std::vector<int8_t> q8(d);
  std::vector<int32_t> out_i(n);
  for (auto& x : q) x = uf(g);
  for (auto& x : base) x = uf(g);
  for (auto& x : lut) x = uf(g);
  for (auto& x : codes) x = uint8_t(g());
  for (auto& x : pq_codes) x = uint8_t(g());
  for (auto& x : q8) x = int8_t(int(g() % 255u) - 127);

  struct kernel {
    const char* name;
    double per;  // calls -> rows
    double (*run)(const table&, size_t, size_t, size_t, void*);
  };
  struct ctx {
    std::vector<float>&q, &base, &out, &lut;
    std::vector<uint8_t>&codes, &pq_codes;
    std::vector<int8_t>& q8;
    std::vector<int32_t>& out_i;
  } c{q, base, out, lut, codes, pq_codes, q8, out_i};

  const kernel kernels[] = {
      {"dot_f32", 1,
       [](const table& t, size_t d, size_t, size_t, void* p) {
         auto& c = *static_cast<ctx*>(p);
         return time_ns([&] { g_sink_f = t.dot_f32(c.q.data(), c.base.data(), d); });
       }},
      {"dot_f32_batch", 0,
       [](const table& t, size_t d, size_t n, size_t, void* p) {
         auto& c = *static_cast<ctx*>(p);
         return time_ns([&] {
           t.dot_f32_batch(c.q.data(), c.base.data(), d, n, c.out.data());
           g_sink_f = c.out[n - 1];
         });
       }},
      {"dot_u8", 1,
       [](const table& t, size_t d, size_t, size_t, void* p) {
         auto& c = *static_cast<ctx*>(p);
         return time_ns([&] { g_sink_f = t.dot_u8(c.q.data(), c.codes.data(), d); });
       }},
      {"dot_u8_batch", 0,
       [](const table& t, size_t d, size_t n, size_t, void* p) {
         auto& c = *static_cast<ctx*>(p);
         return time_ns([&] {
           t.dot_u8_batch(c.q.data(), c.codes.data(), d, n, c.out.data());
           g_sink_f = c.out[n - 1];
         });
       }},
      {"dot_i8u8_batch", 0,
       [](const table& t, size_t d, size_t n, size_t, void* p) {
         auto& c = *static_cast<ctx*>(p);
         return time_ns([&] {
           t.dot_i8u8_batch(c.q8.data(), c.codes.data(), d, n, c.out_i.data());
           g_sink_i = c.out_i[n - 1];
         });
       }},
      {"pq_scan", 0,
       [](const table& t, size_t, size_t n, size_t m, void* p) {
         auto& c = *static_cast<ctx*>(p);
         return time_ns([&] {
           t.pq_scan(c.lut.data(), m, c.pq_codes.data(), n, c.out.data());
           g_sink_f = c.out[n - 1];
         });
       }},
  };

  const std::vector<const table*> tables = sf::kernels::available();
  std::printf("kernels_native: d=%zu n=%zu pq m=%zu; active table: %s\n", d, n, m, sf::kernels::active().name);
  std::printf("ns per row (one-row kernels: per call); x = speed-up over scalar\n\n");
  std::printf("%-16s", "kernel");
  for (const table* t : tables) std::printf(" %18s", t->name);
  std::printf("\n");
  for (const kernel& k : kernels) {
    std::printf("%-16s", k.name);
    double scalar_ns = 0;
    for (const table* t : tables) {
      const double rows = k.per > 0 ? 1.0 : double(n);
      const double ns = k.run(*t, d, n, m, &c) / rows;
      if (t == tables.front()) scalar_ns = ns;
      std::printf(" %9.2f (%5.2fx)", ns, scalar_ns / ns);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return 0;
}
