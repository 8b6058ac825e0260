// libFuzzer entry point: the harness lives in targets.h (shared with the Catch2 replay).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_index(data, size); }
