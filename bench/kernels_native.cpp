// Times every kernel of every available table at d = 256, n = 4096 and prints
// ns per row (per call for the one-row kernels) and the speed-up over scalar.
//
//   build/<dir>/bench/kernels_native [d] [n] [pq_m]
//
// Each measurement repeats the call for about 0.2 s and keeps the best of three
// such rounds, timed in thread CPU time (CLOCK_THREAD_CPUTIME_ID) so that other
// jobs on a shared machine inflate the numbers less. No assertions: this only
// reports.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "index/kernels.h"

namespace {

using sf::kernels::table;

double now_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

volatile float g_sink_f;
volatile int32_t g_sink_i;

// Best-of-3 of ~0.2 s runs; returns ns per call of fn.
template <class Fn>
double time_ns(Fn&& fn) {
  fn();  // warm caches
  size_t reps = 1;
  for (;;) {  // calibrate
    const double t0 = now_ns();
    for (size_t r = 0; r < reps; ++r) fn();
    const double s = (now_ns() - t0) * 1e-9;
    if (s > 0.02) {
      reps = size_t(double(reps) * 0.2 / s) + 1;
      break;
    }
    reps *= 4;
  }
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    const double t0 = now_ns();
    for (size_t r = 0; r < reps; ++r) fn();
    const double ns = (now_ns() - t0) / double(reps);
    if (ns < best) best = ns;
  }
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
