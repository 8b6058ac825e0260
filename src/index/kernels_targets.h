// Internal: the per-target tables, defined in kernels_<target>.cpp. Each returns
// nullptr when the target was not compiled in.
#pragma once
#include "index/kernels.h"

namespace sf::kernels {
const table* sse41_table() noexcept;    // kernels_sse41.cpp (x86 builds)
const table* avx2_table() noexcept;     // kernels_avx2.cpp (x86 builds)
const table* wasm128_table() noexcept;  // kernels_wasm128.cpp (WASM SIMD builds)
}  // namespace sf::kernels
