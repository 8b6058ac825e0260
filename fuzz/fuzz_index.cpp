// libFuzzer entry point: the harness lives in harness/index.h (shared with the Catch2 replay).
#include "harness/index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_index(data, size); }
