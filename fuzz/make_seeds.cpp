// Writes the committed seed corpora (tests/fuzz/corpus/<target>/) except the JPEGs
// (fuzz/make_image_seeds.sh) and the manifests copied from models/:
//   build/fuzz/sf_fuzz_seeds tests/fuzz/corpus
// Deterministic: the same files every run. Formats of the detect and track seeds follow the
// readers in fuzz/harness/detect.h and track.h (fuzz_detect / fuzz_track): keep them in step.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/crc32.h"
#include "index/index.h"
#include "targets.h"

namespace {

std::string g_out;
int g_written = 0;

bool write_file(const std::string& target, const std::string& name, const void* data, size_t size) {
  const std::string path = g_out + "/" + target + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "cannot write %s (does the directory exist?)\n", path.c_str());
    return false;
  }
  const bool ok = std::fwrite(data, 1, size, f) == size;
  std::fclose(f);
  ++g_written;
  return ok;
}
bool write_file(const std::string& target, const std::string& name, const std::string& s) {
  return write_file(target, name, s.data(), s.size());
}
bool write_file(const std::string& target, const std::string& name, const std::vector<uint8_t>& v) {
  return write_file(target, name, v.data(), v.size());
}

// ------------------------------------------------------------------------------------------
// index

struct rng {
  uint64_t s;
  explicit rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  }
  float uniform() { return float(double(next() >> 11) / double(1ull << 53)); }
};

std::vector<float> vectors(size_t n, size_t d, uint64_t seed) {
  rng g(seed);
  std::vector<float> centres(4 * d);
  for (float& c : centres) c = g.uniform() * 2 - 1;
  std::vector<float> v(n * d);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) v[i * d + j] = centres[(i % 4) * d + j] + 0.3f * (g.uniform() - 0.5f);
  return v;
}

std::vector<sf::item_meta> metadata(size_t n) {
  static const char* cats[] = {"Fruit/Apple", "Fruit/Pear", "Vegetables/Leek", "Dairy"};
  std::vector<sf::item_meta> m(n);
  for (size_t i = 0; i < n; ++i) {
    m[i].id = "sku-" + std::to_string(i / 2);  // two images per product: distinct_ids matters
    m[i].title = "Product " + std::to_string(i);
    m[i].category = cats[i % 4];
    m[i].currency = i % 3 ? "EUR" : "";
    m[i].url = "https://example.com/p/" + std::to_string(i);
    m[i].image = "img/" + std::to_string(i) + ".jpg";
    m[i].has_price = i % 5 != 0;
    m[i].price = m[i].has_price ? 0.5 + double(i) : 0;
  }
  return m;
}

bool index_seed(const char* name, const char* quantizer, size_t n, size_t d, bool meta, bool power,
                sf::metric metric, const char* config, const sf::linear_transform* transform = nullptr) {
  const std::vector<float> v = vectors(n, d, n * 131 + d);
  sf::build_options o;
  o.quantizer = quantizer;
  o.metric_kind = metric;
  o.power_normalize = power;
  o.train_iterations = 4;
  o.build_unix_ms = 1700000000000ull;
  if (config) o.config_json = config;
  o.transform = transform;
  auto r = sf::build_index(v.data(), n, d, meta ? metadata(n) : std::vector<sf::item_meta>{}, o);
  if (!r) {
    std::fprintf(stderr, "index seed %s (%s): %s\n", name, quantizer, r.err().message.c_str());
    return false;
  }
  auto opened = sf::index_view::open(r.value().data(), r.value().size());
  if (!opened) {
    std::fprintf(stderr, "index seed %s does not open: %s\n", name, opened.err().message.c_str());
    return false;
  }
  return write_file("index", name, r.value());
}

bool index_seeds() {
  bool ok = true;
  ok &= index_seed("flat_meta.sfi", "flat", 12, 4, true, false, sf::metric::cosine, nullptr);
  ok &= index_seed("sq8_plain.sfi", "sq8", 10, 6, false, false, sf::metric::cosine, nullptr);
  ok &= index_seed("sq8_ip_conf.sfi", "sq8", 9, 5, true, false, sf::metric::inner_product,
                   "{\"embedder\":\"fuzz\",\"item_threshold\":0.8}");
  ok &= index_seed("ivf_sq8_rrflat.sfi", "ivf4,sq8,rr:flat", 24, 8, true, false, sf::metric::cosine, "{}");
  ok &= index_seed("pca_ivf_sq8.sfi", "pca4,ivf2,sq8", 16, 8, true, true, sf::metric::cosine, nullptr);
  ok &= index_seed("pq_rrsq8.sfi", "pq2,rr:sq8", 20, 4, false, false, sf::metric::cosine, nullptr);
  ok &= index_seed("pcaw_ivf_pq_meta.sfi", "pcaw2,ivf2,pq1", 12, 3, true, false, sf::metric::cosine, nullptr);
  // Wider vectors reach the SIMD kernels' main loops (and their tails: 37 and 45 are odd).
  ok &= index_seed("flat_d37.sfi", "flat", 5, 37, true, false, sf::metric::cosine, nullptr);
  ok &= index_seed("sq8_rrflat_d45.sfi", "sq8,rr:flat", 6, 45, false, true, sf::metric::inner_product, nullptr);
  // "ldaN": a transform supplied by the caller (catalog adaptation).
  sf::linear_transform t;
  t.in_d = 6;
  t.out_d = 3;
  t.mean.assign(6, 0.1f);
  for (size_t r = 0; r < 3; ++r)
    for (size_t c = 0; c < 6; ++c) t.matrix.push_back(r == c % 3 ? 1.0f : 0.25f * float(c) - 0.5f);
  ok &= index_seed("lda_ivf_sq8.sfi", "lda3,ivf2,sq8", 10, 6, true, false, sf::metric::cosine, nullptr, &t);
  return ok;
}

// ------------------------------------------------------------------------------------------
// catalog

bool catalog_seeds() {
  bool ok = true;
  ok &= write_file("catalog", "basic.jsonl",
                   "{\"id\": \"sku-1\", \"title\": \"Apple\", \"category\": \"Fruit/Apple\", \"price\": 1.5, "
                   "\"currency\": \"EUR\", \"url\": \"https://example.com/a\", \"images\": [\"a.jpg\", \"b.jpg\"]}\n"
                   "{\"id\": \"sku-2\", \"title\": \"Pear\", \"category\": \"Fruit/Pear\"}\n");
  ok &= write_file("catalog", "embeddings.jsonl",
                   "\xEF\xBB\xBF{\"id\":\"a\",\"title\":\"\",\"category\":\"X\",\"embedding\":[0.1,-2,3e-5]}\r\n"
                   "\n"
                   "   \t\n"
                   "{\"id\":\"b\",\"title\":\"t \\u00e9\\n\",\"category\":\"X/Y/Z\",\"embedding\":[1,2,3],"
                   "\"extra\":{\"nested\":[1,{\"a\":null}],\"x\":true}}\n"
                   "{\"id\":\"c\",\"title\":\"c\",\"category\":\"X\",\"price\":0,\"images\":[]}");
  ok &= write_file("catalog", "bad_lines.jsonl",
                   "{\"id\": \"dup\", \"title\": \"one\", \"category\": \"A\"}\n"
                   "{\"id\": \"dup\", \"title\": \"two\", \"category\": \"A\"}\n"
                   "{\"id\": \"\", \"title\": \"empty id\", \"category\": \"A\"}\n"
                   "{\"id\": \"p\", \"title\": \"neg\", \"category\": \"A\", \"price\": -1}\n"
                   "{\"id\": \"q\", \"title\": \"slash\", \"category\": \"A//B\"}\n"
                   "{\"id\": \"r\", \"title\": \"dim\", \"category\": \"A\", \"embedding\": [1, 2]}\n"
                   "{\"id\": \"s\", \"title\": \"dim\", \"category\": \"A\", \"embedding\": [1, 2, 3, 1e39]}\n"
                   "{\"id\": \"t\", \"title\": 5, \"category\": \"A\"}\n"
                   "[1, 2, 3]\n"
                   "{\"id\": \"u\", \"title\": \"u\", \"category\": \"A\"} trailing\n"
                   "{\"id\": \"v\"\n");
  ok &= write_file("catalog", "many_images.jsonl",
                   "{\"id\":\"m\",\"title\":\"m\",\"category\":\"M\",\"images\":[\"1\",\"2\",\"3\",\"4\"],"
                   "\"embedding\":[0.5,0.5,0.5,0.5,0.5]}\n"
                   "{\"id\":\"n\",\"title\":\"n\",\"category\":\"M/N\",\"price\":12345678901234567890}\n");
  return ok;
}

// ------------------------------------------------------------------------------------------
// manifest (plus models/*.json, copied by tools/fuzz.sh --seeds)

bool manifest_seeds() {
  const std::string sha(64, 'a');
  bool ok = true;
  ok &= write_file("manifest", "yolo_minimal.json",
                   "{\"name\":\"m\",\"file\":\"dir/m.onnx\",\"sha256\":\"" + sha +
                       "\",\"licence\":\"MIT\",\"input\":{\"name\":\"x\",\"width\":320,\"height\":256,"
                       "\"layout\":\"NHWC\",\"color\":\"BGR\"},\"outputs\":[\"y\"],\"kind\":\"yolo\","
                       "\"strides\":[4,8,16,32]}");
  ok &= write_file("manifest", "centernet.json",
                   "{\n  \"manifest_version\": 1,\n  \"name\": \"cn\",\n  \"file\": \"cn.onnx\",\n  \"sha256\": \"" +
                       std::string(64, 'F') +
                       "\",\n  \"licence\": \"BSD\",\n  \"notes\": \"\\u00e9\",\n  \"input\": {\"name\": \"in\", "
                       "\"width\": 512, \"height\": 512, \"mean\": [0.5, 0.5, 0.5], \"std\": [0.25, 0.25, 0.25], "
                       "\"scale\": 0.00392156862745098, \"letterbox\": true, \"pad_value\": 0},\n  \"outputs\": "
                       "[\"heat\", \"wh\", \"reg\"],\n  \"kind\": \"centernet\",\n  \"output_stride\": 4,\n  "
                       "\"class_names\": [\"a\", \"b\"],\n  \"unknown\": {\"deep\": [[[]]]}\n}\n");
  ok &= write_file("manifest", "yolov8.json",
                   "{\"name\":\"v8\",\"file\":\"v8.onnx\",\"sha256\":\"" + sha +
                       "\",\"licence\":\"AGPL\",\"source_url\":\"https://example.com\",\"input\":{\"name\":\"images\","
                       "\"width\":640,\"height\":640},\"outputs\":[\"output0\"],\"kind\":\"yolov8\"}");
  ok &= write_file("manifest", "bad_std.json",
                   "{\"name\":\"e\",\"file\":\"../e.onnx\",\"sha256\":\"" + sha +
                       "\",\"licence\":\"x\",\"input\":{\"name\":\"i\",\"width\":0,\"height\":5000,\"std\":[1,0,1]},"
                       "\"outputs\":[],\"kind\":\"embedding\",\"embedding_dim\":0,\"name\":\"dup\"}");
  return ok;
}

// ------------------------------------------------------------------------------------------
// image: PNGs (stored deflate blocks, split IDAT) and JPEGs

void put32be(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

void png_chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& body) {
  put32be(png, uint32_t(body.size()));
  std::vector<uint8_t> crc_in(type, type + 4);
  crc_in.insert(crc_in.end(), body.begin(), body.end());
  png.insert(png.end(), crc_in.begin(), crc_in.end());
  put32be(png, sf::crc32(crc_in.data(), crc_in.size()));
}

// color_type 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA; bit depth 8 (16 when depth16).
std::vector<uint8_t> make_png(int w, int h, int color_type, bool depth16, int filter) {
  const int channels = color_type == 0 || color_type == 3 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
  const int bytes_per_sample = depth16 ? 2 : 1;
  std::vector<uint8_t> raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(uint8_t(filter));
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels * bytes_per_sample; ++c)
        raw.push_back(uint8_t(color_type == 3 ? (x + y) % 4 : (x * 37 + y * 11 + c * 70) & 0xFF));
  }
  std::vector<uint8_t> z = {0x78, 0x01};  // zlib header, then stored blocks
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    const size_t len = std::min<size_t>(raw.size() - pos, 65535);
    z.push_back(pos + len == raw.size() ? 1 : 0);
    z.push_back(uint8_t(len)), z.push_back(uint8_t(len >> 8));
    z.push_back(uint8_t(~len)), z.push_back(uint8_t(~len >> 8));
    z.insert(z.end(), raw.begin() + long(pos), raw.begin() + long(pos + len));
    pos += len;
    if (len == 0) break;
  }
  uint32_t a = 1, b = 0;
  for (uint8_t x : raw) a = (a + x) % 65521, b = (b + a) % 65521;
  put32be(z, b << 16 | a);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  std::vector<uint8_t> ihdr;
  put32be(ihdr, uint32_t(w));
  put32be(ihdr, uint32_t(h));
  ihdr.push_back(depth16 ? 16 : 8);
  ihdr.push_back(uint8_t(color_type));
  ihdr.push_back(0), ihdr.push_back(0), ihdr.push_back(0);
  png_chunk(png, "IHDR", ihdr);
  if (color_type == 3) png_chunk(png, "PLTE", {255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250});
  if (color_type == 3) png_chunk(png, "tRNS", {255, 128});
  // Two IDAT chunks (split mid-stream) exercise stb's chunk concatenation.
  const size_t half = z.size() / 2;
  png_chunk(png, "IDAT", std::vector<uint8_t>(z.begin(), z.begin() + long(half)));
  png_chunk(png, "IDAT", std::vector<uint8_t>(z.begin() + long(half), z.end()));
  png_chunk(png, "IEND", {});
  return png;
}

// A small JPEG writer (baseline or progressive, gray or YCbCr with Y sampling 1x1/2x1/2x2,
// optional restart interval). Huffman tables are simple canonical ones: DC categories 0..11
// as 4-bit codes, every AC symbol (EOB, ZRL, run/size) as an 8-bit code. Quantiser: all 4.
struct jpeg_bits {
  std::vector<uint8_t>& out;
  uint32_t acc = 0;
  int n = 0;
  void put(uint32_t code, int len) {
    for (int i = len - 1; i >= 0; --i) {
      acc = (acc << 1) | ((code >> i) & 1);
      if (++n == 8) emit();
    }
  }
  void emit() {
    out.push_back(uint8_t(acc));
    if (uint8_t(acc) == 0xFF) out.push_back(0);  // byte stuffing
    acc = 0;
    n = 0;
  }
  void flush() {  // pad with 1 bits
    while (n) put(1, 1);
  }
};

constexpr double k_pi = 3.14159265358979323846;
constexpr double k_sqrt1_2 = 0.70710678118654752440;

const int k_zigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
                          41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
                          30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

std::vector<uint8_t> jpeg_ac_symbols() {
  std::vector<uint8_t> v = {0x00, 0xF0};
  for (int run = 0; run < 16; ++run)
    for (int size = 1; size <= 10; ++size) v.push_back(uint8_t(run << 4 | size));
  return v;  // 162 symbols
}

int jpeg_category(int v) {
  int a = v < 0 ? -v : v, c = 0;
  while (a) a >>= 1, ++c;
  return c;
}
uint32_t jpeg_value_bits(int v, int cat) { return uint32_t(v >= 0 ? v : v + (1 << cat) - 1); }

struct jpeg_spec {
  int w = 8, h = 8;
  bool color = true;
  int hy = 1, vy = 1;  // Y sampling factors (chroma 1x1)
  bool progressive = false;
  int restart = 0;  // MCUs per restart interval, 0 = none
};

std::vector<uint8_t> make_jpeg(const jpeg_spec& sp) {
  const int nc = sp.color ? 3 : 1;
  const int hs[3] = {sp.color ? sp.hy : 1, 1, 1}, vs[3] = {sp.color ? sp.vy : 1, 1, 1};
  const int mcu_w = 8 * hs[0], mcu_h = 8 * vs[0];
  const int mcus_x = (sp.w + mcu_w - 1) / mcu_w, mcus_y = (sp.h + mcu_h - 1) / mcu_h;
  // Component planes at their own resolution, padded to whole MCUs (edge replicated).
  std::vector<std::vector<float>> plane(nc);
  std::vector<int> pw(nc), ph(nc);
  for (int c = 0; c < nc; ++c) {
    pw[c] = mcus_x * 8 * hs[c];
    ph[c] = mcus_y * 8 * vs[c];
    plane[c].assign(size_t(pw[c]) * ph[c], 0);
    const int sx = hs[0] / hs[c], sy = vs[0] / vs[c];
    for (int y = 0; y < ph[c]; ++y)
      for (int x = 0; x < pw[c]; ++x) {
        float acc = 0;
        for (int dy = 0; dy < sy; ++dy)
          for (int dx = 0; dx < sx; ++dx) {
            const int X = std::min(x * sx + dx, sp.w - 1), Y = std::min(y * sy + dy, sp.h - 1);
            const float r = float((X * 255) / std::max(sp.w - 1, 1)), g = float((Y * 255) / std::max(sp.h - 1, 1)),
                        b = float(((X + Y) * 40) % 256);
            const float v = c == 0 ? 0.299f * r + 0.587f * g + 0.114f * b
                            : c == 1 ? -0.1687f * r - 0.3313f * g + 0.5f * b + 128
                                     : 0.5f * r - 0.4187f * g - 0.0813f * b + 128;
            acc += v;
          }
        plane[c][size_t(y) * pw[c] + x] = acc / float(sx * sy) - 128;
      }
  }
  auto block = [&](int c, int bx, int by, int out[64]) {  // quantised, zigzag order
    for (int v = 0; v < 8; ++v)
      for (int u = 0; u < 8; ++u) {
        double s = 0;
        for (int y = 0; y < 8; ++y)
          for (int x = 0; x < 8; ++x)
            s += plane[c][size_t(by * 8 + y) * pw[c] + bx * 8 + x] * std::cos((2 * x + 1) * u * k_pi / 16) *
                 std::cos((2 * y + 1) * v * k_pi / 16);
        s *= 0.25 * (u ? 1 : k_sqrt1_2) * (v ? 1 : k_sqrt1_2);
        out[v * 8 + u] = int(std::lround(s / 4));
      }
    int zz[64];
    for (int k = 0; k < 64; ++k) zz[k] = out[k_zigzag[k]];
    std::memcpy(out, zz, sizeof zz);
  };

  std::vector<uint8_t> j = {0xFF, 0xD8};
  auto segment = [&](uint8_t marker, const std::vector<uint8_t>& body) {
    j.push_back(0xFF), j.push_back(marker);
    j.push_back(uint8_t((body.size() + 2) >> 8)), j.push_back(uint8_t(body.size() + 2));
    j.insert(j.end(), body.begin(), body.end());
  };
  std::vector<uint8_t> dqt = {0};
  dqt.resize(65, 4);
  segment(0xDB, dqt);
  std::vector<uint8_t> sof = {8, uint8_t(sp.h >> 8), uint8_t(sp.h), uint8_t(sp.w >> 8), uint8_t(sp.w), uint8_t(nc)};
  for (int c = 0; c < nc; ++c) sof.push_back(uint8_t(c + 1)), sof.push_back(uint8_t(hs[c] << 4 | vs[c])), sof.push_back(0);
  segment(sp.progressive ? 0xC2 : 0xC0, sof);
  std::vector<uint8_t> dht = {0x00};  // DC table 0: 12 codes of length 4
  for (int l = 1; l <= 16; ++l) dht.push_back(l == 4 ? 12 : 0);
  for (int i = 0; i < 12; ++i) dht.push_back(uint8_t(i));
  const std::vector<uint8_t> ac = jpeg_ac_symbols();
  dht.push_back(0x10);  // AC table 0: 162 codes of length 8
  for (int l = 1; l <= 16; ++l) dht.push_back(l == 8 ? uint8_t(ac.size()) : 0);
  dht.insert(dht.end(), ac.begin(), ac.end());
  segment(0xC4, dht);
  if (sp.restart) segment(0xDD, {uint8_t(sp.restart >> 8), uint8_t(sp.restart)});
  auto ac_code = [&](uint8_t sym) {
    for (size_t i = 0; i < ac.size(); ++i)
      if (ac[i] == sym) return uint32_t(i);
    return uint32_t(0);
  };

  // One scan over MCUs (interleaved when several components) coding coefficients ss..se.
  auto scan = [&](const std::vector<int>& comps, int ss, int se) {
    std::vector<uint8_t> sos = {uint8_t(comps.size())};
    for (int c : comps) sos.push_back(uint8_t(c + 1)), sos.push_back(0x00);
    sos.push_back(uint8_t(ss)), sos.push_back(uint8_t(se)), sos.push_back(0);
    segment(0xDA, sos);
    jpeg_bits bw{j};
    int pred[3] = {0, 0, 0};
    const bool single = comps.size() == 1;
    const int ux = single ? pw[comps[0]] / 8 : mcus_x, uy = single ? ph[comps[0]] / 8 : mcus_y;
    int units = 0, rst = 0;
    for (int my = 0; my < uy; ++my)
      for (int mx = 0; mx < ux; ++mx) {
        if (sp.restart && units && units % sp.restart == 0) {
          bw.flush();
          j.push_back(0xFF), j.push_back(uint8_t(0xD0 + (rst++ & 7)));
          pred[0] = pred[1] = pred[2] = 0;
        }
        ++units;
        for (int c : comps) {
          const int bh = single ? 1 : hs[c], bv = single ? 1 : vs[c];
          for (int by = 0; by < bv; ++by)
            for (int bx = 0; bx < bh; ++bx) {
              int q[64];
              block(c, mx * bh + bx, my * bv + by, q);
              if (ss == 0) {
                const int diff = q[0] - pred[c];
                pred[c] = q[0];
                const int cat = jpeg_category(diff);
                bw.put(uint32_t(cat), 4);
                if (cat) bw.put(jpeg_value_bits(diff, cat), cat);
              }
              if (se == 0) continue;
              int run = 0;
              for (int k = std::max(ss, 1); k <= se; ++k) {
                const int v = std::max(-1023, std::min(1023, q[k]));
                if (v == 0) {
                  ++run;
                  continue;
                }
                while (run > 15) bw.put(ac_code(0xF0), 8), run -= 16;
                const int cat = jpeg_category(v);
                bw.put(ac_code(uint8_t(run << 4 | cat)), 8);
                bw.put(jpeg_value_bits(v, cat), cat);
                run = 0;
              }
              if (run) bw.put(ac_code(0x00), 8);  // EOB (progressive: an EOB run of 1)
            }
        }
      }
    bw.flush();
  };
  std::vector<int> all;
  for (int c = 0; c < nc; ++c) all.push_back(c);
  if (!sp.progressive) {
    scan(all, 0, 63);
  } else {
    scan(all, 0, 0);                             // DC first (interleaved)
    for (int c = 0; c < nc; ++c) scan({c}, 1, 5);  // spectral bands, one component each
    for (int c = 0; c < nc; ++c) scan({c}, 6, 63);
  }
  j.push_back(0xFF), j.push_back(0xD9);
  return j;
}

// Image seeds must decode: a seed that stb rejects teaches the fuzzer little.
bool image_seed(const char* name, const std::vector<uint8_t>& bytes) {
  auto r = sf::image::decode_rgba(bytes.data(), bytes.size());
  if (!r) {
    std::fprintf(stderr, "image seed %s does not decode: %s\n", name, r.err().message.c_str());
    return false;
  }
  return write_file("image", name, bytes);
}

bool image_seeds() {
  bool ok = true;
  ok &= image_seed("rgb_4x3.png", make_png(4, 3, 2, false, 0));
  ok &= image_seed("rgba_5x5_paeth.png", make_png(5, 5, 6, false, 4));
  ok &= image_seed("gray_7x2_sub.png", make_png(7, 2, 0, false, 1));
  ok &= image_seed("graya16_3x3_avg.png", make_png(3, 3, 4, true, 3));
  ok &= image_seed("palette_6x4_up.png", make_png(6, 4, 3, false, 2));
  jpeg_spec j;
  ok &= image_seed("rgb444_8x8.jpg", make_jpeg(j));
  j.w = 13, j.h = 11, j.hy = 2, j.vy = 2;
  ok &= image_seed("rgb420_13x11.jpg", make_jpeg(j));
  j = {};
  j.w = 9, j.h = 7, j.color = false, j.restart = 1;
  ok &= image_seed("gray_restart_9x7.jpg", make_jpeg(j));
  j = {};
  j.w = 16, j.h = 8, j.progressive = true;
  ok &= image_seed("progressive_16x8.jpg", make_jpeg(j));
  j = {};
  j.w = 16, j.h = 16, j.hy = 2, j.vy = 1, j.restart = 2;
  ok &= image_seed("rgb422_restart_16x16.jpg", make_jpeg(j));
  return ok;
}

// ------------------------------------------------------------------------------------------
// detect: byte scripts for fuzz_detect

struct bytes {
  std::vector<uint8_t> v;
  bytes& u8(unsigned x) {
    v.push_back(uint8_t(x));
    return *this;
  }
  bytes& u16(unsigned x) { return u8(x & 0xFF).u8(x >> 8); }
  // Selector for sf_fuzz::reader::num(lo, hi): the nearest plain value.
  bytes& num(float x, float lo, float hi) {
    float t = (x - lo) / (hi - lo);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return u8(unsigned(std::lround(t * float(sf_fuzz::k_plain_max))));
  }
  bytes& special(unsigned i) { return u8(sf_fuzz::k_plain_max + 1 + i); }
  bytes& pad_to(size_t n) {
    while (v.size() < n) v.push_back(0);
    return *this;
  }
};

// Decoder header: decoder, shape mode, fill mode, scale, constant, input w/h, threshold,
// max_candidates, objectness_only, classes, num_classes mode, batch.
bytes detect_header(unsigned decoder, unsigned shape_mode, unsigned fill, unsigned scale, int w, int h,
                    unsigned classes, bool objectness_only) {
  bytes b;
  b.u8(decoder).u8(shape_mode).u8(fill).u8(scale).num(0.5f, -2, 2);
  b.u16(unsigned(w - 1)).u16(unsigned(h - 1)).num(0.25f, -1, 1).u16(100).u8(objectness_only).u8(classes).u8(1).u8(1);
  return b;
}

// Extra candidates, then the 40-byte NMS/proposal block.
void detect_tail(bytes& b, bool letterbox) {
  b.u8(2);
  b.num(10, -50, 600).num(10, -50, 600).num(100, -10, 300).num(80, -10, 300).num(0.9f, 0, 1).num(0.8f, 0, 1).u8(1);
  b.num(20, -50, 600).num(15, -50, 600).num(90, -10, 300).num(90, -10, 300).special(0).num(0.8f, 0, 1).u8(2);
  const size_t block = b.v.size();
  b.num(0.45f, 0, 1).u8(0).u8(20).u16(1000);
  b.u16(1279).u16(719);
  if (letterbox) b.u8(1).u8(0);
  else b.u8(0).num(0.5f, 0, 4).num(0, -100, 100).num(10, -100, 100);
  b.num(16, 0, 64).num(0.7f, 0, 1.25f).u8(1).num(0.25f, 0, 1).num(0.9f, 0, 1.25f).u8(6);
  b.pad_to(block + 40);
}

// Tensor bytes for fill mode 0/1: a repeating pattern of plausible values.
void detect_pool(bytes& b, size_t n, unsigned salt) {
  for (size_t i = 0; i < n; ++i) {
    const unsigned x = unsigned((i * 7 + salt * 13) % 61);
    b.u8(i % 23 == 5 ? 0xF4 + (i % 12) : 61 + x * 2);  // mostly 0..1, a few specials
  }
}

bool detect_seeds() {
  bool ok = true;
  {  // YOLOX, 32x32 input, default strides: A = 16 + 4 + 1 = 21, C = 2
    bytes b = detect_header(0, 0, 0, 0, 32, 32, 2, false);
    b.u8(0);  // default strides
    detect_tail(b, true);
    detect_pool(b, 21 * 7, 1);
    ok &= write_file("detect", "yolox_32.bin", b.v);
  }
  {  // YOLOX with custom strides 4, 8 on 24x16, objectness only
    bytes b = detect_header(0, 0, 1, 0, 24, 16, 3, true);
    b.u8(2).u8(4).u8(8);
    detect_tail(b, false);
    detect_pool(b, 200, 2);
    ok &= write_file("detect", "yolox_strides.bin", b.v);
  }
  {  // YOLO boxes/objectness/classes: 12 anchors, C = 3, boxes in pixels (scale 64)
    bytes b = detect_header(1, 0, 0, 2, 64, 48, 3, false);
    b.u16(12);
    detect_tail(b, true);
    detect_pool(b, 12 * 8, 3);
    ok &= write_file("detect", "yolo_o.bin", b.v);
  }
  {  // YOLOv8 transposed: 10 anchors, C = 4, raw float fill
    bytes b = detect_header(2, 0, 2, 0, 40, 40, 4, false);
    b.u16(10);
    detect_tail(b, false);
    const float vals[] = {12.0f, 20.0f, 8.0f, 10.0f, 0.9f, 0.1f, 0.3f, 0.6f, 30.0f, 5.0f, 6.0f, 20.0f};
    for (int i = 0; i < 10 * 8; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &vals[i % 12], 4);
      for (int k = 0; k < 4; ++k) b.u8((bits >> (8 * k)) & 0xFF);
    }
    ok &= write_file("detect", "yolov8.bin", b.v);
  }
  {  // CenterNet stride 4 on 32x24: 8x6 cells, C = 2
    bytes b = detect_header(3, 0, 0, 0, 32, 24, 2, false);
    b.u8(4).u8(0);
    detect_tail(b, true);
    detect_pool(b, 2 * 48 + 2 * 48 + 2 * 48, 4);
    ok &= write_file("detect", "centernet.bin", b.v);
  }
  {  // raw shape: yolo with a {1, 3, 9} tensor
    bytes b = detect_header(1, 1, 0, 1, 16, 16, 4, false);
    b.u16(3);
    b.u8(2).u8(1).u8(3).u8(9);
    detect_tail(b, false);
    detect_pool(b, 27, 5);
    ok &= write_file("detect", "yolo_rawshape.bin", b.v);
  }
  return ok;
}

// ------------------------------------------------------------------------------------------
// track: byte scripts for fuzz_track

void track_region(bytes& b, float x, float y, float w, float h, unsigned emb, const std::vector<float>& e,
                  const std::vector<std::pair<unsigned, float>>& matches) {
  b.num(x, -10, 200).num(y, -10, 200).num(w, -5, 100).num(h, -5, 100).u8(emb);
  for (float v : e) b.num(v, -1, 1);
  b.u8(unsigned(matches.size()));
  for (const auto& [item, score] : matches) b.u8(item).u8(0).num(score, -1, 1);
}

bool track_seeds() {
  bool ok = true;
  {  // few options; one product held still for 4 samples, then a second one
    bytes b;
    b.u8(1).num(0.7f, -1, 1.5f).num(0.6f, -1, 1.5f).u8(1).u8(3);
    for (int s = 0; s < 4; ++s) {
      b.u8(0).num(0.5f, -0.25f, 2);
      b.u8(2);
      track_region(b, 20 + s, 30, 40, 40, 1, {0.9f, 0.1f, 0.0f}, {{1, 0.9f}, {2, 0.5f}, {4, 0.4f}});
      track_region(b, 120, 100, 30, 50, 1, {0.0f, 1.0f, 0.2f}, {{4, 0.6f}, {7, 0.58f}});
      if (s == 1) b.u8(5);
    }
    b.u8(6);
    ok &= write_file("track", "steady.bin", b.v);
  }
  {  // every option; a cut, a re-acquired fast mover, a category vote, errors
    bytes b;
    b.u8(0).num(0.3f, 0, 1).num(0.5f, -1, 1).num(0.85f, -1, 1.25f).num(0.5f, 0, 1).u8(3).u8(2).u8(2);
    b.num(0.75f, -1, 1.5f).num(0.05f, 0, 0.3f).u8(3).num(0.65f, -1, 1.5f).num(1.0f, 0, 3);
    b.u8(1).u8(3).num(0.5f, -1, 1.5f);  // item_thresholds[3]
    b.u8(1).u8(0).num(0.6f, -1, 1.5f);  // category_item_thresholds[0]
    b.u8(1).u8(0).num(0.4f, -1, 1.5f);  // category_thresholds[0]
    for (int s = 0; s < 6; ++s) {
      b.u8(s == 3 ? 7 : 1).num(0.5f, -0.25f, 2).u8(1);
      track_region(b, 10 + 30 * s, 10, 40, 40, 1, {1.0f, 0.1f}, {{0, 0.7f}, {3, 0.69f}, {6, 0.68f}});
    }
    b.u8(2).num(-0.2f, -0.25f, 2).u8(0);  // time going back: an error
    b.u8(3).num(0.5f, -0.25f, 2).u8(1);       // one region with its own embedding dimension:
    b.num(5, -10, 200).num(5, -10, 200).num(10, -5, 100).num(10, -5, 100);
    b.u8(5).u8(0).num(0.0f, -1, 1).u8(0);     // 1 float, zero: an error; no matches
    b.u8(5).u8(6);
    ok &= write_file("track", "options_cut.bin", b.v);
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR   (with OUT_DIR/{index,catalog,manifest,image,detect,track}/)\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  bool ok = true;
  for (bool (*f)() : {index_seeds, catalog_seeds, manifest_seeds, image_seeds, detect_seeds, track_seeds})
    ok = f() && ok;
  std::printf("%d seed files written under %s\n", g_written, g_out.c_str());
  return ok ? 0 : 1;
}
