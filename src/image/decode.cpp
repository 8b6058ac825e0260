// JPEG/PNG decoding with stb_image (the only file that compiles its implementation).
// Dimensions are read with stbi_info_from_memory and checked against the limits before
// any pixel is decoded; STBI_MAX_DIMENSIONS bounds stb itself as a second line.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "image/image.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS 16384
#define STBI_ASSERT(x) ((void)0)  // never abort: stb checks its input separately

// stb allocates through a per-decode byte budget derived from the header's dimensions: a PNG
// whose zlib stream inflates far past what its IHDR declares (a decompression bomb: 305 KB
// inflating to 300 MiB for a 1x1 image) fails as soon as it outgrows what such an image needs,
// instead of taking the process's memory. The budget is per thread (decoding is synchronous).
namespace sf::image::detail {
struct alloc_budget {
  size_t limit = SIZE_MAX;
  size_t used = 0;
  bool exceeded = false;
};
thread_local alloc_budget budget;
struct alignas(16) block_header {
  size_t size;
};
void* budget_malloc(size_t n) {
  if (n > budget.limit || budget.used > budget.limit - n) {
    budget.exceeded = true;
    return nullptr;
  }
  auto* h = static_cast<block_header*>(std::malloc(sizeof(block_header) + n));
  if (!h) return nullptr;
  h->size = n;
  budget.used += n;
  return h + 1;
}
void budget_free(void* p) {
  if (!p) return;
  auto* h = static_cast<block_header*>(p) - 1;
  budget.used -= std::min(budget.used, h->size);
  std::free(h);
}
void* budget_realloc(void* p, size_t n) {
  if (!p) return budget_malloc(n);
  auto* h = static_cast<block_header*>(p) - 1;
  const size_t old = h->size;
  if (n > old && (n - old > budget.limit || budget.used > budget.limit - (n - old))) {
    budget.exceeded = true;
    return nullptr;
  }
  auto* q = static_cast<block_header*>(std::realloc(h, sizeof(block_header) + n));
  if (!q) return nullptr;
  budget.used = budget.used - std::min(budget.used, old) + n;
  q->size = n;
  return q + 1;
}
}  // namespace sf::image::detail
#define STBI_MALLOC(n) sf::image::detail::budget_malloc(n)
#define STBI_REALLOC(p, n) sf::image::detail::budget_realloc(p, n)
#define STBI_FREE(p) sf::image::detail::budget_free(p)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace sf::image {
namespace {

static_assert(STBI_MAX_DIMENSIONS == max_side, "stb's dimension cap follows the documented limit");

// Sets the allocation budget for one stb call and restores "unlimited" afterwards. Bytes:
// 16 MiB of slack + twice the encoded input (stb keeps the concatenated IDAT data) + 32 bytes
// per pixel (16-bit RGBA needs 8 per pixel; stb holds the inflated rows, the unfiltered image
// and the converted output at once).
class scoped_budget {
 public:
  scoped_budget(size_t encoded, int64_t pixels) {
    detail::budget = {};
    detail::budget.limit = (size_t(16) << 20) + 2 * encoded + size_t(32) * size_t(std::max<int64_t>(pixels, 0));
  }
  ~scoped_budget() { detail::budget = {}; }
  scoped_budget(const scoped_budget&) = delete;
  scoped_budget& operator=(const scoped_budget&) = delete;
  bool exceeded() const { return detail::budget.exceeded; }
  size_t limit() const { return detail::budget.limit; }
};

image_codec sniff(const uint8_t* d, size_t n) {
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (n >= 8 && std::memcmp(d, png, 8) == 0) return image_codec::png;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return image_codec::jpeg;
  return image_codec::unknown;
}

const char* codec_name(image_codec c) {
  return c == image_codec::png ? "PNG" : c == image_codec::jpeg ? "JPEG" : "unknown format";
}

// stb_image 2.27 (Debian bookworm) trusts the sum of a JPEG Huffman table's 16 code
// counts: over 256 it writes past stbi__huffman::size[257] and values[256] (fixed
// upstream in 2.28). Reject such tables before stb sees them. Header segments are
// walked as stb walks them; from the first scan on, every FF C4 is checked, which
// cannot misfire on entropy-coded data (byte stuffing keeps FF followed by 00 or a
// marker there).
bool jpeg_huffman_tables_ok(const uint8_t* d, size_t n, std::string& why) {
  auto check_dht = [&](size_t p) {  // p: first byte after FF C4
    if (p + 2 > n) return true;
    const size_t len = size_t(d[p]) << 8 | d[p + 1];
    const size_t end = std::min(n, p + std::max<size_t>(len, 2));
    p += 2;
    while (p < end) {
      size_t codes = 0;
      for (size_t i = 1; i <= 16 && p + i < n; ++i) codes += d[p + i];
      if (codes > 256) {
        why = "JPEG Huffman table at byte " + std::to_string(p) + " declares " + std::to_string(codes) +
              " codes (at most 256)";
        return false;
      }
      p += 17 + codes;
    }
    return true;
  };
  size_t p = 2;  // after SOI
  while (p + 4 <= n && d[p] == 0xFF) {
    while (p < n && d[p] == 0xFF) ++p;  // fill bytes
    if (p >= n) break;
    const uint8_t m = d[p++];
    if (m == 0xC4 && !check_dht(p)) return false;
    if (m == 0xDA) break;  // first scan: switch to the conservative search
    if (p + 2 > n) break;
    p += size_t(d[p]) << 8 | d[p + 1];
  }
  for (size_t i = 0; i + 1 < n; ++i)
    if (d[i] == 0xFF && d[i + 1] == 0xC4 && i + 2 >= std::min(p, n) && !check_dht(i + 2)) return false;
  return true;
}

// stb_image 2.27 copies a zero-length first IDAT chunk with memcpy(NULL, src, 0), which
// is undefined behaviour (harmless in practice, fatal under UBSan). Such files are legal
// but never written by real encoders: refuse them.
// Walks the PNG chunk list up to IEND. stb trusts each chunk's declared length and grows its
// IDAT buffer to that size before noticing the bytes are missing (a 46-byte file made it
// allocate 2 GiB under the fuzzer), so a chunk longer than what is left is rejected here;
// an empty first IDAT is refused as well (stb mishandles it).
status png_chunks_ok(const uint8_t* d, size_t n, std::string& why) {
  size_t p = 8;
  bool seen_idat = false;
  while (p + 8 <= n) {
    const size_t len = size_t(d[p]) << 24 | size_t(d[p + 1]) << 16 | size_t(d[p + 2]) << 8 | d[p + 3];
    if (len > n - p - 8) {
      why = "PNG chunk at byte " + std::to_string(p) + " declares " + std::to_string(len) + " bytes, only " +
            std::to_string(n - p - 8) + " follow";
      return status::truncated;
    }
    if (std::memcmp(d + p + 4, "IDAT", 4) == 0) {
      if (!seen_idat && len == 0) {
        why = "PNG whose first IDAT chunk (byte " + std::to_string(p) + ") is empty";
        return status::unsupported;
      }
      seen_idat = true;
    }
    if (std::memcmp(d + p + 4, "IEND", 4) == 0) return status::ok;
    p += 12 + len;
  }
  return status::ok;  // no IEND: stb reports what is missing
}

std::string reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown";
}

// Status for a stb failure: truncation and unknown formats get their own codes.
status classify(const std::string& why) {
  if (why == "unknown image type") return status::unsupported;
  if (why.find("outofmem") != std::string::npos) return status::out_of_memory;
  if (why.find("too large") != std::string::npos) return status::limit_exceeded;
  return status::corrupt;
}

result<image_info> check(const uint8_t* data, size_t size, const decode_limits& lim, const char* fn) {
  const std::string where = std::string("image::") + fn + ": ";
  if (!data || size == 0) return make_error(status::invalid_argument, where + "no input bytes");
  if (size > lim.max_bytes || size > size_t(0x7fffffff))
    return make_error(status::limit_exceeded, where + "input of " + std::to_string(size) + " bytes exceeds the limit of " +
                                                  std::to_string(lim.max_bytes));
  image_info info;
  info.codec = sniff(data, size);
  if (info.codec == image_codec::unknown)
    return make_error(status::unsupported, where + "not a JPEG or PNG (unrecognised signature)");
  std::string why;
  if (info.codec == image_codec::jpeg && !jpeg_huffman_tables_ok(data, size, why))
    return make_error(status::corrupt, where + why);
  if (info.codec == image_codec::png) {
    const status png = png_chunks_ok(data, size, why);
    if (png != status::ok) return make_error(png, where + why);
  }
  int w = 0, h = 0, comp = 0;
  const scoped_budget header_budget(size, 0);
  if (!stbi_info_from_memory(data, int(size), &w, &h, &comp)) {
    const std::string why = reason();
    const status s = size < 64 ? status::truncated : classify(why);
    return make_error(s == status::unsupported ? status::corrupt : s,
                      where + codec_name(info.codec) + " header unreadable (" + std::to_string(size) +
                          " bytes): " + why);
  }
  if (w <= 0 || h <= 0)
    return make_error(status::corrupt, where + "empty image " + std::to_string(w) + "x" + std::to_string(h));
  if (w > lim.max_side || h > lim.max_side || int64_t(w) * h > lim.max_pixels)
    return make_error(status::limit_exceeded, where + std::to_string(w) + "x" + std::to_string(h) +
                                                  " exceeds the limit (" + std::to_string(lim.max_side) +
                                                  " per side, " + std::to_string(lim.max_pixels) + " pixels)");
  info.width = w;
  info.height = h;
  info.channels = comp;
  return info;
}

}  // namespace

result<image_info> probe(const uint8_t* data, size_t size) { return check(data, size, decode_limits{}, "probe"); }

result<rgba_image> decode_rgba(const uint8_t* data, size_t size, const decode_limits& limits) {
  auto info = check(data, size, limits, "decode_rgba");
  if (!info) return info.err();
  int w = 0, h = 0, comp = 0;
  const scoped_budget budget(size, int64_t(info.value().width) * info.value().height);
  stbi_uc* px = stbi_load_from_memory(data, int(size), &w, &h, &comp, 4);
  if (!px) {
    const std::string why = reason();
    if (budget.exceeded()) {
      return make_error(status::limit_exceeded,
                        std::string("image::decode_rgba: ") + codec_name(info.value().codec) + " " +
                            std::to_string(info.value().width) + "x" + std::to_string(info.value().height) +
                            " needs more than " + std::to_string(budget.limit() >> 20) +
                            " MiB to decode (its compressed data inflates past what the header declares)");
    }
    return make_error(classify(why) == status::unsupported ? status::corrupt : classify(why),
                      std::string("image::decode_rgba: ") + codec_name(info.value().codec) + " " +
                          std::to_string(info.value().width) + "x" + std::to_string(info.value().height) +
                          " failed to decode: " + why);
  }
  if (w != info.value().width || h != info.value().height) {
    stbi_image_free(px);
    return make_error(status::corrupt, "image::decode_rgba: decoded size differs from the header");
  }
  rgba_image img;
  img.width = w;
  img.height = h;
  img.pixels.assign(px, px + size_t(w) * size_t(h) * 4);
  stbi_image_free(px);
  return img;
}

}  // namespace sf::image
