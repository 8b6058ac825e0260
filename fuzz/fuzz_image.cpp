// libFuzzer entry point: the harness lives in harness/image.h (shared with the Catch2 replay).
#include "harness/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_image(data, size); }
