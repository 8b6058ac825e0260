// shopframe catalog index: build a compact quantized index, open it in place, search it.
//
// Basic usage:
//   sf::build_options opt;  opt.quantizer = "ivf256,pq32,rr:sq8";
//   auto bytes = sf::build_index(vectors, n, d, meta, opt);   // result<std::vector<uint8_t>>
//   // ... write bytes to a file (see tools: write to a temp file, then rename) ...
//   auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size());
//   sf::search_options so;  so.k = 10;  so.category_prefix = "Fruit/Apple";
//   auto hits = idx.value().search(query, d, so);          // best first
//   std::string_view title = idx.value().item(hits.value()[0].item).title;
//
// Data conventions: vectors are float32, row-major n x d. With metric cosine (the
// default) vectors and queries are L2-normalised by the index, and scores are
// cosine similarities (higher is better). Items are numbered 0..n-1 in build order.
// Ownership: index_view neither copies nor owns the bytes; the caller keeps them
// alive and unchanged while the view is used (a WASM Uint8Array, an mmap, a vector).
// A view is immutable and safe to search from several threads.
//
// Quantizer strings (FAISS-factory style, comma separated, in this order):
//   [pcaN | pcawN | ldaN,]  linear transform to N dims, applied to queries too: PCA or
//                    PCA-whitening learned here, or a transform learned by the caller
//                    (build_options::transform, e.g. LDA catalog adaptation)
//   [ivfN,]          inverted file over N coarse k-means lists
//   flat | sq8 | pqM first-stage codes (float32, int8 scalar, or M-byte product codes)
//   [,rr:flat | ,rr:sq8]  re-rank a shortlist with finer codes
// e.g. "flat", "sq8", "pq32", "ivf256,pq32,rr:sq8", "pca128,ivf1024,sq8".
// The file format is documented in docs/index-format.md and src/index/format.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "index/pca.h"

namespace sf {

enum class metric : uint8_t { cosine = 'c', inner_product = 'i' };

struct item_meta {
  std::string id, title, category, currency, url, image;
  double price = 0;
  bool has_price = false;
};

struct build_options {
  std::string quantizer = "sq8";
  metric metric_kind = metric::cosine;
  uint64_t seed = 1;
  int train_iterations = 12;      // k-means iterations for ivf and pq
  size_t default_nprobe = 0;      // stored in the file; 0 = choose from the list count
  size_t default_rerank = 0;      // shortlist size factor (x k); 0 = choose
  uint64_t build_unix_ms = 0;     // recorded in the header (0 = unknown)
  // For "ldaN": the transform (in_d = d, out_d = N), applied after the normalisation steps.
  const linear_transform* transform = nullptr;
  // Signed square root of every component before L2 normalisation (vectors and, as the
  // index records it, queries): power normalisation for CNN features.
  bool power_normalize = false;
  // Stored verbatim in the CONF section (engine configuration JSON: which embedder made
  // the vectors, calibrated thresholds); empty = no section. At most 1 MiB.
  std::string config_json;
  // Called with a stage name ("pca", "ivf", "pq", "encode", ...) and progress in [0, total].
  std::function<void(const char* stage, size_t done, size_t total)> progress;
};

// Parsed quantizer string.
struct quantizer_spec {
  size_t transform_dim = 0;  // 0 = none
  bool whiten = false;
  bool external_transform = false;  // "ldaN": supplied by the caller at build time
  size_t ivf_lists = 0;      // 0 = no inverted file
  enum class code_kind : uint8_t { flat = 'f', sq8 = 's', pq = 'p' } codes = code_kind::sq8;
  size_t pq_m = 0;
  enum class rerank_kind : uint8_t { none = 'n', flat = 'f', sq8 = 's' } rerank = rerank_kind::none;
  std::string canonical() const;  // normalised string, e.g. "ivf256,pq32,rr:sq8"
};
result<quantizer_spec> parse_quantizer(std::string_view s);

// meta may be empty (items are then anonymous ordinals, as in benchmarks) or have n entries.
result<std::vector<uint8_t>> build_index(const float* vectors, size_t n, size_t d,
                                         const std::vector<item_meta>& meta, const build_options& opt);

class index_view;

// Recall@k of `index` against exact search over `vectors` (n x d, the build input):
// `sample` queries are input vectors (evenly spaced) plus small deterministic noise.
// Exact search runs in the input space, so PCA's loss counts against recall, except for
// a caller's transform (ldaN), which defines the similarity: there it runs after it.
// Used for the build summary; benchmarks use their own held-out queries.
result<double> measure_recall(const index_view& index, const float* vectors, size_t n, size_t d, size_t sample,
                              size_t k = 10);

struct search_options {
  size_t k = 10;
  std::string category_prefix;  // "" = all; "Fruit" matches "Fruit" and "Fruit/Apple", not "Fruits"
  float min_score = -std::numeric_limits<float>::infinity();
  size_t nprobe = 0;            // ivf lists to scan; 0 = the index's default
  size_t rerank = 0;            // shortlist = rerank * k candidates; 0 = the index's default
  // Items sharing an id (a product with several catalog images) count once, with the
  // score of the best one: k distinct products come back.
  bool distinct_ids = false;
};

struct hit {
  uint32_t item;
  float score;
};

struct item_view {
  std::string_view id, title, category, currency, url, image;
  double price = 0;
  bool has_price = false;
};

struct section_info {
  std::string kind;  // four readable characters, e.g. "SQ8C"
  uint64_t offset = 0, bytes = 0;
  uint32_t crc32 = 0;
  bool verified = false;
};

struct index_info {
  uint32_t version = 0;
  uint32_t dim = 0, work_dim = 0, count = 0;
  metric metric_kind = metric::cosine;
  std::string quantizer;
  uint64_t build_unix_ms = 0;
  uint64_t file_bytes = 0;
  uint32_t default_nprobe = 0, default_rerank = 0, ivf_lists = 0;
  bool has_metadata = false;
  bool power_normalize = false;
  bool external_transform = false;  // "ldaN": a caller-learned transform (catalog adaptation)
  std::vector<section_info> sections;
};

class index_view {
 public:
  // Validates header, section table, checksums (unless verify_checksums is false) and
  // every offset a search will follow. Errors name the section and byte offset.
  static result<index_view> open(const uint8_t* data, size_t size, bool verify_checksums = true);

  result<std::vector<hit>> search(const float* query, size_t d, const search_options& opt) const;

  // A query as the index scores it: power- and L2-normalised as the index says, then
  // transformed (work_dim floats).
  result<std::vector<float>> work_query(const float* query, size_t d) const;

  uint32_t size() const noexcept { return count_; }
  uint32_t dim() const noexcept { return dim_; }
  item_view item(uint32_t i) const;  // empty strings when the index has no metadata
  const index_info& info() const noexcept { return info_; }
  std::string_view config() const noexcept { return config_; }  // CONF text, "" when absent
  const uint8_t* bytes() const noexcept { return data_; }

  index_view() = default;

 private:
  // Products: items sharing an id form a group. Found on the first distinct search (an index
  // is opened without reading every id) and shared by copies of this view.
  struct id_groups {
    std::once_flag once;
    std::vector<uint32_t> of_item;  // item -> group ordinal
    uint32_t count = 0;
  };
  const id_groups& groups() const;
  result<std::vector<hit>> search_distinct(const float* query, size_t d, const search_options& opt) const;
  friend struct index_reader;
  std::shared_ptr<id_groups> groups_ = std::make_shared<id_groups>();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint32_t dim_ = 0, work_dim_ = 0, count_ = 0;
  quantizer_spec spec_;
  index_info info_;
  // Section pointers (in place; nullptr when absent). Filled by the reader.
  const float* transform_mean_ = nullptr;     // XFRM: in_d floats, then out_d*in_d matrix
  const float* transform_matrix_ = nullptr;
  const float* coarse_ = nullptr;             // IVFC: lists * work_dim floats
  const uint32_t* list_offsets_ = nullptr;    // IVFL: lists+1 offsets into the ordered rows
  const uint32_t* row_item_ = nullptr;        // PERM: row -> item (rows ordered by list)
  const uint32_t* item_row_ = nullptr;        // PERM: item -> row
  const float* flat_ = nullptr;               // VECF: rows * work_dim floats
  const float* sq8_min_ = nullptr;            // SQ8P: work_dim mins, then work_dim steps
  const float* sq8_step_ = nullptr;
  const uint8_t* sq8_codes_ = nullptr;        // SQ8C: rows * work_dim bytes
  const float* pq_codebooks_ = nullptr;       // PQCB
  const uint8_t* pq_codes_ = nullptr;         // PQCD: rows * m bytes
  const uint32_t* item_category_ = nullptr;   // ICAT: category ordinal per item
  const uint32_t* meta_offsets_ = nullptr;    // META: per item 6 string refs + price
  const uint8_t* strings_ = nullptr;          // STRS
  uint64_t strings_bytes_ = 0;
  const uint8_t* prices_ = nullptr;           // PRIC: count float64
  std::string_view config_;                   // CONF
  uint32_t category_count_ = 0;
  const uint32_t* category_refs_ = nullptr;   // CATS: (offset,length) pairs into STRS
};

// The same index with its CONF section replaced (or removed when config_json is empty):
// how calibration is stored after the build. Other sections are copied byte for byte.
result<std::vector<uint8_t>> with_config(const index_view& index, std::string_view config_json);

}  // namespace sf
