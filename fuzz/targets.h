// Fuzz harnesses shared by the libFuzzer entry points (fuzz/fuzz_*.cpp) and the Catch2
// replay test (tests/fuzz/test_fuzz_regressions.cpp). Header-only, standard C++17 plus the
// core's public headers, so it builds with clang (libFuzzer), g++ and emcc alike.
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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "catalog/catalog.h"
#include "detect/detect.h"
#include "image/image.h"
#include "common/crc32.h"
#include "index/format.h"
#include "index/index.h"
#include "model/manifest.h"
#include "track/track.h"

namespace sf_fuzz {

// ---------------------------------------------------------------------------------------
// Contract failures

using failure_handler = void (*)(const char* condition, const char* file, int line);

inline failure_handler& failure_handler_slot() {
  static failure_handler h = nullptr;
  return h;
}
// nullptr (the default): print and abort.
inline void set_failure_handler(failure_handler h) { failure_handler_slot() = h; }

// Always returns false so that `return fail(...)` leaves a bool (or int: 0) function.
inline bool fail(const char* condition, const char* file, int line) {
  if (failure_handler h = failure_handler_slot()) {
    h(condition, file, line);
    return false;
  }
  std::fprintf(stderr, "fuzz contract violated: %s at %s:%d\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}

// Checks a contract; on failure reports it and returns from the enclosing function (which
// returns bool or int: a failed check never continues into code that relies on it).
#define SF_FUZZ_CHECK(cond)                                                       \
  do {                                                                            \
    if (!(cond)) return ::sf_fuzz::fail(#cond, __FILE__, __LINE__);               \
  } while (0)

// Compile with -DSF_FUZZ_DEBUG to see what a structured input does (seed writing).
#ifdef SF_FUZZ_DEBUG
#define SF_FUZZ_TRACE(...) std::fprintf(stderr, __VA_ARGS__)
#else
#define SF_FUZZ_TRACE(...) ((void)0)
#endif

// ---------------------------------------------------------------------------------------
// Byte reader for the structured targets

// Values that break arithmetic: selected by the top 12 values of a selector byte.
inline float special_value(unsigned i) {
  const float lim_max = std::numeric_limits<float>::max();
  switch (i % 12) {
    case 0: return std::numeric_limits<float>::quiet_NaN();
    case 1: return std::numeric_limits<float>::infinity();
    case 2: return -std::numeric_limits<float>::infinity();
    case 3: return lim_max;
    case 4: return -lim_max;
    case 5: return std::numeric_limits<float>::denorm_min();
    case 6: return -0.0f;
    case 7: return 1e30f;
    case 8: return -1e30f;
    case 9: return std::numeric_limits<float>::min();
    case 10: return 1e-30f;
    default: return -1.0f;
  }
}

constexpr unsigned k_special_selectors = 12;             // selector bytes 0xF4..0xFF
constexpr unsigned k_plain_max = 255 - k_special_selectors;  // 0..0xF3 map onto [lo, hi]

class reader {
 public:
  reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}

  size_t remaining() const { return n_; }
  bool empty() const { return n_ == 0; }
  const uint8_t* data() const { return p_; }

  uint8_t u8() {
    if (!n_) return 0;
    --n_;
    return *p_++;
  }
  uint16_t u16() { return uint16_t(u8() | (unsigned(u8()) << 8)); }
  uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
  bool flag() { return (u8() & 1) != 0; }
  // Raw IEEE bits (NaN payloads, denormals, everything).
  float raw_f32() {
    uint32_t b = u32();
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  // One selector byte: 0..0xF3 spread evenly over [lo, hi], 0xF4..0xFF special values.
  float num(float lo, float hi) {
    const unsigned s = u8();
    if (s > k_plain_max) return special_value(s - k_plain_max - 1);
    return lo + (hi - lo) * (float(s) / float(k_plain_max));
  }
  // The rest of the input (consumed).
  std::vector<uint8_t> rest() {
    std::vector<uint8_t> v(p_, p_ + n_);
    p_ += n_;
    n_ = 0;
    return v;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

inline bool finite_box(const sf::det_box& b) {
  return std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1);
}

// Inside [0, w] x [0, h]; `strict`: also non-empty.
inline bool box_inside(const sf::det_box& b, float w, float h, bool strict) {
  if (!finite_box(b) || b.x0 < 0 || b.y0 < 0 || b.x1 > w || b.y1 > h) return false;
  return strict ? (b.x0 < b.x1 && b.y0 < b.y1) : (b.x0 <= b.x1 && b.y0 <= b.y1);
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// ---------------------------------------------------------------------------------------
// index

// An exactly sized heap copy: ASan sees any read past the end, and operator new[] gives the
// 8-byte alignment index_view::open requires (libFuzzer's own buffer is exactly sized too,
// but the Catch2 replay reads files into vectors).
struct exact_buffer {
  std::unique_ptr<uint8_t[]> p;
  size_t n = 0;
  exact_buffer(const uint8_t* data, size_t size) : p(new uint8_t[size ? size : 1]), n(size) {
    if (size) std::memcpy(p.get(), data, size);
  }
};

// Rewrites the header, section-table and section checksums (where the table lets them be
// found inside the file) so that mutations of header fields and section contents get past
// the CRC checks to the validation behind them. Returns true when anything changed.
inline bool fix_index_checksums(uint8_t* d, size_t size) {
  namespace f = sf::format;
  if (size < f::kHeaderBytes) return false;
  bool changed = false;
  auto put = [&](size_t at, uint32_t crc) {
    if (f::load<uint32_t>(d + at) != crc) f::store<uint32_t>(d + at, crc), changed = true;
  };
  const uint32_t n = f::load<uint32_t>(d + f::hdr::section_count);
  if (n <= f::kMaxSections && f::kHeaderBytes + size_t(n) * f::kSectionEntryBytes <= size) {
    for (uint32_t i = 0; i < n; ++i) {
      uint8_t* e = d + f::kHeaderBytes + size_t(i) * f::kSectionEntryBytes;
      const uint64_t off = f::load<uint64_t>(e + f::sec::offset), bytes = f::load<uint64_t>(e + f::sec::bytes);
      if (off <= size && bytes <= size - off) put(size_t(e - d) + f::sec::crc, sf::crc32(d + off, size_t(bytes)));
    }
    put(f::hdr::table_crc, sf::crc32(d + f::kHeaderBytes, size_t(n) * f::kSectionEntryBytes));
  }
  put(f::hdr::header_crc, sf::crc32(d, f::hdr::header_crc));
  return changed;
}

inline bool in_buffer(std::string_view s, const uint8_t* base, size_t size) {
  if (s.empty()) return true;
  const uint8_t* b = reinterpret_cast<const uint8_t*>(s.data());
  return b >= base && b <= base + size && s.size() <= size_t(base + size - b);
}

inline bool category_matches(std::string_view category, std::string_view prefix) {
  if (!starts_with(category, prefix)) return false;
  return category.size() == prefix.size() || category[prefix.size()] == '/' || prefix.back() == '/';
}

inline bool check_items(const sf::index_view& v, const uint8_t* base, size_t size) {
  for (uint32_t i = 0; i < v.size(); ++i) {
    const sf::item_view it = v.item(i);
    SF_FUZZ_CHECK(in_buffer(it.id, base, size) && in_buffer(it.title, base, size));
    SF_FUZZ_CHECK(in_buffer(it.category, base, size) && in_buffer(it.currency, base, size));
    SF_FUZZ_CHECK(in_buffer(it.url, base, size) && in_buffer(it.image, base, size));
    SF_FUZZ_CHECK(!std::isnan(it.price));
    SF_FUZZ_CHECK(it.has_price || it.price == 0);
  }
  const sf::item_view past = v.item(v.size());
  SF_FUZZ_CHECK(past.id.empty() && past.category.empty() && !past.has_price);
  return true;
}

inline bool check_search(const sf::index_view& v, const std::vector<float>& q, const sf::search_options& o,
                         bool expect_error) {
  auto r = v.search(q.data(), q.size(), o);
  if (!r) {
    SF_FUZZ_CHECK(!r.err().message.empty());
    return true;
  }
  SF_FUZZ_CHECK(!expect_error);
  const std::vector<sf::hit>& hits = r.value();
  SF_FUZZ_CHECK(hits.size() <= o.k);
  std::unordered_set<std::string_view> ids;
  for (size_t i = 0; i < hits.size(); ++i) {
    SF_FUZZ_CHECK(hits[i].item < v.size());
    SF_FUZZ_CHECK(hits[i].score >= o.min_score);
    if (i && std::isfinite(hits[i].score) && std::isfinite(hits[i - 1].score))
      SF_FUZZ_CHECK(hits[i - 1].score >= hits[i].score);
    const sf::item_view it = v.item(hits[i].item);
    if (!o.category_prefix.empty()) SF_FUZZ_CHECK(category_matches(it.category, o.category_prefix));
    if (o.distinct_ids && v.info().has_metadata) SF_FUZZ_CHECK(ids.insert(it.id).second);
  }
  return true;
}

inline bool exercise_index(const sf::index_view& v, const uint8_t* base, size_t size) {
  const sf::index_info& info = v.info();
  SF_FUZZ_CHECK(v.size() == info.count && v.dim() == info.dim && v.size() > 0 && v.dim() > 0);
  SF_FUZZ_CHECK(info.work_dim >= 1 && info.work_dim <= info.dim);
  SF_FUZZ_CHECK(info.file_bytes == size);
  SF_FUZZ_CHECK(in_buffer(v.config(), base, size));
  for (const sf::section_info& s : info.sections) SF_FUZZ_CHECK(s.offset <= size && s.bytes <= size - s.offset);
  if (!check_items(v, base, size)) return false;

  const size_t d = v.dim();
  std::vector<std::vector<float>> queries(3, std::vector<float>(d));
  for (size_t i = 0; i < d; ++i) {
    queries[0][i] = 1.0f;
    queries[1][i] = (i % 3 == 0 ? 1.0f : -0.5f) * (1.0f + 0.01f * float(i % 97));
    queries[2][i] = i + 1 == d ? 1.0f : 0.0f;
  }
  auto wq = v.work_query(queries[0].data(), d);
  if (wq) SF_FUZZ_CHECK(wq.value().size() == info.work_dim);

  const std::string first_category(v.item(0).category);
  std::vector<sf::search_options> opts;
  {
    sf::search_options o;
    o.k = 1;
    opts.push_back(o);
    o.k = 10;
    o.distinct_ids = true;
    opts.push_back(o);
    o = {};
    o.k = size_t(v.size()) + 3;
    o.min_score = 0;
    o.nprobe = size_t(info.ivf_lists) + 2;
    o.rerank = 4;
    opts.push_back(o);
    o = {};
    o.k = 3;
    o.nprobe = 1;
    o.rerank = 1;
    o.category_prefix = first_category;
    opts.push_back(o);
    if (!first_category.empty()) {
      o.category_prefix = first_category.substr(0, first_category.size() / 2 + 1);
      o.distinct_ids = true;
      opts.push_back(o);
    }
  }
  for (size_t qi = 0; qi < queries.size(); ++qi)
    for (size_t oi = 0; oi < opts.size(); ++oi)
      if (qi == 0 || oi % 2 == qi % 2)  // a cross-section is enough
        if (!check_search(v, queries[qi], opts[oi], false)) return false;

  sf::search_options o;
  o.k = 0;
  auto none = v.search(queries[0].data(), d, o);
  SF_FUZZ_CHECK(none.ok() && none.value().empty());
  o.k = 10001;
  if (!check_search(v, queries[0], o, true)) return false;
  o.k = 5;
  o.category_prefix = "\x01no such category";
  if (!check_search(v, queries[0], o, true)) return false;
  o.category_prefix.clear();
  std::vector<float> bad(d, 0.0f);
  if (info.metric_kind == sf::metric::cosine && !check_search(v, bad, o, true)) return false;
  bad[0] = std::numeric_limits<float>::quiet_NaN();
  if (!check_search(v, bad, o, true)) return false;
  std::vector<float> wrong_dim(d + 1, 1.0f);
  if (!check_search(v, wrong_dim, o, true)) return false;
  return true;
}

// with_config keeps every other section byte for byte: the copy opens (checksums verified),
// has the new CONF and the same items and search results.
inline bool check_with_config(const sf::index_view& v) {
  const std::string conf = "{\"fuzz\": true}";
  auto w = sf::with_config(v, conf);
  SF_FUZZ_CHECK(w.ok());
  exact_buffer copy(w.value().data(), w.value().size());
  auto r = sf::index_view::open(copy.p.get(), copy.n, true);
  SF_FUZZ_CHECK(r.ok());
  const sf::index_view& c = r.value();
  SF_FUZZ_CHECK(c.config() == conf);
  SF_FUZZ_CHECK(c.size() == v.size() && c.dim() == v.dim() && c.info().quantizer == v.info().quantizer);
  for (uint32_t i = 0; i < v.size(); ++i) {
    const sf::item_view a = v.item(i), b = c.item(i);
    SF_FUZZ_CHECK(a.id == b.id && a.title == b.title && a.category == b.category && a.currency == b.currency &&
                  a.url == b.url && a.image == b.image && a.has_price == b.has_price);
    SF_FUZZ_CHECK(std::memcmp(&a.price, &b.price, sizeof a.price) == 0);
  }
  std::vector<float> q(v.dim(), 1.0f);
  sf::search_options o;
  o.k = 5;
  auto ha = v.search(q.data(), q.size(), o), hb = c.search(q.data(), q.size(), o);
  SF_FUZZ_CHECK(ha.ok() == hb.ok());
  if (ha) {
    SF_FUZZ_CHECK(ha.value().size() == hb.value().size());
    for (size_t i = 0; i < ha.value().size(); ++i)
      SF_FUZZ_CHECK(ha.value()[i].item == hb.value()[i].item &&
                    std::memcmp(&ha.value()[i].score, &hb.value()[i].score, 4) == 0);
  }
  auto removed = sf::with_config(v, "");
  SF_FUZZ_CHECK(removed.ok());
  exact_buffer copy2(removed.value().data(), removed.value().size());
  auto r2 = sf::index_view::open(copy2.p.get(), copy2.n, true);
  SF_FUZZ_CHECK(r2.ok() && r2.value().config().empty());
  return true;
}

// ---------------------------------------------------------------------------------------
// catalog

inline bool valid_category_path(std::string_view c) {
  if (c.empty() || c.front() == '/' || c.back() == '/') return false;
  return c.find("//") == std::string_view::npos;
}

inline bool check_catalog(const sf::catalog& cat, const sf::catalog_options& opt, std::string_view source) {
  const sf::catalog_limits& lim = opt.limits;
  SF_FUZZ_CHECK(cat.products.size() <= lim.max_products);
  if (!opt.skip_bad) SF_FUZZ_CHECK(cat.skipped.empty());
  std::unordered_set<std::string_view> ids;
  bool any_embedding = false;
  size_t last_line = 0;
  for (const sf::product& p : cat.products) {
    SF_FUZZ_CHECK(!p.id.empty() && ids.insert(p.id).second);
    SF_FUZZ_CHECK(valid_category_path(p.category));
    SF_FUZZ_CHECK(!p.has_price || (std::isfinite(p.price) && p.price >= 0));
    SF_FUZZ_CHECK(p.images.size() <= lim.max_images);
    SF_FUZZ_CHECK(p.embedding.size() <= lim.max_embedding_dim);
    SF_FUZZ_CHECK(p.line > last_line);
    last_line = p.line;
    if (!p.embedding.empty()) {
      any_embedding = true;
      SF_FUZZ_CHECK(p.embedding.size() == cat.embedding_dim);
      if (opt.expected_dim) SF_FUZZ_CHECK(p.embedding.size() == opt.expected_dim);
      for (float x : p.embedding) SF_FUZZ_CHECK(std::isfinite(x));
    }
  }
  SF_FUZZ_CHECK(any_embedding == (cat.embedding_dim != 0));
  size_t last_skipped = 0;
  for (const sf::skipped_line& s : cat.skipped) {
    SF_FUZZ_CHECK(s.line > last_skipped);
    last_skipped = s.line;
    SF_FUZZ_CHECK(starts_with(s.reason, std::string(source) + ":" + std::to_string(s.line) + ": "));
    for (const sf::product& p : cat.products) SF_FUZZ_CHECK(p.line != s.line);
  }
  return true;
}

inline bool same_products(const sf::catalog& a, const sf::catalog& b) {
  SF_FUZZ_CHECK(a.products.size() == b.products.size() && a.embedding_dim == b.embedding_dim);
  for (size_t i = 0; i < a.products.size(); ++i) {
    const sf::product &x = a.products[i], &y = b.products[i];
    SF_FUZZ_CHECK(x.id == y.id && x.title == y.title && x.category == y.category && x.currency == y.currency &&
                  x.url == y.url && x.images == y.images && x.line == y.line && x.has_price == y.has_price);
    SF_FUZZ_CHECK(x.embedding.size() == y.embedding.size());
    SF_FUZZ_CHECK(x.embedding.empty() ||
                  std::memcmp(x.embedding.data(), y.embedding.data(), 4 * x.embedding.size()) == 0);
    SF_FUZZ_CHECK(std::memcmp(&x.price, &y.price, sizeof x.price) == 0);
  }
  return true;
}

inline bool run_catalog(std::string_view text, const sf::catalog_options& opt, sf::result<sf::catalog>* out) {
  static const char* const source = "fuzz.jsonl";
  auto r = sf::parse_catalog_jsonl(text, source, opt);
  if (!r) {
    SF_FUZZ_CHECK(r.err().code != sf::status::ok);
    SF_FUZZ_CHECK(starts_with(r.err().message, std::string(source) + ":"));
  } else if (!check_catalog(r.value(), opt, source)) {
    return false;
  }
  if (out) *out = std::move(r);
  return true;
}

// ---------------------------------------------------------------------------------------
// manifest

inline bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

inline bool safe_relative_path(std::string_view f) {
  if (f.empty() || f.front() == '/' || f.find('\\') != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos <= f.size()) {
    size_t end = f.find('/', pos);
    if (end == std::string_view::npos) end = f.size();
    if (f.substr(pos, end - pos) == "..") return false;
    pos = end + 1;
  }
  return true;
}

inline bool check_manifest(const sf::model_manifest& m) {
  SF_FUZZ_CHECK(!m.name.empty() && safe_relative_path(m.file));
  SF_FUZZ_CHECK(m.sha256.size() == 64 && is_lower_hex(m.sha256));
  const sf::model_input& in = m.input;
  SF_FUZZ_CHECK(in.width >= 1 && in.width <= 4096 && in.height >= 1 && in.height <= 4096);
  for (int c = 0; c < 3; ++c) {
    SF_FUZZ_CHECK(std::isfinite(in.mean[c]));
    SF_FUZZ_CHECK(std::isfinite(in.stddev[c]) && in.stddev[c] != 0);
  }
  SF_FUZZ_CHECK(std::isfinite(in.scale) && in.scale > 0);
  SF_FUZZ_CHECK(in.pad_value >= 0 && in.pad_value <= 255);
  SF_FUZZ_CHECK(!m.outputs.empty() && m.outputs.size() <= 16);
  for (const std::string& o : m.outputs) SF_FUZZ_CHECK(!o.empty());
  SF_FUZZ_CHECK(m.class_names.size() <= 65536);
  SF_FUZZ_CHECK(sf::model_kind_name(m.kind) != nullptr);
  if (m.kind == sf::model_kind::embedding) SF_FUZZ_CHECK(m.embedding_dim >= 1 && m.embedding_dim <= 65536);
  if (m.kind == sf::model_kind::yolox || m.kind == sf::model_kind::yolo || m.kind == sf::model_kind::yolov8) {
    SF_FUZZ_CHECK(!m.strides.empty() && m.strides.size() <= 8);
    for (size_t i = 0; i < m.strides.size(); ++i) {
      SF_FUZZ_CHECK(m.strides[i] >= 1 && m.strides[i] <= 1024);
      if (i) SF_FUZZ_CHECK(m.strides[i] > m.strides[i - 1]);
    }
  }
  if (m.kind == sf::model_kind::centernet) SF_FUZZ_CHECK(m.output_stride >= 1 && m.output_stride <= 64);
  const sf::image::preprocess_options p = sf::preprocess_options_for(in);
  SF_FUZZ_CHECK(p.width == int(in.width) && p.height == int(in.height));
  SF_FUZZ_CHECK(sf::image::tensor_size(p) == size_t(3) * in.width * in.height);
  // A letterboxed canvas fitted to a frame (input.size_multiple) is never larger than the
  // input, is a multiple of it on both sides, and covers the letterboxed frame (scaled down to
  // within input.max_pixels when set); a stretched one is a multiple within 4096 per side;
  // without it, the input size.
  if (in.size_multiple) SF_FUZZ_CHECK(in.width % in.size_multiple == 0 && in.height % in.size_multiple == 0);
  if (in.max_pixels) SF_FUZZ_CHECK(in.size_multiple != 0);
  if (m.pooling == sf::embedding_pooling::regions) SF_FUZZ_CHECK(m.kind == sf::model_kind::embedding);
  static const int frames[][2] = {{1, 1}, {1280, 720}, {720, 1280}, {65536, 1}, {1, 65536}, {333, 777}};
  for (const auto& f : frames) {
    const sf::image::preprocess_options q = sf::preprocess_options_for(in, f[0], f[1]);
    if (in.size_multiple && !in.letterbox) {
      SF_FUZZ_CHECK(q.width >= int(in.size_multiple) && q.width <= 4096 && q.width % int(in.size_multiple) == 0);
      SF_FUZZ_CHECK(q.height >= int(in.size_multiple) && q.height <= 4096 && q.height % int(in.size_multiple) == 0);
      continue;
    }
    SF_FUZZ_CHECK(q.width >= 1 && q.width <= int(in.width) && q.height >= 1 && q.height <= int(in.height));
    if (!in.size_multiple) {
      SF_FUZZ_CHECK(q.width == int(in.width) && q.height == int(in.height));
      continue;
    }
    SF_FUZZ_CHECK(q.width % int(in.size_multiple) == 0 && q.height % int(in.size_multiple) == 0);
    double r = std::min(double(in.width) / f[0], double(in.height) / f[1]);
    if (in.max_pixels) r = std::min(r, std::sqrt(double(in.max_pixels) / (double(f[0]) * f[1])));
    SF_FUZZ_CHECK(q.width >= std::min<double>(in.width, std::floor(f[0] * r)) && q.height >= std::min<double>(in.height, std::floor(f[1] * r)));
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// image

inline bool check_tensor_finite(const std::vector<float>& t) {
  for (float x : t) SF_FUZZ_CHECK(std::isfinite(x));
  return true;
}

inline bool exercise_decoded(const sf::image::rgba_image& img) {
  using namespace sf::image;
  const frame_view f = img.view();
  preprocess_options a = yolox_options(16);
  std::vector<float> ta(tensor_size(a));
  auto ga = preprocess(f, a, ta.data(), ta.size());
  SF_FUZZ_CHECK(ga.ok());
  if (!check_tensor_finite(ta)) return false;
  preprocess_options b = imagenet_options(8);
  b.layout = tensor_layout::nhwc;
  std::vector<float> tb(tensor_size(b));
  const box crop{float(img.width) * 0.25f, float(img.height) * 0.1f, float(img.width) * 0.9f, float(img.height)};
  auto gb = preprocess_crop(f, crop, crop_options{0.1f, true}, b, tb.data(), tb.size());
  SF_FUZZ_CHECK(gb.ok());
  if (!check_tensor_finite(tb)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------
// detect

// A tensor filled from bytes; `size` may deliberately differ from the shape's product.
struct owned_tensor {
  std::vector<float> data;
  std::vector<int64_t> shape;
  sf::det_tensor view() const { return sf::det_tensor{data.data(), data.size(), shape}; }
};

constexpr size_t k_max_tensor_floats = size_t(1) << 16;

// Product of positive dims, or 0 when a dim is < 1 or the product exceeds the cap.
inline size_t shape_floats(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 1 || uint64_t(d) > k_max_tensor_floats) return 0;
    n *= size_t(d);
    if (n > k_max_tensor_floats) return 0;
  }
  return n;
}

// Fill modes: byte-coded values in [-1, 3] times a scale, raw float bits, or one constant.
// Values cycle through `pool` (the input's tail) so large tensors need few bytes.
inline void fill_tensor(owned_tensor& t, size_t n, uint8_t mode, float scale, float constant,
                        const std::vector<uint8_t>& pool, size_t& cursor) {
  t.data.assign(n, 0.5f);
  if (pool.empty()) return;
  for (size_t i = 0; i < n; ++i) {
    switch (mode % 4) {
      case 0:
      case 1: {
        const unsigned s = pool[cursor++ % pool.size()];
        t.data[i] = s > k_plain_max ? special_value(s - k_plain_max - 1)
                                    : (-1.0f + 4.0f * float(s) / float(k_plain_max)) * scale;
        break;
      }
      case 2: {
        uint32_t b = 0;
        for (int k = 0; k < 4; ++k) b |= uint32_t(pool[cursor++ % pool.size()]) << (8 * k);
        std::memcpy(&t.data[i], &b, 4);
        break;
      }
      default:
        t.data[i] = constant;
    }
  }
}

inline bool check_decoded(const sf::result<std::vector<sf::detection>>& r, const sf::det_decode_options& o,
                          int classes, size_t sources, bool must_fail) {
  if (!r) {
    SF_FUZZ_CHECK(!r.err().message.empty());
    return true;
  }
  SF_FUZZ_CHECK(!must_fail);
  const std::vector<sf::detection>& d = r.value();
  SF_FUZZ_CHECK(d.size() <= o.max_candidates);
  for (size_t i = 0; i < d.size(); ++i) {
    SF_FUZZ_CHECK(box_inside(d[i].box, float(o.input_width), float(o.input_height), true));
    SF_FUZZ_CHECK(std::isfinite(d[i].score) && d[i].score >= o.score_threshold);
    SF_FUZZ_CHECK(d[i].class_id >= -1 && d[i].class_id < classes);
    SF_FUZZ_CHECK(d[i].source < sources);
    if (i) SF_FUZZ_CHECK(d[i - 1].score >= d[i].score);
    if (i && d[i - 1].score == d[i].score) SF_FUZZ_CHECK(d[i - 1].source < d[i].source);
  }
  return true;
}

inline std::vector<int64_t> maybe_batch(std::vector<int64_t> s, bool batch) {
  if (batch) s.insert(s.begin(), 1);
  return s;
}

// Shape mode 0: consistent; 1: raw dims from bytes (may be <= 0 or huge); 2: consistent shape,
// one float short (must be an error).
inline std::vector<int64_t> raw_shape(reader& in) {
  std::vector<int64_t> s(1 + in.u8() % 4);
  for (int64_t& d : s) {
    const uint8_t b = in.u8();
    switch (b) {
      case 0xFF: d = std::numeric_limits<int64_t>::max(); break;
      case 0xFE: d = int64_t(1) << 32; break;
      case 0xFD: d = -1; break;
      case 0xFC: d = std::numeric_limits<int64_t>::min(); break;
      default: d = b;
    }
  }
  return s;
}

// Builds the tensor for `shape` in shape mode `mode`; false when too large to bother.
inline bool make_tensor(owned_tensor& t, std::vector<int64_t> shape, uint8_t shape_mode, uint8_t fill_mode, float scale,
                        float constant, const std::vector<uint8_t>& pool, size_t& cursor, bool* must_fail) {
  size_t n = shape_floats(shape);
  t.shape = std::move(shape);
  if (shape_mode == 2) {
    if (n == 0) return false;
    n -= 1;  // one float short of the shape
    *must_fail = true;
  } else if (n == 0) {
    if (shape_mode == 0) return false;
    n = cursor % 7;  // an invalid or huge shape: a few floats only (must be an error)
    *must_fail = true;
  }
  fill_tensor(t, n, fill_mode, scale, constant, pool, cursor);
  return true;
}

inline bool check_nms_and_proposals(std::vector<sf::detection> cands, reader& in, int input_w, int input_h) {
  sf::det_nms_options n;
  n.iou_threshold = in.num(0.0f, 1.0f);
  n.class_agnostic = in.flag();
  n.max_detections = in.u8() % 40;
  n.max_input = in.u16() % 2048;
  const bool nms_valid = n.iou_threshold >= 0 && n.iou_threshold <= 1 && n.max_detections >= 1 && n.max_input >= 1;
  auto k = sf::det_nms(cands, n);
  SF_FUZZ_CHECK(k.ok() == nms_valid);
  if (!k) return true;
  const std::vector<sf::detection>& kept = k.value();
  SF_FUZZ_CHECK(kept.size() <= n.max_detections && kept.size() <= n.max_input);
  for (size_t i = 0; i < kept.size(); ++i) {
    SF_FUZZ_CHECK(std::isfinite(kept[i].score) && finite_box(kept[i].box));
    if (i) SF_FUZZ_CHECK(kept[i - 1].score >= kept[i].score);
    for (size_t j = 0; j < i; ++j) {
      const float iou = sf::det_iou(kept[j].box, kept[i].box);
      SF_FUZZ_CHECK(iou >= 0 && iou <= 1);
      if (n.class_agnostic || kept[j].class_id == kept[i].class_id) SF_FUZZ_CHECK(iou <= n.iou_threshold);
    }
  }

  sf::det_proposal_options p;
  p.frame_width = 1 + in.u16() % 4096;
  p.frame_height = 1 + in.u16() % 4096;
  if (in.flag()) {
    auto fit = sf::det_letterbox_fit(p.frame_width, p.frame_height, input_w, input_h, in.flag());
    SF_FUZZ_CHECK(fit.ok());
    p.map = fit.value();
  } else {
    p.map.scale = in.num(0.0f, 4.0f);
    p.map.pad_x = in.num(-100.0f, 100.0f);
    p.map.pad_y = in.num(-100.0f, 100.0f);
  }
  p.min_side = in.num(0.0f, 64.0f);
  p.centre_fraction = in.num(0.0f, 1.25f);
  p.hint_class = int32_t(in.u8() % 4) - 1;
  p.hint_min_class_score = in.num(0.0f, 1.0f);
  p.merge_iou = in.num(0.0f, 1.25f);
  p.max_regions = in.u8() % 12;
  auto pr = sf::det_proposals(kept, p);
  SF_FUZZ_TRACE("nms %zu, proposals: %s %zu\n", kept.size(), pr ? "ok" : pr.err().message.c_str(),
                pr ? pr.value().size() : size_t(0));
  if (!pr) {
    SF_FUZZ_CHECK(!pr.err().message.empty());
    return true;
  }
  const std::vector<sf::det_region>& regs = pr.value();
  SF_FUZZ_CHECK(regs.size() >= 2 && regs.size() <= p.max_regions);
  SF_FUZZ_CHECK(regs[0].kind == sf::det_region_kind::full_frame && regs[1].kind == sf::det_region_kind::centre_crop);
  const float fw = float(p.frame_width), fh = float(p.frame_height);
  for (size_t i = 0; i < regs.size(); ++i) {
    const sf::det_region& r = regs[i];
    const bool fixed = i < 2;
    SF_FUZZ_CHECK(box_inside(r.box, fw, fh, !fixed));
    if (!fixed) {
      SF_FUZZ_CHECK(r.kind == sf::det_region_kind::detection || r.kind == sf::det_region_kind::person_hint);
      SF_FUZZ_CHECK(std::min(r.box.x1 - r.box.x0, r.box.y1 - r.box.y0) >= p.min_side);
      SF_FUZZ_CHECK(r.source < kept.size());
      for (size_t j = 0; j < i; ++j) SF_FUZZ_CHECK(sf::det_iou(regs[j].box, r.box) <= p.merge_iou);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// track

inline bool same_suggestions(const std::vector<sf::track::suggestion>& a, const std::vector<sf::track::suggestion>& b) {
  SF_FUZZ_CHECK(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    SF_FUZZ_CHECK(a[i].what == b[i].what && a[i].id == b[i].id && a[i].track == b[i].track &&
                  a[i].samples == b[i].samples && std::memcmp(&a[i].confidence, &b[i].confidence, 4) == 0);
  return true;
}

inline bool check_suggestions(const std::vector<sf::track::suggestion>& s, bool merged) {
  for (size_t i = 0; i < s.size(); ++i) {
    const sf::track::suggestion& x = s[i];
    SF_FUZZ_CHECK(x.what == sf::track::kind::item || x.what == sf::track::kind::category);
    SF_FUZZ_CHECK(std::isfinite(x.from_t) && std::isfinite(x.to_t) && x.from_t <= x.to_t);
    SF_FUZZ_CHECK(x.samples >= 1);
    SF_FUZZ_CHECK(std::isfinite(x.confidence) && std::isfinite(x.best_score));
    SF_FUZZ_CHECK(x.best_t >= x.from_t && x.best_t <= x.to_t);
    SF_FUZZ_CHECK(finite_box(x.best_box));
    if (merged && i) SF_FUZZ_CHECK(s[i - 1].from_t <= x.from_t);
  }
  return true;
}

}  // namespace sf_fuzz

// =======================================================================================
// Entry points (return 0 like LLVMFuzzerTestOneInput)

// Index: opened with and without checksum verification; items, config, searches (several
// queries and options, including invalid ones); with_config round trip.
namespace sf_fuzz {
inline bool index_once(const uint8_t* data, size_t size) {
  exact_buffer buf(data, size);
  auto unverified = sf::index_view::open(buf.p.get(), size, false);
  auto verified = sf::index_view::open(buf.p.get(), size, true);
  if (verified) SF_FUZZ_CHECK(unverified.ok());  // verification only adds checks
  if (!unverified) {
    SF_FUZZ_CHECK(!unverified.err().message.empty());
    return true;
  }
  if (!exercise_index(unverified.value(), buf.p.get(), size)) return false;
  if (verified) {
    SF_FUZZ_CHECK(verified.value().config() == unverified.value().config());
    if (!check_with_config(verified.value())) return false;
  }
  return true;
}
}  // namespace sf_fuzz

// The input is an index file: as given, then (when they differ) with its checksums
// rewritten, so that mutated headers and sections reach the validation behind the CRCs.
inline int fuzz_index(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  if (!index_once(data, size)) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  if (fix_index_checksums(fixed.data(), fixed.size())) index_once(fixed.data(), fixed.size());
  return 0;
}

// The input is JSONL text: strict and skip_bad, default and small limits, a fixed dimension.
inline int fuzz_catalog(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sf::catalog_options strict;
  sf::result<sf::catalog> r_strict = sf::make_error(sf::status::ok, "");
  if (!run_catalog(text, strict, &r_strict)) return 0;
  sf::catalog_options skip;
  skip.skip_bad = true;
  sf::result<sf::catalog> r_skip = sf::make_error(sf::status::ok, "");
  if (!run_catalog(text, skip, &r_skip)) return 0;
  if (r_strict) {  // a clean parse skips nothing and yields the same products
    SF_FUZZ_CHECK(r_skip.ok() && r_skip.value().skipped.empty());
    if (!same_products(r_strict.value(), r_skip.value())) return 0;
  }
  sf::catalog_options small;
  small.limits.max_line_bytes = 200;
  small.limits.max_products = 4;
  small.limits.max_embedding_dim = 4;
  small.limits.max_images = 2;
  for (int pass = 0; pass < 2; ++pass) {
    small.skip_bad = pass == 1;
    if (!run_catalog(text, small, nullptr)) return 0;
  }
  small.expected_dim = 3;
  if (!run_catalog(text, small, nullptr)) return 0;
  return 0;
}

// The input is a manifest JSON.
inline int fuzz_manifest(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = sf::parse_model_manifest(text, "fuzz.json");
  if (!r) {
    SF_FUZZ_CHECK(r.err().code == sf::status::parse_error || r.err().code == sf::status::limit_exceeded);
    SF_FUZZ_CHECK(starts_with(r.err().message, "fuzz.json"));
    return 0;
  }
  if (!check_manifest(r.value())) return 0;
  return 0;
}

// The input is an encoded image: probe, decode with small limits, preprocess the pixels.
inline int fuzz_image(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  using namespace sf::image;
  auto info = probe(data, size);
  if (info) {
    const image_info& i = info.value();
    SF_FUZZ_CHECK(i.width >= 1 && i.height >= 1 && i.width <= max_side && i.height <= max_side);
    SF_FUZZ_CHECK(int64_t(i.width) * i.height <= max_pixels);
    SF_FUZZ_CHECK(i.channels >= 1 && i.channels <= 4 && i.codec != image_codec::unknown);
  } else {
    SF_FUZZ_CHECK(!info.err().message.empty());
  }
  decode_limits lim;
  lim.max_bytes = size_t(1) << 20;
  lim.max_side = 512;
  lim.max_pixels = int64_t(1) << 16;
  auto img = decode_rgba(data, size, lim);
  if (!img) {
    SF_FUZZ_CHECK(!img.err().message.empty());
    return 0;
  }
  const rgba_image& m = img.value();
  SF_FUZZ_CHECK(m.width >= 1 && m.height >= 1 && m.width <= lim.max_side && m.height <= lim.max_side);
  SF_FUZZ_CHECK(int64_t(m.width) * m.height <= lim.max_pixels);
  SF_FUZZ_CHECK(m.pixels.size() == size_t(m.width) * size_t(m.height) * 4);
  SF_FUZZ_CHECK(info.ok() && info.value().width == m.width && info.value().height == m.height);
  if (!exercise_decoded(m)) return 0;
  return 0;
}

// Byte format (sf_fuzz::reader; see fuzz/make_seeds.cpp):
//   u8 decoder (%4: 0 yolox, 1 yolo boxes_objectness_classes, 2 yolo v8_transposed, 3 centernet)
//   u8 shape mode (%3: 0 consistent, 1 raw dims, 2 one float short), u8 fill mode (%4),
//   u8 scale index (%4: 1, 8, 64, 512), num(-2, 2) constant for fill mode 3,
//   u16 input width-1 (%640), u16 input height-1 (%640), num(-1, 1) score threshold,
//   u16 max_candidates (%1200, 0 invalid), u8 objectness_only (&1), u8 classes (%12),
//   u8 num_classes mode (%4: given right, -1, off by one, raw byte - 128), u8 batch (&1);
//   yolox: u8 stride count (%5; 0 keeps the default), that many u8 strides;
//   yolo: u16 anchors (%1024); centernet: u8 stride (%20), u8 floor/ceil bits;
//   raw shape mode: for each tensor u8 rank-1 (%4) and u8 dims (0xFC..0xFF: huge/negative);
//   u8 extra candidate count (%8), each: num box x0,y0 (-50,600), w,h (-10,300), score,
//   class score (0,1), u8 class (%4 - 1);
//   NMS: num iou (0,1), u8 class_agnostic, u8 max_detections (%40), u16 max_input (%2048);
//   proposals: u16 frame w, h (%4096 + 1), u8 letterbox_fit (&1) then u8 centred, else
//   num scale (0,4), pad x, y (-100,100); num min_side (0,64), centre_fraction (0,1.25),
//   u8 hint class (%4 - 1), num hint score (0,1), merge_iou (0,1.25), u8 max_regions (%12)
//   -- NMS and proposal options sit in a fixed 40-byte block (unused bytes ignored);
//   the bytes after that block fill the tensors (cycled; fill mode 2 reads 4 per float).
inline int fuzz_detect(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  reader in(data, size);
  const uint8_t decoder = in.u8() % 4;
  const uint8_t shape_mode = in.u8() % 3;
  const uint8_t fill_mode = in.u8() % 4;
  static const float scales[4] = {1.0f, 8.0f, 64.0f, 512.0f};
  const float scale = scales[in.u8() % 4];
  const float constant = in.num(-2.0f, 2.0f);
  sf::det_decode_options o;
  o.input_width = 1 + in.u16() % 640;
  o.input_height = 1 + in.u16() % 640;
  o.score_threshold = in.num(-1.0f, 1.0f);
  o.max_candidates = in.u16() % 1200;
  o.objectness_only = in.flag();
  const int classes = in.u8() % 12;
  switch (in.u8() % 4) {
    case 0: o.num_classes = classes; break;
    case 1: o.num_classes = -1; break;
    case 2: o.num_classes = classes + 1; break;
    default: o.num_classes = int(in.u8()) - 128;
  }
  const bool batch = in.flag();
  const int64_t C = classes;
  int64_t anchors = 0;
  int cn_stride = 0;
  int64_t cn_h = 0, cn_w = 0;
  if (decoder == 0) {
    const unsigned ns = in.u8() % 5;
    if (ns) {
      o.strides.clear();
      for (unsigned i = 0; i < ns; ++i) o.strides.push_back(in.u8());
    }
    for (int s : o.strides)
      if (s > 0)
        anchors += int64_t((o.input_height + s - 1) / s) * int64_t((o.input_width + s - 1) / s);
  } else if (decoder <= 2) {
    anchors = in.u16() % 1024;
  } else {
    cn_stride = in.u8() % 20;
    const uint8_t bits = in.u8();
    const int s = std::max(cn_stride, 1);
    cn_h = (bits & 1) ? (o.input_height + s - 1) / s : o.input_height / s;
    cn_w = (bits & 2) ? (o.input_width + s - 1) / s : o.input_width / s;
  }
  std::vector<std::vector<int64_t>> raw_shapes;
  if (shape_mode == 1)
    for (int i = 0; i < (decoder == 3 ? 3 : 1); ++i) raw_shapes.push_back(raw_shape(in));

  std::vector<sf::detection> extra(in.u8() % 8);
  for (sf::detection& d : extra) {
    d.box.x0 = in.num(-50.0f, 600.0f);
    d.box.y0 = in.num(-50.0f, 600.0f);
    d.box.x1 = d.box.x0 + in.num(-10.0f, 300.0f);
    d.box.y1 = d.box.y0 + in.num(-10.0f, 300.0f);
    d.score = in.num(0.0f, 1.0f);
    d.class_score = in.num(0.0f, 1.0f);
    d.class_id = int32_t(in.u8() % 4) - 1;
  }
  // NMS and proposal options come next, in a fixed-size block (zeros when short); the
  // tensors take whatever follows it.
  std::vector<uint8_t> tail(in.data(), in.data() + in.remaining());
  constexpr size_t k_post_bytes = 40;
  std::vector<uint8_t> post_block(tail.begin(), tail.begin() + std::min(tail.size(), k_post_bytes));
  std::vector<uint8_t> pool(tail.begin() + std::min(tail.size(), k_post_bytes), tail.end());
  size_t cursor = 0;

  bool must_fail = false;
  sf::result<std::vector<sf::detection>> decoded = sf::make_error(sf::status::ok, "");
  int report_classes = int(std::max<int64_t>(C, 1));
  size_t sources = 0;
  if (decoder <= 2) {
    owned_tensor t;
    std::vector<int64_t> shape;
    if (decoder == 2) shape = maybe_batch({4 + C, anchors}, batch);
    else shape = maybe_batch({anchors, 5 + C}, batch);
    if (shape_mode == 1) shape = raw_shapes[0];
    if (!make_tensor(t, shape, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (shape_mode == 1) {  // whatever the decoder accepts: bound the checks by the data
      report_classes = int(std::min<size_t>(t.data.size(), 1 << 20)) + 1;
      sources = t.data.size();
    } else {
      sources = size_t(anchors);
    }
    if (decoder == 0) decoded = sf::det_decode_yolox(t.view(), o);
    else
      decoded = sf::det_decode_yolo(
          t.view(), decoder == 1 ? sf::det_yolo_layout::boxes_objectness_classes : sf::det_yolo_layout::v8_transposed,
          o);
  } else {
    owned_tensor heat, sz, off;
    std::vector<int64_t> hs = maybe_batch({C, cn_h, cn_w}, batch), ss = maybe_batch({2, cn_h, cn_w}, batch),
                         os = {2, cn_h, cn_w};
    if (shape_mode == 1) hs = raw_shapes[0], ss = raw_shapes[1], os = raw_shapes[2];
    if (!make_tensor(heat, hs, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (!make_tensor(sz, ss, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (!make_tensor(off, os, shape_mode, fill_mode, scale, constant, pool, cursor, &must_fail)) return 0;
    if (shape_mode == 1) {
      report_classes = int(std::min<size_t>(heat.data.size(), 1 << 20)) + 1;
      sources = heat.data.size();
    } else {
      sources = size_t(C * cn_h * cn_w);
    }
    decoded = sf::det_decode_centernet(heat.view(), sz.view(), off.view(), cn_stride, o);
  }
  SF_FUZZ_TRACE("decode: %s %zu\n", decoded ? "ok" : decoded.err().message.c_str(),
                decoded ? decoded.value().size() : size_t(0));
  if (!check_decoded(decoded, o, report_classes, sources, must_fail)) return 0;

  std::vector<sf::detection> cands = decoded ? decoded.value() : std::vector<sf::detection>{};
  cands.insert(cands.end(), extra.begin(), extra.end());
  reader opts(post_block.data(), post_block.size());
  if (!check_nms_and_proposals(std::move(cands), opts, o.input_width, o.input_height)) return 0;
  return 0;
}

// Byte format (sf_fuzz::reader; see fuzz/make_seeds.cpp):
//   u8 option mode (&1: only a few options, else every option from bytes), options, then
//   up to 64 ops, u8 each (%8): 0..4 add_sample, 5 active_suggestions, 6 finish,
//   7 add_sample after a cut. add_sample: num dt (-0.25, 2), u8 regions (%5), per region:
//   num x0, y0 (-10, 200), w, h (-5, 100), u8 embedding (%6: 0 none, 5 own dim u8 %8 + 1,
//   else the stream's dim), floats num(-1, 1), u8 matches (%6), per match u8 item (%8),
//   u8 category (< 200: item % 3, < 230: byte % 3, else none), num score (-1, 1).
inline int fuzz_track(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  reader in(data, size);
  sf::track::options opt;
  const bool few = in.flag();
  if (few) {
    opt.item_threshold = in.num(-1.0f, 1.5f);
    opt.category_threshold = in.num(-1.0f, 1.5f);
    opt.min_samples = 1 + in.u8() % 3;
    opt.embedding_dim = in.u8() % 5;
  } else {
    opt.min_iou = in.num(0.0f, 1.0f);
    opt.min_cosine = in.num(-1.0f, 1.0f);
    opt.reacquire_cosine = in.num(-1.0f, 1.25f);
    opt.iou_weight = in.num(0.0f, 1.0f);
    opt.max_gap = in.u8() % 6;
    opt.embedding_dim = in.u8() % 5;
    opt.min_samples = in.u8() % 4;
    opt.item_threshold = in.num(-1.0f, 1.5f);
    opt.min_margin = in.num(0.0f, 0.3f);
    opt.category_top_n = in.u8() % 5;
    opt.category_threshold = in.num(-1.0f, 1.5f);
    opt.merge_gap = in.num(0.0f, 3.0f);
    for (unsigned i = in.u8() % 3; i > 0; --i) opt.item_thresholds[in.u8() % 8] = in.num(-1.0f, 1.5f);
    for (unsigned i = in.u8() % 3; i > 0; --i) opt.category_item_thresholds[in.u8() % 3] = in.num(-1.0f, 1.5f);
    for (unsigned i = in.u8() % 3; i > 0; --i) opt.category_thresholds[in.u8() % 3] = in.num(-1.0f, 1.5f);
  }
  sf::track::tracker t(opt);
  const size_t base_dim = opt.embedding_dim ? opt.embedding_dim : 3;
  double time = 0;
  for (int op_index = 0; op_index < 64 && !in.empty(); ++op_index) {
    const unsigned op = in.u8() % 8;
    if (op == 5) {
      if (!check_suggestions(t.active_suggestions(), false)) return 0;
      continue;
    }
    if (op == 6) {
      const std::vector<sf::track::suggestion> all = t.finish();
      SF_FUZZ_TRACE("finish (op): %zu suggestions\n", all.size());
      if (!check_suggestions(all, true)) return 0;
      SF_FUZZ_CHECK(t.active_tracks() == 0 && t.ended().empty());
      time = 0;
      continue;
    }
    time += double(in.num(-0.25f, 2.0f));
    std::vector<sf::track::region> regions(in.u8() % 5);
    for (sf::track::region& r : regions) {
      r.box.x0 = in.num(-10.0f, 200.0f);
      r.box.y0 = in.num(-10.0f, 200.0f);
      r.box.x1 = r.box.x0 + in.num(-5.0f, 100.0f);
      r.box.y1 = r.box.y0 + in.num(-5.0f, 100.0f);
      const unsigned e = in.u8() % 6;
      if (e) {
        r.embedding.resize(e == 5 ? 1 + in.u8() % 8 : base_dim);
        for (float& x : r.embedding) x = in.num(-1.0f, 1.0f);
      }
      r.matches.resize(in.u8() % 6);
      for (sf::track::match& m : r.matches) {
        m.item = in.u8() % 8;
        const uint8_t c = in.u8();
        m.category = c < 200 ? m.item % 3 : c < 230 ? uint32_t(c % 3) : sf::track::no_category;
        m.score = in.num(-1.0f, 1.0f);
      }
    }
    const size_t tracks_before = t.active_tracks(), ended_before = t.ended().size();
    const std::vector<sf::track::suggestion> before = t.active_suggestions();
    auto ok = t.add_sample(time, op == 7, regions);
    SF_FUZZ_TRACE("add_sample t=%g regions=%zu: %s (tracks %zu, ended %zu)\n", time, regions.size(),
                  ok ? "ok" : ok.err().message.c_str(), t.active_tracks(), t.ended().size());
    if (!ok) {  // "the tracker is left unchanged"
      SF_FUZZ_CHECK(!ok.err().message.empty());
      SF_FUZZ_CHECK(t.active_tracks() == tracks_before && t.ended().size() == ended_before);
      if (!same_suggestions(before, t.active_suggestions())) return 0;
      continue;
    }
    SF_FUZZ_CHECK(t.active_tracks() <= tracks_before + regions.size());
    if (!check_suggestions(t.ended(), false)) return 0;
  }
  const std::vector<sf::track::suggestion> all = t.finish();
  SF_FUZZ_TRACE("finish: %zu suggestions\n", all.size());
  if (!check_suggestions(all, true)) return 0;
  return 0;
}
