// libFuzzer entry point: the harness lives in harness/catalog.h (shared with the Catch2 replay).
#include "harness/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_catalog(data, size); }
