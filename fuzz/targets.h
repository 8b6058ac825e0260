// Fuzz harnesses shared by the libFuzzer entry points (fuzz/fuzz_*.cpp) and the Catch2
// replay test (tests/fuzz/test_fuzz_regressions.cpp). Header-only, standard C++17 plus the
// core's public headers, so it builds with clang (libFuzzer), g++ and emcc alike. One header
// per target in fuzz/harness/ (what they share: harness/common.h); this one includes all six.
//
//   int fuzz_index(const uint8_t* data, size_t size);     // the bytes are an .sfi file
//   int fuzz_catalog(const uint8_t* data, size_t size);   // the bytes are JSONL text
//   int fuzz_manifest(const uint8_t* data, size_t size);  // the bytes are a manifest JSON
//   int fuzz_image(const uint8_t* data, size_t size);     // the bytes are a PNG/JPEG file
//   int fuzz_detect(const uint8_t* data, size_t size);    // byte-coded options + tensors
//   int fuzz_track(const uint8_t* data, size_t size);     // byte-coded tracker script
//
// Besides "no crash, no sanitizer report", each harness checks documented contracts of the
// results (SF_FUZZ_CHECK). A violated contract calls sf_fuzz::fail(): by default it prints
// the condition and aborts (libFuzzer then saves the input); the Catch2 test installs a
// handler that records it instead (sf_fuzz::set_failure_handler).
//
// The byte formats of fuzz_detect and fuzz_track are read with sf_fuzz::reader: bytes are
// consumed front to back, and reading past the end yields zeros, so every input is valid.
// fuzz/make_seeds.cpp writes seeds in the same formats (keep them in step).
#pragma once

#include "harness/index.h"
#include "harness/catalog.h"
#include "harness/manifest.h"
#include "harness/image.h"
#include "harness/detect.h"
#include "harness/track.h"
