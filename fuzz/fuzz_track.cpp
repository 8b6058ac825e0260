// libFuzzer entry point: the harness lives in harness/track.h (shared with the Catch2 replay).
#include "harness/track.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fuzz_track(data, size); }
