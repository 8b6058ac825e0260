// libFuzzer entry point: the harness lives in harness/detect.h (shared with the Catch2 replay).
#include "harness/detect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_detect(data, size); }
