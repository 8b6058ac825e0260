// libFuzzer entry point: the harness lives in harness/manifest.h (shared with the Catch2 replay).
#include "harness/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_manifest(data, size); }
