// fuzz_index: the input is an .sfi index file (contracts: fuzz/targets.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common.h"
#include "common/crc32.h"
#include "index/format.h"
#include "index/index.h"

namespace sf_fuzz {

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

// Index: opened with and without checksum verification; items, config, searches (several
// queries and options, including invalid ones); with_config round trip.
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

// =======================================================================================
// Entry point (returns 0 like LLVMFuzzerTestOneInput)

// The input is an index file: as given, then (when they differ) with its checksums
// rewritten, so that mutated headers and sections reach the validation behind the CRCs.
inline int fuzz_index(const uint8_t* data, size_t size) {
  using namespace sf_fuzz;
  if (!index_once(data, size)) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  if (fix_index_checksums(fixed.data(), fixed.size())) index_once(fixed.data(), fixed.size());
  return 0;
}
