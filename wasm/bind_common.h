// Shared pieces of the Embind bindings: WASM-memory byte buffers and the error slot
// every bound class exposes (errorCode() / errorMessage(); calls never throw across the
// boundary, js/core.mjs turns a failure into a ShopframeError).
#pragma once

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace sf::wasm {

struct last_error {
  std::string code, message;
  void set(const sf::error& e) {
    code = sf::status_name(e.code);
    message = e.message;
  }
  void clear() { code.clear(), message.clear(); }
};

// Bytes in WASM memory, 8-byte aligned, so an index can be opened in place. Allocated
// without exceptions: when WASM memory cannot grow (the build caps it, wasm/CMakeLists.txt),
// ok() is false and the caller reports it instead of the module aborting.
class byte_buffer {
 public:
  // malloc, not new: without exceptions even nothrow new aborts when memory runs out.
  explicit byte_buffer(size_t n) : words_(static_cast<uint64_t*>(std::malloc((n / 8 + 1) * 8))), size_(n) {}
  bool ok() const { return words_ != nullptr; }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.get()); }
  size_t size() const { return size_; }
  emscripten::val view() { return emscripten::val(emscripten::typed_memory_view(size_, data())); }

 private:
  struct free_deleter {
    void operator()(uint64_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint64_t, free_deleter> words_;
  size_t size_;
};

}  // namespace sf::wasm
