// Run-time choice of the kernel table: the best one this CPU supports, unless the
// SF_SIMD environment variable names another available one (tests, benchmarks).
#include <cstdlib>
#include <cstring>

#include "index/kernels.h"
#include "index/kernels_targets.h"

namespace sf::kernels {

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

}  // namespace sf::kernels
