// Shared pieces of the Embind bindings: WASM-memory byte buffers and the error slot
// every bound class exposes (errorCode() / errorMessage(); calls never throw across the
// boundary, js/core.mjs turns a failure into a ShopframeError).
#pragma once

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
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

// Bytes in WASM memory, 8-byte aligned (std::vector<uint64_t> storage), so an index
// can be opened in place.
class byte_buffer {
 public:
  explicit byte_buffer(size_t n) : words_((n + 7) / 8), size_(n) {}
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  size_t size() const { return size_; }
  emscripten::val view() { return emscripten::val(emscripten::typed_memory_view(size_, data())); }

 private:
  std::vector<uint64_t> words_;
  size_t size_;
};

}  // namespace sf::wasm
