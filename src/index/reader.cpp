// index_view::open: validate every byte a search or a metadata lookup will read,
// then point into the caller's buffer. Any failure names the section and offset.
#include <algorithm>
#include <cmath>
#include <string>

#include "common/crc32.h"
#include "index/format.h"
#include "index/index.h"

namespace sf {

namespace {

std::string at(size_t offset) { return " (byte " + std::to_string(offset) + ")"; }

std::string kind_string(uint32_t k) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    char c = char((k >> (8 * i)) & 0xFF);
    s[i] = (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}

struct raw_section {
  uint32_t kind = 0, crc = 0;
  uint64_t offset = 0, bytes = 0;
  size_t entry_at = 0;
};

// Reads one LEB128 length; false if it runs past `end` or overflows.
bool read_leb128(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    v |= uint64_t(b & 0x7F) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

}  // namespace

struct index_reader {
  const uint8_t* data;
  size_t size;
  bool verify;
  index_view v;
  std::vector<raw_section> sections;

  error fail(status s, const std::string& msg) { return make_error(s, "index: " + msg); }

  const raw_section* find(const char (&kind)[5]) const {
    uint32_t code = format::kind_code(kind);
    for (const auto& s : sections)
      if (s.kind == code) return &s;
    return nullptr;
  }

  // A section that must be present with exactly `bytes` bytes (or absent when !wanted).
  result<const uint8_t*> require(const char (&kind)[5], bool wanted, uint64_t bytes) {
    const raw_section* s = find(kind);
    if (!wanted) {
      if (s) return fail(status::corrupt, std::string("section ") + kind + " at byte " + std::to_string(s->offset) +
                                               " is not expected for quantizer " + v.info_.quantizer);
      return static_cast<const uint8_t*>(nullptr);
    }
    if (!s) return fail(status::corrupt, std::string("section ") + kind + " is missing (quantizer " + v.info_.quantizer + ")");
    if (s->bytes != bytes)
      return fail(status::corrupt, std::string("section ") + kind + " at byte " + std::to_string(s->offset) + " has " +
                                       std::to_string(s->bytes) + " bytes, expected " + std::to_string(bytes));
    return data + s->offset;
  }

  result<void> all_finite(const char (&kind)[5], const float* p, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, p + i, 4);
      if (!std::isfinite(f))
        return fail(status::corrupt, std::string("section ") + kind + ": value " + std::to_string(i) +
                                         " is not finite" + at(find(kind)->offset + 4 * i));
    }
    return {};
  }

  result<void> header() {
    if (reinterpret_cast<uintptr_t>(data) % 8 != 0)
      return make_error(status::invalid_argument, "index: buffer must be 8-byte aligned to be used in place");
    if (size < format::kHeaderBytes)
      return fail(status::truncated, "file is " + std::to_string(size) + " bytes, shorter than the 128-byte header");
    if (std::memcmp(data, format::kMagic, 8) != 0) return fail(status::corrupt, "not a shopframe index: bad magic" + at(0));
    uint32_t version = format::load<uint32_t>(data + format::hdr::version);
    if (version < format::kOldestReadableVersion || version > format::kVersion)
      return fail(status::unsupported, "format version " + std::to_string(version) + " is not supported (this build reads " +
                                           std::to_string(format::kOldestReadableVersion) + " to " +
                                           std::to_string(format::kVersion) + ")" + at(format::hdr::version));
    uint32_t crc = crc32(data, format::hdr::header_crc);
    if (crc != format::load<uint32_t>(data + format::hdr::header_crc))
      return fail(status::corrupt, "header checksum mismatch" + at(format::hdr::header_crc));
    if (format::load<uint32_t>(data + format::hdr::header_bytes) != format::kHeaderBytes)
      return fail(status::corrupt, "header size field is not 128" + at(format::hdr::header_bytes));
    uint64_t file_bytes = format::load<uint64_t>(data + format::hdr::file_bytes);
    if (size < file_bytes)
      return fail(status::truncated, "file is " + std::to_string(size) + " bytes, its header says " +
                                         std::to_string(file_bytes) + at(format::hdr::file_bytes));
    if (size > file_bytes)
      return fail(status::corrupt, "file has " + std::to_string(size - file_bytes) + " bytes after its end at byte " +
                                       std::to_string(file_bytes));
    index_info& info = v.info_;
    info.version = version;
    info.file_bytes = file_bytes;
    info.dim = format::load<uint32_t>(data + format::hdr::dim);
    info.work_dim = format::load<uint32_t>(data + format::hdr::work_dim);
    info.count = format::load<uint32_t>(data + format::hdr::count);
    info.ivf_lists = format::load<uint32_t>(data + format::hdr::ivf_lists);
    info.default_nprobe = format::load<uint32_t>(data + format::hdr::default_nprobe);
    info.default_rerank = format::load<uint32_t>(data + format::hdr::default_rerank);
    info.build_unix_ms = format::load<uint64_t>(data + format::hdr::build_unix_ms);
    uint32_t flags = format::load<uint32_t>(data + format::hdr::flags);
    info.has_metadata = flags & format::kFlagHasMetadata;
    info.power_normalize = flags & format::kFlagPowerNormalize;
    if (flags & ~format::kKnownFlags) return fail(status::unsupported, "unknown flags" + at(format::hdr::flags));
    const char* q = reinterpret_cast<const char*>(data + format::hdr::quantizer);
    size_t qlen = strnlen(q, format::kQuantizerChars);
    if (qlen == format::kQuantizerChars) return fail(status::corrupt, "quantizer string is not terminated" + at(format::hdr::quantizer));
    for (size_t i = qlen; i < format::kQuantizerChars; ++i)
      if (q[i] != 0) return fail(status::corrupt, "quantizer padding is not zero" + at(format::hdr::quantizer + i));
    info.quantizer.assign(q, qlen);
    auto spec = parse_quantizer(info.quantizer);
    if (!spec) return fail(status::corrupt, spec.err().message + at(format::hdr::quantizer));
    v.spec_ = spec.value();
    uint8_t m = data[format::hdr::metric];
    if (m != uint8_t(metric::cosine) && m != uint8_t(metric::inner_product))
      return fail(status::unsupported, "unknown metric '" + std::string(1, char(m)) + "'" + at(format::hdr::metric));
    info.metric_kind = metric(m);
    const quantizer_spec& s = v.spec_;
    info.external_transform = s.external_transform;
    char want_transform = format::transform_kind(s.transform_dim, s.whiten, s.external_transform);
    if (data[format::hdr::transform] != want_transform || data[format::hdr::codes] != uint8_t(s.codes) ||
        data[format::hdr::rerank] != uint8_t(s.rerank))
      return fail(status::corrupt, "kind bytes disagree with quantizer \"" + info.quantizer + "\"" + at(format::hdr::transform));
    if (info.dim == 0 || info.dim > 65536) return fail(status::corrupt, "dimension " + std::to_string(info.dim) + at(format::hdr::dim));
    if (info.count == 0 || info.count == 0xFFFFFFFFu) return fail(status::corrupt, "item count " + std::to_string(info.count) + at(format::hdr::count));
    size_t want_wd = s.transform_dim ? s.transform_dim : info.dim;
    if (info.work_dim != want_wd || want_wd > info.dim)
      return fail(status::corrupt, "working dimension " + std::to_string(info.work_dim) + " disagrees with quantizer" + at(format::hdr::work_dim));
    if (info.ivf_lists != s.ivf_lists) return fail(status::corrupt, "list count disagrees with quantizer" + at(format::hdr::ivf_lists));
    if (format::load<uint32_t>(data + format::hdr::pq_m) != s.pq_m)
      return fail(status::corrupt, "pq sub-quantizer count disagrees with quantizer" + at(format::hdr::pq_m));
    if (s.ivf_lists ? (info.default_nprobe < 1 || info.default_nprobe > s.ivf_lists) : info.default_nprobe != 0)
      return fail(status::corrupt, "default nprobe " + std::to_string(info.default_nprobe) + at(format::hdr::default_nprobe));
    if ((s.rerank == quantizer_spec::rerank_kind::none) != (info.default_rerank == 0) || info.default_rerank > 1024)
      return fail(status::corrupt, "default re-rank factor " + std::to_string(info.default_rerank) + at(format::hdr::default_rerank));
    v.dim_ = info.dim;
    v.work_dim_ = info.work_dim;
    v.count_ = info.count;
    return {};
  }

  result<void> table() {
    uint32_t n = format::load<uint32_t>(data + format::hdr::section_count);
    if (n > format::kMaxSections) return fail(status::corrupt, std::to_string(n) + " sections" + at(format::hdr::section_count));
    size_t table_end = format::kHeaderBytes + size_t(n) * format::kSectionEntryBytes;
    if (table_end > size) return fail(status::truncated, "section table runs past the end of the file" + at(format::kHeaderBytes));
    if (crc32(data + format::kHeaderBytes, table_end - format::kHeaderBytes) != format::load<uint32_t>(data + format::hdr::table_crc))
      return fail(status::corrupt, "section table checksum mismatch" + at(format::kHeaderBytes));
    for (uint32_t i = 0; i < n; ++i) {
      size_t e = format::kHeaderBytes + size_t(i) * format::kSectionEntryBytes;
      raw_section s;
      s.entry_at = e;
      s.kind = format::load<uint32_t>(data + e + format::sec::kind);
      s.crc = format::load<uint32_t>(data + e + format::sec::crc);
      s.offset = format::load<uint64_t>(data + e + format::sec::offset);
      s.bytes = format::load<uint64_t>(data + e + format::sec::bytes);
      std::string name = kind_string(s.kind);
      if (format::load<uint64_t>(data + e + format::sec::reserved) != 0)
        return fail(status::corrupt, "section " + name + ": reserved field is not zero" + at(e + format::sec::reserved));
      if (s.offset % format::kAlign != 0 || s.offset < table_end || s.offset > size || s.bytes > size - s.offset)
        return fail(status::corrupt, "section " + name + " has offset " + std::to_string(s.offset) + " and " +
                                         std::to_string(s.bytes) + " bytes, outside the file" + at(e + format::sec::offset));
      for (const auto& o : sections) {
        if (o.kind == s.kind) return fail(status::corrupt, "section " + name + " appears twice" + at(e));
        if (s.offset < o.offset + o.bytes && o.offset < s.offset + s.bytes)
          return fail(status::corrupt, "section " + name + " overlaps section " + kind_string(o.kind) + at(e + format::sec::offset));
      }
      static const char* known[] = {"XFRM", "IVFC", "IVFL", "PERM", "VECF", "SQ8P", "SQ8C",
                                    "PQCB", "PQCD", "STRS", "CATS", "ICAT", "META", "PRIC", "CONF"};
      if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return name == k; }))
        return fail(status::unsupported, "unknown section kind '" + name + "'" + at(e));
      if (verify && crc32(data + s.offset, s.bytes) != s.crc)
        return fail(status::corrupt, "section " + name + " checksum mismatch (section at byte " + std::to_string(s.offset) +
                                         ", " + std::to_string(s.bytes) + " bytes)");
      sections.push_back(s);
      v.info_.sections.push_back(section_info{name, s.offset, s.bytes, s.crc, verify});
    }
    return {};
  }

  result<void> vectors() {
    const quantizer_spec& s = v.spec_;
    const uint64_t n = v.count_, wd = v.work_dim_, d = v.dim_;
    auto xf = require("XFRM", s.transform_dim != 0, (d + wd * d) * 4);
    if (!xf) return xf.err();
    if (xf.value()) {
      SF_TRY(all_finite("XFRM", reinterpret_cast<const float*>(xf.value()), d + wd * d));
      v.transform_mean_ = reinterpret_cast<const float*>(xf.value());
      v.transform_matrix_ = v.transform_mean_ + d;
    }
    const uint64_t lists = s.ivf_lists;
    auto ivfc = require("IVFC", lists != 0, lists * wd * 4);
    if (!ivfc) return ivfc.err();
    auto ivfl = require("IVFL", lists != 0, (lists + 1) * 4);
    if (!ivfl) return ivfl.err();
    auto perm = require("PERM", lists != 0, n * 4);
    if (!perm) return perm.err();
    if (lists) {
      SF_TRY(all_finite("IVFC", reinterpret_cast<const float*>(ivfc.value()), lists * wd));
      v.coarse_ = reinterpret_cast<const float*>(ivfc.value());
      v.list_offsets_ = reinterpret_cast<const uint32_t*>(ivfl.value());
      if (v.list_offsets_[0] != 0 || v.list_offsets_[lists] != n)
        return fail(status::corrupt, "section IVFL must start at 0 and end at the item count" + at(find("IVFL")->offset));
      for (uint64_t l = 0; l < lists; ++l)
        if (v.list_offsets_[l + 1] < v.list_offsets_[l])
          return fail(status::corrupt, "section IVFL: list " + std::to_string(l) + " ends before it starts" +
                                           at(find("IVFL")->offset + 4 * (l + 1)));
      v.row_item_ = reinterpret_cast<const uint32_t*>(perm.value());
      std::vector<bool> seen(n, false);
      for (uint64_t r = 0; r < n; ++r) {
        uint32_t it = v.row_item_[r];
        if (it >= n || seen[it])
          return fail(status::corrupt, "section PERM is not a permutation at row " + std::to_string(r) + at(find("PERM")->offset + 4 * r));
        seen[it] = true;
      }
    }
    const bool flat = s.codes == quantizer_spec::code_kind::flat || s.rerank == quantizer_spec::rerank_kind::flat;
    const bool sq8 = s.codes == quantizer_spec::code_kind::sq8 || s.rerank == quantizer_spec::rerank_kind::sq8;
    const bool pq = s.codes == quantizer_spec::code_kind::pq;
    auto vecf = require("VECF", flat, n * wd * 4);
    if (!vecf) return vecf.err();
    if (flat) {
      // Stored vectors feed scores directly; a NaN would poison ranking.
      SF_TRY(all_finite("VECF", reinterpret_cast<const float*>(vecf.value()), n * wd));
      v.flat_ = reinterpret_cast<const float*>(vecf.value());
    }
    auto sq8p = require("SQ8P", sq8, 2 * wd * 4);
    if (!sq8p) return sq8p.err();
    auto sq8c = require("SQ8C", sq8, n * wd);
    if (!sq8c) return sq8c.err();
    if (sq8) {
      SF_TRY(all_finite("SQ8P", reinterpret_cast<const float*>(sq8p.value()), 2 * wd));
      v.sq8_min_ = reinterpret_cast<const float*>(sq8p.value());
      v.sq8_step_ = v.sq8_min_ + wd;
      v.sq8_codes_ = sq8c.value();
    }
    const uint64_t m = s.pq_m;
    if (pq && wd % m != 0) return fail(status::corrupt, "pq" + std::to_string(m) + " does not divide dimension " + std::to_string(wd));
    auto pqcb = require("PQCB", pq, pq ? 256 * wd * 4 : 0);
    if (!pqcb) return pqcb.err();
    auto pqcd = require("PQCD", pq, n * m);
    if (!pqcd) return pqcd.err();
    if (pq) {
      SF_TRY(all_finite("PQCB", reinterpret_cast<const float*>(pqcb.value()), 256 * wd));
      v.pq_codebooks_ = reinterpret_cast<const float*>(pqcb.value());
      v.pq_codes_ = pqcd.value();
    }
    return {};
  }

  result<void> metadata() {
    const bool has = v.info_.has_metadata;
    const uint64_t n = v.count_;
    const raw_section* strs = find("STRS");
    if (!has) {
      for (const char* k : {"STRS", "CATS", "ICAT", "META", "PRIC"})
        for (const auto& s : sections)
          if (kind_string(s.kind) == k) return fail(status::corrupt, std::string("section ") + k + " present but metadata flag is off" + at(s.entry_at));
      return {};
    }
    if (!strs) return fail(status::corrupt, "section STRS is missing (metadata flag is on)");
    v.strings_ = data + strs->offset;
    v.strings_bytes_ = strs->bytes;
    const raw_section* cats = find("CATS");
    if (!cats || cats->bytes % 8 != 0 || cats->bytes == 0)
      return fail(status::corrupt, "section CATS is missing or not a whole number of (offset, length) pairs");
    v.category_count_ = uint32_t(cats->bytes / 8);
    v.category_refs_ = reinterpret_cast<const uint32_t*>(data + cats->offset);
    for (uint32_t c = 0; c < v.category_count_; ++c) {
      uint64_t off = v.category_refs_[2 * c], len = v.category_refs_[2 * c + 1];
      if (off > v.strings_bytes_ || len > v.strings_bytes_ - off)
        return fail(status::corrupt, "section CATS: category " + std::to_string(c) + " points outside STRS" + at(cats->offset + 8 * c));
    }
    auto icat = require("ICAT", true, n * 4);
    if (!icat) return icat.err();
    v.item_category_ = reinterpret_cast<const uint32_t*>(icat.value());
    for (uint64_t i = 0; i < n; ++i)
      if (v.item_category_[i] >= v.category_count_)
        return fail(status::corrupt, "section ICAT: item " + std::to_string(i) + " has no such category" + at(find("ICAT")->offset + 4 * i));
    auto meta = require("META", true, (n + 1) * 4);
    if (!meta) return meta.err();
    v.meta_offsets_ = reinterpret_cast<const uint32_t*>(meta.value());
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t b = v.meta_offsets_[i], e = v.meta_offsets_[i + 1];
      if (b > e || e > v.strings_bytes_)
        return fail(status::corrupt, "section META: item " + std::to_string(i) + " record is outside STRS" + at(find("META")->offset + 4 * i));
      const uint8_t* p = v.strings_ + b;
      const uint8_t* end = v.strings_ + e;
      for (size_t f = 0; f < format::kMetaFields; ++f) {
        uint64_t len;
        if (!read_leb128(p, end, len) || len > uint64_t(end - p))
          return fail(status::corrupt, "section STRS: item " + std::to_string(i) + " field " + std::to_string(f) +
                                           " runs past its record" + at(strs->offset + (p - v.strings_)));
        p += len;
      }
      if (p != end) return fail(status::corrupt, "section STRS: item " + std::to_string(i) + " record has trailing bytes" + at(strs->offset + (p - v.strings_)));
    }
    auto pric = require("PRIC", true, n * 8);
    if (!pric) return pric.err();
    v.prices_ = pric.value();
    return {};
  }

  result<void> config() {
    const raw_section* c = find("CONF");
    if (!c) return {};
    if (c->bytes > format::kMaxConfigBytes)
      return fail(status::corrupt, "section CONF has " + std::to_string(c->bytes) + " bytes, more than " +
                                       std::to_string(format::kMaxConfigBytes) + at(c->offset));
    v.config_ = std::string_view(reinterpret_cast<const char*>(data + c->offset), c->bytes);
    return {};
  }
};

result<index_view> index_view::open(const uint8_t* data, size_t size, bool verify_checksums) {
  index_reader r{data, size, verify_checksums, {}, {}};
  if (!data && size) return make_error(status::invalid_argument, "index: null buffer");
  SF_TRY(r.header());
  SF_TRY(r.table());
  SF_TRY(r.vectors());
  SF_TRY(r.metadata());
  SF_TRY(r.config());
  r.v.data_ = data;
  r.v.size_ = size;
  return std::move(r.v);
}

item_view index_view::item(uint32_t i) const {
  item_view out;
  if (!meta_offsets_ || i >= count_) return out;
  const uint8_t* p = strings_ + meta_offsets_[i];
  const uint8_t* end = strings_ + meta_offsets_[i + 1];
  std::string_view* fields[format::kMetaFields] = {&out.id, &out.title, &out.currency, &out.url, &out.image};
  for (auto* f : fields) {
    uint64_t len = 0;
    read_leb128(p, end, len);  // validated by open()
    *f = std::string_view(reinterpret_cast<const char*>(p), len);
    p += len;
  }
  uint32_t c = item_category_[i];
  out.category = std::string_view(reinterpret_cast<const char*>(strings_ + category_refs_[2 * c]), category_refs_[2 * c + 1]);
  double price;
  std::memcpy(&price, prices_ + 8 * size_t(i), 8);  // memcpy: PRIC holds float64 at any alignment
  out.has_price = !std::isnan(price);
  out.price = out.has_price ? price : 0;
  return out;
}

}  // namespace sf
