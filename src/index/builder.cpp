// build_index: train the quantizer described by a quantizer string, encode the
// vectors and serialise everything in the layout of format.h.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "common/crc32.h"
#include "index/format.h"
#include "index/index.h"
#include "index/kmeans.h"
#include "index/pca.h"
#include "index/pq.h"
#include "index/sq8.h"
#include "index/vector_math.h"

namespace sf {
namespace {

struct section_blob {
  uint32_t kind;
  std::vector<uint8_t> bytes;
};

template <class T>
section_blob make_section(const char (&kind)[5], const T* data, size_t count) {
  section_blob s{format::kind_code(kind), {}};
  s.bytes.resize(count * sizeof(T));
  if (count) std::memcpy(s.bytes.data(), data, count * sizeof(T));
  return s;
}

void put_leb128(std::vector<uint8_t>& out, size_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out.push_back(v ? (b | 0x80) : b);
  } while (v);
}

// STRS, CATS, ICAT, META and PRIC from the product metadata.
result<std::vector<section_blob>> metadata_sections(const std::vector<item_meta>& meta) {
  std::vector<uint8_t> strs;
  std::map<std::string, uint32_t> cat_index;  // sorted, so CATS is sorted by string
  for (const item_meta& m : meta) cat_index.emplace(m.category, 0);
  std::vector<uint32_t> cats;
  uint32_t ordinal = 0;
  for (auto& [name, idx] : cat_index) {
    idx = ordinal++;
    cats.push_back(uint32_t(strs.size()));
    cats.push_back(uint32_t(name.size()));
    strs.insert(strs.end(), name.begin(), name.end());
  }
  std::vector<uint32_t> icat(meta.size()), offsets(meta.size() + 1);
  std::vector<double> prices(meta.size());
  for (size_t i = 0; i < meta.size(); ++i) {
    const item_meta& m = meta[i];
    icat[i] = cat_index[m.category];
    offsets[i] = uint32_t(strs.size());
    for (const std::string* f : {&m.id, &m.title, &m.currency, &m.url, &m.image}) {
      put_leb128(strs, f->size());
      strs.insert(strs.end(), f->begin(), f->end());
    }
    prices[i] = m.has_price ? m.price : std::nan("");
    if (strs.size() > 0xFFFFFFF0u)
      return make_error(status::limit_exceeded, "metadata strings exceed 4 GiB at item " + std::to_string(i));
  }
  offsets[meta.size()] = uint32_t(strs.size());
  std::vector<section_blob> out;
  out.push_back(make_section("STRS", strs.data(), strs.size()));
  out.push_back(make_section("CATS", cats.data(), cats.size()));
  out.push_back(make_section("ICAT", icat.data(), icat.size()));
  out.push_back(make_section("META", offsets.data(), offsets.size()));
  out.push_back(make_section("PRIC", prices.data(), prices.size()));
  return out;
}

std::vector<uint8_t> serialise(const std::vector<section_blob>& sections, std::vector<uint8_t> header) {
  const size_t table_at = format::kHeaderBytes;
  size_t at = format::align_up(table_at + sections.size() * format::kSectionEntryBytes);
  std::vector<uint64_t> offsets;
  for (const auto& s : sections) {
    offsets.push_back(at);
    at = format::align_up(at + s.bytes.size());
  }
  std::vector<uint8_t> file(at, 0);
  std::copy(header.begin(), header.end(), file.begin());
  for (size_t i = 0; i < sections.size(); ++i) {
    uint8_t* e = file.data() + table_at + i * format::kSectionEntryBytes;
    format::store<uint32_t>(e + format::sec::kind, sections[i].kind);
    format::store<uint32_t>(e + format::sec::crc, crc32(sections[i].bytes.data(), sections[i].bytes.size()));
    format::store<uint64_t>(e + format::sec::offset, offsets[i]);
    format::store<uint64_t>(e + format::sec::bytes, sections[i].bytes.size());
    if (!sections[i].bytes.empty())
      std::memcpy(file.data() + offsets[i], sections[i].bytes.data(), sections[i].bytes.size());
  }
  uint8_t* h = file.data();
  format::store<uint64_t>(h + format::hdr::file_bytes, file.size());
  format::store<uint32_t>(h + format::hdr::section_count, uint32_t(sections.size()));
  format::store<uint32_t>(h + format::hdr::table_crc,
                          crc32(file.data() + table_at, sections.size() * format::kSectionEntryBytes));
  format::store<uint32_t>(h + format::hdr::header_crc, crc32(h, format::hdr::header_crc));
  return file;
}

// PCA orders components by variance; PQ would then give its first sub-space all the
// high-variance directions and its last the noise. Dealing components round-robin over the
// m sub-spaces balances their variance (the "eigenvalue allocation" idea of optimized PQ),
// which lowers the quantization error at the same code size.
void interleave_components(linear_transform& t, size_t m) {
  const size_t out = t.out_d, in = t.in_d, per = out / m;
  std::vector<float> rows(t.matrix.size());
  for (size_t c = 0; c < out; ++c) {
    const size_t target = (c % m) * per + c / m;  // sub-space c % m, slot c / m
    std::copy_n(t.matrix.data() + c * in, in, rows.data() + target * in);
  }
  t.matrix.swap(rows);
}

size_t default_nprobe_for(size_t lists) {
  if (lists <= 8) return lists;
  return std::max<size_t>(1, size_t(std::lround(std::sqrt(double(lists)))));
}

// Shortlist factor (x k) for re-ranking. Long inverted lists of near-identical vectors put
// more coarse-code ties in front of the true neighbours: at 1M vectors in 1024 lists a
// factor of 4 kept recall@10 at 0.71, 16 reached 0.93 (docs/benchmarks.md). So one step per
// 64 vectors of the mean list, from 4 (what 100k vectors in 1024 lists need) up to 64.
size_t default_rerank_for(size_t n, size_t lists) {
  if (lists == 0) return 4;
  const size_t mean_list = (n + lists - 1) / lists;
  return std::clamp<size_t>((mean_list + 63) / 64, 4, 64);
}

}  // namespace

result<std::vector<uint8_t>> build_index(const float* vectors, size_t n, size_t d, const std::vector<item_meta>& meta,
                                         const build_options& opt) {
  auto spec_r = parse_quantizer(opt.quantizer);
  if (!spec_r) return spec_r.err();
  const quantizer_spec spec = spec_r.value();
  if (n == 0) return make_error(status::invalid_argument, "cannot build an index of 0 vectors");
  if (n >= 0xFFFFFFFFull) return make_error(status::limit_exceeded, "more than 4294967294 vectors");
  if (d == 0 || d > 65536) return make_error(status::invalid_argument, "dimension " + std::to_string(d) + " outside 1..65536");
  if (!meta.empty() && meta.size() != n)
    return make_error(status::invalid_argument,
                      "metadata for " + std::to_string(meta.size()) + " items, vectors for " + std::to_string(n));
  if (opt.metric_kind != metric::cosine && opt.metric_kind != metric::inner_product)
    return make_error(status::invalid_argument, "unknown metric");
  if (spec.transform_dim > d)
    return make_error(status::invalid_argument, "quantizer \"" + opt.quantizer + "\": transform to " +
                                                    std::to_string(spec.transform_dim) + " dims exceeds input dimension " +
                                                    std::to_string(d));
  const bool cosine = opt.metric_kind == metric::cosine;
  auto progress = [&](const char* stage, size_t done, size_t total) {
    if (opt.progress) opt.progress(stage, done, total);
  };

  std::vector<float> work(vectors, vectors + n * d);
  for (size_t i = 0; i < n; ++i) {
    float* v = work.data() + i * d;
    for (size_t j = 0; j < d; ++j)
      if (!std::isfinite(v[j]))
        return make_error(status::invalid_argument, "vector " + std::to_string(i) + "[" + std::to_string(j) + "] is not finite");
    if (opt.power_normalize) power_normalize(v, d);
    if (cosine && !normalize(v, d))
      return make_error(status::invalid_argument, "vector " + std::to_string(i) + " is zero: cosine needs a direction");
  }

  std::vector<section_blob> sections;
  size_t wd = d;
  if (spec.transform_dim) {
    progress("pca", 0, 1);
    result<linear_transform> t = make_error(status::invalid_argument, "no transform");
    if (spec.external_transform) {
      if (!opt.transform || opt.transform->in_d != d || opt.transform->out_d != spec.transform_dim ||
          opt.transform->mean.size() != d || opt.transform->matrix.size() != d * spec.transform_dim)
        return make_error(status::invalid_argument, "quantizer \"" + opt.quantizer + "\": needs a " + std::to_string(d) +
                                                        " -> " + std::to_string(spec.transform_dim) + " transform from the caller");
      t = *opt.transform;
    } else {
      t = pca_train(work.data(), n, d, spec.transform_dim, spec.whiten);
      if (t && spec.codes == quantizer_spec::code_kind::pq && spec.transform_dim % spec.pq_m == 0)
        interleave_components(t.value(), spec.pq_m);
    }
    if (!t) return t.err();
    std::vector<float> projected(n * spec.transform_dim);
    t.value().apply(work.data(), n, projected.data());
    wd = spec.transform_dim;
    work.swap(projected);
    if (cosine)
      for (size_t i = 0; i < n; ++i) normalize(work.data() + i * wd, wd);  // a zero image stays zero
    std::vector<float> xf(t.value().mean);
    xf.insert(xf.end(), t.value().matrix.begin(), t.value().matrix.end());
    sections.push_back(make_section("XFRM", xf.data(), xf.size()));
    progress("pca", 1, 1);
  }
  if (spec.codes == quantizer_spec::code_kind::pq && wd % spec.pq_m != 0)
    return make_error(status::invalid_argument, "quantizer \"" + opt.quantizer + "\": pq" + std::to_string(spec.pq_m) +
                                                    " needs a dimension divisible by " + std::to_string(spec.pq_m) +
                                                    ", got " + std::to_string(wd));

  // Rows: grouped by inverted list, or the items themselves.
  std::vector<uint32_t> row_item(n);
  std::vector<float> centroids;
  std::vector<uint32_t> list_of_row;
  size_t lists = spec.ivf_lists;
  if (lists) {
    progress("ivf", 0, 1);
    kmeans_options ko;
    ko.k = lists;
    ko.iterations = opt.train_iterations;
    ko.seed = opt.seed;
    ko.spherical = cosine;
    auto c = kmeans_train(work.data(), n, wd, ko);
    if (!c) return c.err();
    centroids = std::move(c.value());
    std::vector<uint32_t> assign(n);
    kmeans_assign(centroids.data(), lists, work.data(), n, wd, assign.data());
    std::vector<uint32_t> offsets(lists + 1, 0);
    for (uint32_t a : assign) ++offsets[a + 1];
    for (size_t l = 0; l < lists; ++l) offsets[l + 1] += offsets[l];
    std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
    list_of_row.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t r = fill[assign[i]]++;
      row_item[r] = i;
      list_of_row[r] = assign[i];
    }
    sections.push_back(make_section("IVFC", centroids.data(), centroids.size()));
    sections.push_back(make_section("IVFL", offsets.data(), offsets.size()));
    sections.push_back(make_section("PERM", row_item.data(), row_item.size()));
    progress("ivf", 1, 1);
  } else {
    for (uint32_t i = 0; i < n; ++i) row_item[i] = i;
  }

  // Row-ordered vectors, and residuals against the row's coarse centroid.
  std::vector<float> rows(n * wd), residuals;
  for (size_t r = 0; r < n; ++r) std::copy_n(work.data() + size_t(row_item[r]) * wd, wd, rows.data() + r * wd);
  work.clear();
  work.shrink_to_fit();
  if (lists) {
    residuals = rows;
    for (size_t r = 0; r < n; ++r) {
      const float* c = centroids.data() + size_t(list_of_row[r]) * wd;
      float* x = residuals.data() + r * wd;
      for (size_t j = 0; j < wd; ++j) x[j] -= c[j];
    }
  }
  const std::vector<float>& to_encode = lists ? residuals : rows;

  const bool want_flat = spec.codes == quantizer_spec::code_kind::flat || spec.rerank == quantizer_spec::rerank_kind::flat;
  const bool want_sq8 = spec.codes == quantizer_spec::code_kind::sq8 || spec.rerank == quantizer_spec::rerank_kind::sq8;
  if (want_flat) sections.push_back(make_section("VECF", rows.data(), rows.size()));
  if (want_sq8) {
    progress("sq8", 0, 1);
    sq8_codec c = sq8_train(to_encode.data(), n, wd);
    std::vector<float> params(c.vmin);
    params.insert(params.end(), c.step.begin(), c.step.end());
    std::vector<uint8_t> codes(n * wd);
    c.encode(to_encode.data(), n, codes.data());
    sections.push_back(make_section("SQ8P", params.data(), params.size()));
    sections.push_back(make_section("SQ8C", codes.data(), codes.size()));
    progress("sq8", 1, 1);
  }
  if (spec.codes == quantizer_spec::code_kind::pq) {
    progress("pq", 0, 1);
    auto c = pq_train(to_encode.data(), n, wd, spec.pq_m, opt.seed + 1, opt.train_iterations);
    if (!c) return c.err();
    std::vector<uint8_t> codes(n * spec.pq_m);
    c.value().encode(to_encode.data(), n, codes.data());
    sections.push_back(make_section("PQCB", c.value().codebooks.data(), c.value().codebooks.size()));
    sections.push_back(make_section("PQCD", codes.data(), codes.size()));
    progress("pq", 1, 1);
  }
  if (!meta.empty()) {
    auto ms = metadata_sections(meta);
    if (!ms) return ms.err();
    for (auto& s : ms.value()) sections.push_back(std::move(s));
  }
  if (!opt.config_json.empty()) {
    if (opt.config_json.size() > format::kMaxConfigBytes)
      return make_error(status::limit_exceeded, "config_json has " + std::to_string(opt.config_json.size()) +
                                                    " bytes, more than " + std::to_string(format::kMaxConfigBytes));
    sections.push_back(make_section("CONF", opt.config_json.data(), opt.config_json.size()));
  }
  if (sections.size() > format::kMaxSections) return make_error(status::invalid_argument, "too many sections");

  std::vector<uint8_t> h(format::kHeaderBytes, 0);
  std::memcpy(h.data() + format::hdr::magic, format::kMagic, 8);
  format::store<uint32_t>(h.data() + format::hdr::version, format::kVersion);
  format::store<uint32_t>(h.data() + format::hdr::header_bytes, format::kHeaderBytes);
  format::store<uint32_t>(h.data() + format::hdr::dim, uint32_t(d));
  format::store<uint32_t>(h.data() + format::hdr::work_dim, uint32_t(wd));
  format::store<uint32_t>(h.data() + format::hdr::count, uint32_t(n));
  format::store<uint32_t>(h.data() + format::hdr::ivf_lists, uint32_t(lists));
  format::store<uint32_t>(h.data() + format::hdr::pq_m, uint32_t(spec.pq_m));
  size_t nprobe = opt.default_nprobe ? std::min(opt.default_nprobe, std::max<size_t>(lists, 1)) : default_nprobe_for(lists);
  format::store<uint32_t>(h.data() + format::hdr::default_nprobe, uint32_t(lists ? nprobe : 0));
  format::store<uint32_t>(h.data() + format::hdr::default_rerank,
                          uint32_t(spec.rerank == quantizer_spec::rerank_kind::none ? 0
                                   : (opt.default_rerank ? opt.default_rerank : default_rerank_for(n, lists))));
  h[format::hdr::metric] = uint8_t(opt.metric_kind);
  h[format::hdr::transform] = format::transform_kind(spec.transform_dim, spec.whiten, spec.external_transform);
  h[format::hdr::codes] = uint8_t(spec.codes);
  h[format::hdr::rerank] = uint8_t(spec.rerank);
  format::store<uint32_t>(h.data() + format::hdr::flags, (meta.empty() ? 0 : format::kFlagHasMetadata) |
                                                             (opt.power_normalize ? format::kFlagPowerNormalize : 0));
  format::store<uint64_t>(h.data() + format::hdr::build_unix_ms, opt.build_unix_ms);
  std::string canon = spec.canonical();
  if (canon.size() >= format::kQuantizerChars) return make_error(status::invalid_argument, "quantizer string too long");
  std::memcpy(h.data() + format::hdr::quantizer, canon.data(), canon.size());
  progress("write", 1, 1);
  return serialise(sections, std::move(h));
}

}  // namespace sf

namespace sf {

result<std::vector<uint8_t>> with_config(const index_view& index, std::string_view config_json) {
  if (config_json.size() > format::kMaxConfigBytes)
    return make_error(status::limit_exceeded, "config_json has " + std::to_string(config_json.size()) +
                                                  " bytes, more than " + std::to_string(format::kMaxConfigBytes));
  const uint8_t* data = index.bytes();
  if (!data) return make_error(status::invalid_argument, "with_config: the index is not open");
  // Every section except CONF, byte for byte, then the new CONF; the header is kept but
  // stamped with the current version (the new CONF may use what only it defines: a
  // recalibrated version-1 file becomes a version-2 file), and serialise() refreshes sizes,
  // counts and checksums.
  std::vector<section_blob> sections;
  for (const section_info& si : index.info().sections) {
    if (si.kind == "CONF") continue;
    section_blob b;
    b.kind = format::load<uint32_t>(reinterpret_cast<const uint8_t*>(si.kind.data()));
    b.bytes.assign(data + si.offset, data + si.offset + si.bytes);
    sections.push_back(std::move(b));
  }
  if (!config_json.empty()) sections.push_back(make_section("CONF", config_json.data(), config_json.size()));
  std::vector<uint8_t> header(data, data + format::kHeaderBytes);
  format::store<uint32_t>(header.data() + format::hdr::version, format::kVersion);
  return serialise(sections, std::move(header));
}

}  // namespace sf
