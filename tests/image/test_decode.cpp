// decode_rgba()/probe(): valid PNG (RGB, RGBA) and JPEG, limits checked before decoding,
// clear errors for damaged input, and a mutation fuzz that only asks for "ok, or an
// error with a message" (run under ASan/UBSan in the sanitizer build).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "image/image.h"
#include "image_fixtures.h"

using namespace sf::image;

namespace {

// Made with python3 zlib: 5x3 RGB, pixel (x, y) = (10x + y, 50 + x, 200 - 10y).
const uint8_t kPngRgb5x3[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x03, 0x08, 0x02, 0x00, 0x00, 0x00, 0xd4, 0x54, 0x52, 0xaf, 0x00, 0x00, 0x00, 0x38, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x05, 0xc1, 0x3b, 0x02, 0x40, 0x50, 0x10, 0x03, 0xc0, 0xa5, 0x44, 0xe9, 0x29, 0x51, 0xa2, 0xdc, 0xdf, 0xc9, 0x53, 0xa7, 0xce, 0xb1, 0xcc, 0x98, 0xb9, 0x96, 0xd0, 0x9e, 0x3a, 0x4b, 0x4f, 0xcb, 0x26, 0xe7, 0x1a, 0x1c, 0xc9, 0xab, 0xf8, 0x36, 0x6d, 0x76, 0x6c, 0x81, 0x23, 0x71, 0x17, 0xbe, 0xc6, 0x0f, 0x69, 0xf2, 0x0f, 0x6a, 0xba, 0xed, 0x43, 0x33, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
// 3x2 RGBA, pixel (x, y) = (100x, 100y, 7, 128 + x).
const uint8_t kPngRgba3x2[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06, 0x00, 0x00, 0x00, 0x9d, 0x74, 0x66, 0x1a, 0x00, 0x00, 0x00, 0x1f, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x60, 0x60, 0x6f, 0x48, 0x61, 0x60, 0x6f, 0x3c, 0xc1, 0xc0, 0xde, 0xc4, 0xc0, 0x90, 0x02, 0xe4, 0xa4, 0x00, 0x39, 0x29, 0xec, 0x4d, 0x00, 0x48, 0xcc, 0x06, 0xb5, 0x64, 0x2b, 0x8f, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

// A 198x198 baseline JPEG from the shared grocery data set (3.5 KB).
const char* kJpegPath = "/work/shared/data/grocery/iconic-images-and-descriptions/Vegetables/Leek/Leek_Iconic.jpg";

std::vector<uint8_t> read_file(const char* path) {
  std::vector<uint8_t> v;
  if (FILE* f = std::fopen(path, "rb")) {
    uint8_t buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
    std::fclose(f);
  }
  return v;
}

std::vector<uint8_t> bytes(const uint8_t* p, size_t n) { return std::vector<uint8_t>(p, p + n); }

// LSB-first bit writer for hand-made deflate streams.
struct bit_writer {
  std::vector<uint8_t> out;
  int nbits = 0;
  void put(uint32_t value, int count) {  // value's low bits first (deflate's header fields)
    for (int i = 0; i < count; ++i) {
      if (nbits % 8 == 0) out.push_back(0);
      out.back() |= uint8_t(((value >> i) & 1) << (nbits % 8));
      ++nbits;
    }
  }
  void code(uint32_t huffman, int length) {  // Huffman codes go most significant bit first
    for (int i = length - 1; i >= 0; --i) put((huffman >> i) & 1, 1);
  }
};

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

void put_chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  const uint32_t n = uint32_t(data.size());
  for (int s = 24; s >= 0; s -= 8) png.push_back(uint8_t(n >> s));
  const size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  const uint32_t c = crc32(png.data() + start, png.size() - start);
  for (int s = 24; s >= 0; s -= 8) png.push_back(uint8_t(c >> s));
}

// A decompression bomb: a 1x1 RGBA PNG whose IDAT is one fixed-Huffman deflate block of a zero
// byte followed by `copies` back-references of 258 bytes (13 bits each).
std::vector<uint8_t> png_bomb(size_t copies) {
  bit_writer z;
  z.out = {0x78, 0x01};  // zlib header, no dictionary
  z.nbits = 16;
  z.put(1, 1);           // BFINAL
  z.put(1, 2);           // BTYPE 01: fixed Huffman
  z.code(0x30, 8);       // literal 0 (the row's filter byte)
  for (size_t i = 0; i < copies; ++i) {
    z.code(0xC5, 8);     // length code 285: 258 bytes
    z.code(0, 5);        // distance code 0: distance 1
  }
  z.code(0, 7);          // end of block
  for (int i = 0; i < 4; ++i) z.out.push_back(0);  // adler32 (stb does not check it)
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  put_chunk(png, "IHDR", {0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0});
  put_chunk(png, "IDAT", z.out);
  put_chunk(png, "IEND", {});
  return png;
}

}  // namespace

TEST_CASE("decode refuses a PNG decompression bomb before it takes the memory", "[image]") {
  // 1x1 pixel that inflates to ~64 MiB: over the budget for such an image (16 MiB + 2x input +
  // 32 B/pixel), so stb's next buffer growth fails and the error says why.
  const auto bomb = png_bomb((64u << 20) / 258);
  REQUIRE(bomb.size() < 600 * 1024);
  auto info = probe(bomb.data(), bomb.size());
  REQUIRE(info.ok());
  CHECK(info.value().width == 1);
  auto r = decode_rgba(bomb.data(), bomb.size());
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == sf::status::limit_exceeded);
  CHECK(r.err().message.find("inflates past") != std::string::npos);
  // The same stream, short enough to be a plausible (if wasteful) image, still decodes: the
  // budget is slack, not a tight fit.
  const auto small = png_bomb(8);
  auto ok = decode_rgba(small.data(), small.size());
  REQUIRE(ok.ok());
  CHECK(ok.value().width == 1);
  CHECK(ok.value().pixels[3] == 0);
}

TEST_CASE("decode PNG", "[image]") {
  auto r = decode_rgba(kPngRgb5x3, sizeof kPngRgb5x3);
  REQUIRE(r.ok());
  const rgba_image& img = r.value();
  REQUIRE(img.width == 5);
  REQUIRE(img.height == 3);
  REQUIRE(img.pixels.size() == 5 * 3 * 4);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) {
      const uint8_t* p = &img.pixels[size_t(y * 5 + x) * 4];
      CHECK(int(p[0]) == 10 * x + y);
      CHECK(int(p[1]) == 50 + x);
      CHECK(int(p[2]) == 200 - 10 * y);
      CHECK(int(p[3]) == 255);
    }
  auto info = probe(kPngRgb5x3, sizeof kPngRgb5x3);
  REQUIRE(info.ok());
  CHECK(info.value().codec == image_codec::png);
  CHECK(info.value().channels == 3);

  auto a = decode_rgba(kPngRgba3x2, sizeof kPngRgba3x2);
  REQUIRE(a.ok());
  CHECK(a.value().width == 3);
  CHECK(a.value().height == 2);
  const uint8_t* p = &a.value().pixels[size_t(1 * 3 + 2) * 4];  // (2, 1)
  CHECK(int(p[0]) == 200);
  CHECK(int(p[1]) == 100);
  CHECK(int(p[2]) == 7);
  CHECK(int(p[3]) == 130);

  // The decoded image feeds preprocess directly.
  preprocess_options o;
  o.width = 5;
  o.height = 3;
  o.mode = resize_mode::stretch;
  o.scale = 1.0f;
  std::vector<float> t(tensor_size(o));
  REQUIRE(preprocess(img.view(), o, t.data(), t.size()).ok());
  CHECK(t[size_t(2 * 5 + 4)] == Approx(42.0f));  // R of (4, 2)
}

TEST_CASE("decode JPEG", "[image]") {
  std::vector<uint8_t> jpg = read_file(kJpegPath);
  if (jpg.empty()) {
    WARN("missing " << kJpegPath << ": JPEG checks reduced to the error paths");
    CHECK_FALSE(decode_rgba(reinterpret_cast<const uint8_t*>("\xFF\xD8\xFF\xE0"), 4).ok());
    return;
  }
  auto info = probe(jpg.data(), jpg.size());
  REQUIRE(info.ok());
  CHECK(info.value().codec == image_codec::jpeg);
  CHECK(info.value().width == 198);
  CHECK(info.value().height == 198);
  auto r = decode_rgba(jpg.data(), jpg.size());
  REQUIRE(r.ok());
  const rgba_image& img = r.value();
  CHECK(img.width == 198);
  CHECK(img.height == 198);
  // Opaque, and not a flat image.
  int lo = 255, hi = 0;
  bool opaque = true;
  for (size_t i = 0; i < img.pixels.size(); i += 4) {
    lo = std::min(lo, int(img.pixels[i + 1]));
    hi = std::max(hi, int(img.pixels[i + 1]));
    opaque = opaque && img.pixels[i + 3] == 255;
  }
  CHECK(opaque);
  CHECK(hi - lo > 50);

  // A Huffman table declaring more than 256 codes (stb 2.27 would overflow on it).
  std::vector<uint8_t> bad = jpg;
  size_t dht = 0;
  for (size_t i = 2; i + 1 < bad.size() && !dht; ++i)
    if (bad[i] == 0xFF && bad[i + 1] == 0xC4) dht = i;
  REQUIRE(dht > 0);
  for (size_t i = 0; i < 16; ++i) bad[dht + 5 + i] = 0xFF;
  auto e = decode_rgba(bad.data(), bad.size());
  REQUIRE_FALSE(e.ok());
  CHECK(e.err().code == sf::status::corrupt);
  CHECK(e.err().message.find("Huffman") != std::string::npos);
}

TEST_CASE("decode limits and errors", "[image]") {
  auto err = [](const sf::result<rgba_image>& r, sf::status s) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == s);
    CHECK(r.err().message.find("image::") != std::string::npos);
  };
  err(decode_rgba(nullptr, 10), sf::status::invalid_argument);
  err(decode_rgba(kPngRgb5x3, 0), sf::status::invalid_argument);
  err(decode_rgba(reinterpret_cast<const uint8_t*>("GIF89a....."), 11), sf::status::unsupported);

  decode_limits small;
  small.max_side = 4;
  err(decode_rgba(kPngRgb5x3, sizeof kPngRgb5x3, small), sf::status::limit_exceeded);
  small = decode_limits{};
  small.max_pixels = 14;
  err(decode_rgba(kPngRgb5x3, sizeof kPngRgb5x3, small), sf::status::limit_exceeded);
  small = decode_limits{};
  small.max_bytes = 40;
  err(decode_rgba(kPngRgb5x3, sizeof kPngRgb5x3, small), sf::status::limit_exceeded);

  // A header claiming 20000 x 3: rejected from the header, before decoding.
  std::vector<uint8_t> huge = bytes(kPngRgb5x3, sizeof kPngRgb5x3);
  huge[18] = 0x4E;  // width = 0x4E05 = 19973
  auto r = decode_rgba(huge.data(), huge.size());
  REQUIRE_FALSE(r.ok());
  CHECK((r.err().code == sf::status::limit_exceeded || r.err().code == sf::status::corrupt));

  // Truncated inside the pixel data: the chunk walk names the chunk whose bytes are missing
  // (before stb would size a buffer from the declared length: the fuzzer's 2 GiB PNG).
  auto t = decode_rgba(kPngRgb5x3, 60);
  REQUIRE_FALSE(t.ok());
  CHECK(t.err().code == sf::status::truncated);
  CHECK(t.err().message.find("declares") != std::string::npos);
  CHECK(t.err().message.find("byte ") != std::string::npos);
  // Truncated inside the header.
  auto h = decode_rgba(kPngRgb5x3, 12);
  REQUIRE_FALSE(h.ok());
  CHECK(h.err().code == sf::status::truncated);
}

TEST_CASE("decode survives mutated and truncated input", "[image]") {
  std::vector<std::vector<uint8_t>> seeds{bytes(kPngRgb5x3, sizeof kPngRgb5x3), bytes(kPngRgba3x2, sizeof kPngRgba3x2)};
  std::vector<uint8_t> jpg = read_file(kJpegPath);
  if (!jpg.empty()) seeds.push_back(jpg);
  // SF_FUZZ_ROUNDS / SF_FUZZ_SEED in the environment run a longer or different fuzz.
  sf_test_image::rng r;
  if (const char* seed = std::getenv("SF_FUZZ_SEED")) r.g.seed(uint32_t(std::strtoul(seed, nullptr, 10)));
  int ok = 0, failed = 0;
  const char* env_rounds = std::getenv("SF_FUZZ_ROUNDS");
  const int rounds = env_rounds ? std::max(1, std::atoi(env_rounds)) : 3000;
  for (int i = 0; i < rounds; ++i) {
    const std::vector<uint8_t>& seed = seeds[size_t(i) % seeds.size()];
    std::vector<uint8_t> m = seed;
    switch (r.below(5)) {
      case 0:  // truncate
        m.resize(r.below(uint32_t(m.size())));
        break;
      case 1:  // flip a few bits
        for (int k = r.range(1, 8); k > 0; --k) m[r.below(uint32_t(m.size()))] ^= uint8_t(1u << r.below(8));
        break;
      case 2:  // overwrite a run with random bytes
      {
        const size_t at = r.below(uint32_t(m.size())), len = std::min<size_t>(m.size() - at, r.range(1, 32));
        for (size_t k = 0; k < len; ++k) m[at + k] = r.byte();
        break;
      }
      case 3:  // set bytes to extreme values (lengths, dimensions)
        for (int k = r.range(1, 4); k > 0; --k) m[r.below(uint32_t(m.size()))] = r.below(2) ? 0xFF : 0x00;
        break;
      default:  // duplicate or drop a run
      {
        const size_t at = r.below(uint32_t(m.size())), len = std::min<size_t>(m.size() - at, r.range(1, 64));
        if (r.below(2))
          m.insert(m.begin() + std::ptrdiff_t(at), seed.begin() + std::ptrdiff_t(at), seed.begin() + std::ptrdiff_t(at + len));
        else
          m.erase(m.begin() + std::ptrdiff_t(at), m.begin() + std::ptrdiff_t(at + len));
        break;
      }
    }
    // Cap decoding so a mutated header cannot make the fuzz slow.
    decode_limits lim;
    lim.max_pixels = 1 << 20;
    auto d = decode_rgba(m.data(), m.size(), lim);
    if (d.ok()) {
      REQUIRE(d.value().pixels.size() == size_t(d.value().width) * size_t(d.value().height) * 4);
      ++ok;
    } else {
      REQUIRE_FALSE(d.err().message.empty());
      REQUIRE(d.err().code != sf::status::ok);
      ++failed;
    }
    auto p = probe(m.data(), m.size());
    if (!p.ok()) REQUIRE_FALSE(p.err().message.empty());
  }
  INFO("ok " << ok << ", errors " << failed);
  CHECK(ok + failed == rounds);
  CHECK(failed > 0);
}
