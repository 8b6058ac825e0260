// Embind bindings of the shopframe core. Classes, not globals; data crosses as
// typed-array views into WASM memory (take a fresh view after any call that may
// allocate: memory growth detaches old views). Errors never throw across the
// boundary: calls return false / -1 and lastError() says what and where; the JS
// layer (js/core.mjs) turns that into an Error with a `code`.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>

#include <cstring>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "embed/embed.h"
#include "index/index.h"
#include "index/kernels.h"
#include "bind_common.h"

using emscripten::val;
using sf::wasm::byte_buffer;
using sf::wasm::last_error;

namespace {

class wasm_index {
 public:
  // Takes the buffer (filled by JS through its view) and validates it.
  bool open(std::shared_ptr<byte_buffer> bytes, bool verify) {
    err_.clear();
    auto v = sf::index_view::open(bytes->data(), bytes->size(), verify);
    if (!v) return err_.set(v.err()), false;
    bytes_ = std::move(bytes);
    view_ = std::move(v.value());
    query_.assign(view_.dim(), 0.0f);
    return true;
  }
  val query_view() { return val(emscripten::typed_memory_view(query_.size(), query_.data())); }

  // Searches the query written into query_view(); returns the hit count or -1.
  int search(size_t k, std::string category, float min_score, size_t nprobe, size_t rerank, bool distinct) {
    err_.clear();
    sf::search_options so;
    so.k = k, so.category_prefix = std::move(category), so.min_score = min_score, so.nprobe = nprobe, so.rerank = rerank;
    so.distinct_ids = distinct;
    auto r = view_.search(query_.data(), query_.size(), so);
    if (!r) return err_.set(r.err()), -1;
    items_.resize(r.value().size());
    scores_.resize(r.value().size());
    for (size_t i = 0; i < r.value().size(); ++i) items_[i] = r.value()[i].item, scores_[i] = r.value()[i].score;
    return int(items_.size());
  }
  val result_items() { return val(emscripten::typed_memory_view(items_.size(), items_.data())); }
  val result_scores() { return val(emscripten::typed_memory_view(scores_.size(), scores_.data())); }

  val item(uint32_t i) const {
    sf::item_view it = view_.item(i);
    val o = val::object();
    o.set("id", std::string(it.id));
    o.set("title", std::string(it.title));
    o.set("category", std::string(it.category));
    o.set("price", it.has_price ? val(it.price) : val::null());
    o.set("currency", std::string(it.currency));
    o.set("url", std::string(it.url));
    o.set("image", std::string(it.image));
    return o;
  }

  val info() const {
    const sf::index_info& in = view_.info();
    val o = val::object();
    o.set("version", in.version);
    o.set("dim", in.dim);
    o.set("workDim", in.work_dim);
    o.set("count", in.count);
    o.set("metric", std::string(in.metric_kind == sf::metric::cosine ? "cosine" : "inner_product"));
    o.set("quantizer", in.quantizer);
    o.set("buildUnixMs", double(in.build_unix_ms));
    o.set("fileBytes", double(in.file_bytes));
    o.set("ivfLists", in.ivf_lists);
    o.set("defaultNprobe", in.default_nprobe);
    o.set("defaultRerank", in.default_rerank);
    o.set("hasMetadata", in.has_metadata);
    o.set("powerNormalize", in.power_normalize);
    o.set("simd", std::string(sf::kernels::active().name));
    val secs = val::array();
    for (const auto& s : in.sections) {
      val e = val::object();
      e.set("kind", s.kind);
      e.set("offset", double(s.offset));
      e.set("bytes", double(s.bytes));
      e.set("crc32", s.crc32);
      e.set("verified", s.verified);
      secs.call<void>("push", e);
    }
    o.set("sections", secs);
    return o;
  }

  uint32_t dim() const { return view_.dim(); }
  uint32_t size() const { return view_.size(); }
  std::string config() const { return std::string(view_.config()); }
  // A copy of this index with its CONF section replaced; null on error.
  std::shared_ptr<byte_buffer> with_config(std::string json) {
    err_.clear();
    auto r = sf::with_config(view_, json);
    if (!r) return err_.set(r.err()), nullptr;
    auto out = std::make_shared<byte_buffer>(r.value().size());
    std::memcpy(out->data(), r.value().data(), r.value().size());
    return out;
  }
  std::string error_code() const { return err_.code; }
  std::string error_message() const { return err_.message; }

 private:
  std::shared_ptr<byte_buffer> bytes_;
  sf::index_view view_;
  std::vector<float> query_;
  std::vector<uint32_t> items_;
  std::vector<float> scores_;
  last_error err_;
};

// Collects vectors and metadata (directly, or from a JSONL catalog) and builds an index.
class index_builder {
 public:
  // A zeroed n x d vector buffer JS fills through vector_view().
  void reserve_vectors(size_t n, size_t d) {
    n_ = n, d_ = d;
    vectors_.assign(n * d, 0.0f);
    meta_.clear();
    labels_.clear();
  }
  val vector_view() { return val(emscripten::typed_memory_view(vectors_.size(), vectors_.data())); }
  void add_meta(std::string id, std::string title, std::string category, std::string currency, std::string url,
                std::string image, double price, bool has_price) {
    meta_.push_back({std::move(id), std::move(title), std::move(category), std::move(currency), std::move(url),
                     std::move(image), price, has_price});
  }

  // Parses JSONL text. With require_embeddings every product needs an embedding and the
  // vectors and metadata are taken from the file; otherwise JS reads products() and
  // supplies vectors (embedded images) itself. Returns false on error.
  bool parse_catalog(std::string text, std::string source, bool skip_bad, size_t expected_dim,
                     bool require_embeddings) {
    err_.clear();
    sf::catalog_options co;
    co.skip_bad = skip_bad;
    co.expected_dim = expected_dim;
    auto r = sf::parse_catalog_jsonl(text, source, co);
    if (!r) return err_.set(r.err()), false;
    catalog_ = std::move(r.value());
    skipped_ = val::array();
    for (const auto& s : catalog_.skipped) {
      val e = val::object();
      e.set("line", double(s.line));
      e.set("reason", s.reason);
      skipped_.call<void>("push", e);
    }
    if (!require_embeddings) return true;
    for (const auto& p : catalog_.products) {
      if (p.embedding.empty()) {
        err_.set(sf::make_error(sf::status::invalid_argument,
                                source + ":" + std::to_string(p.line) + ": field 'embedding': missing (product \"" + p.id +
                                    "\"); without a model every product needs its embedding"));
        return false;
      }
    }
    n_ = catalog_.products.size(), d_ = catalog_.embedding_dim;
    vectors_.clear();
    vectors_.reserve(n_ * d_);
    meta_.clear();
    for (auto& p : catalog_.products) {
      vectors_.insert(vectors_.end(), p.embedding.begin(), p.embedding.end());
      meta_.push_back({p.id, p.title, p.category, p.currency, p.url, p.images.empty() ? std::string() : p.images[0],
                       p.price, p.has_price});
    }
    return true;
  }
  // The parsed products: [{ id, title, category, price, currency, url, images, embedding, line }]
  // (embedding: a Float32Array copy, or null).
  val products() const {
    val out = val::array();
    for (const auto& p : catalog_.products) {
      val o = val::object();
      o.set("id", p.id);
      o.set("title", p.title);
      o.set("category", p.category);
      o.set("price", p.has_price ? val(p.price) : val::null());
      o.set("currency", p.currency);
      o.set("url", p.url);
      val imgs = val::array();
      for (const auto& i : p.images) imgs.call<void>("push", i);
      o.set("images", imgs);
      o.set("embedding", p.embedding.empty() ? val::null()
                                             : val::global("Float32Array").new_(emscripten::typed_memory_view(
                                                   p.embedding.size(), p.embedding.data())));
      o.set("line", double(p.line));
      out.call<void>("push", o);
    }
    return out;
  }
  val skipped() const { return skipped_; }
  size_t count() const { return n_; }
  size_t dim() const { return d_; }

  // Product label per vector (vectors of one product share a label), for adaptation.
  val label_view() {
    labels_.assign(n_, 0);
    return val(emscripten::typed_memory_view(labels_.size(), labels_.data()));
  }
  // Held-out check of the LDA adaptation (sf::embed::trial_adaptation) on the vectors and
  // labels; null on error.
  val trial_adaptation(size_t out_dim, double within_reg) {
    err_.clear();
    if (labels_.size() != n_) return err_.set(sf::make_error(sf::status::invalid_argument, "no labels")), val::null();
    sf::embed::lda_options lo;
    lo.out_dim = out_dim, lo.within_reg = within_reg;
    auto t = sf::embed::trial_adaptation(vectors_.data(), n_, d_, labels_.data(), lo);
    if (!t) return err_.set(t.err()), val::null();
    val o = val::object();
    o.set("rawRecallAt1", t.value().raw.recall_at_1);
    o.set("rawRecallAt5", t.value().raw.recall_at_5);
    o.set("adaptedRecallAt1", t.value().adapted.recall_at_1);
    o.set("adaptedRecallAt5", t.value().adapted.recall_at_5);
    o.set("heldOut", double(t.value().held_out_rows));
    return o;
  }
  // Learns the LDA adaptation on all vectors; the next build() stores and applies it
  // ("ldaN" quantizer prefix, power normalisation on). Returns the output dimension or -1.
  int learn_adaptation(size_t out_dim, double within_reg) {
    err_.clear();
    if (labels_.size() != n_) return err_.set(sf::make_error(sf::status::invalid_argument, "no labels")), -1;
    sf::embed::lda_options lo;
    lo.out_dim = out_dim, lo.within_reg = within_reg;
    auto t = sf::embed::lda_train(vectors_.data(), n_, d_, labels_.data(), n_, lo);
    if (!t) return err_.set(t.err()), -1;
    transform_ = std::move(t.value());
    has_transform_ = true;
    return int(transform_.out_d);
  }
  void set_config(std::string json) { config_ = std::move(json); }

  bool build(std::string quantizer, std::string metric, double seed, double build_unix_ms, val progress) {
    err_.clear();
    sf::build_options opt;
    opt.quantizer = std::move(quantizer);
    if (has_transform_) {
      opt.transform = &transform_;
      opt.power_normalize = true;  // the LDA was learned on power- and L2-normalised vectors
      if (opt.quantizer.rfind("lda", 0) != 0) opt.quantizer = "lda" + std::to_string(transform_.out_d) + "," + opt.quantizer;
    }
    opt.config_json = config_;
    opt.metric_kind = metric == "inner_product" ? sf::metric::inner_product : sf::metric::cosine;
    opt.seed = uint64_t(seed);
    opt.build_unix_ms = uint64_t(build_unix_ms);
    if (!progress.isUndefined() && !progress.isNull())
      opt.progress = [&](const char* stage, size_t done, size_t total) {
        progress(std::string(stage), double(done), double(total));
      };
    auto r = sf::build_index(vectors_.data(), n_, d_, meta_, opt);
    if (!r) return err_.set(r.err()), false;
    out_ = std::make_shared<byte_buffer>(r.value().size());
    std::memcpy(out_->data(), r.value().data(), r.value().size());
    return true;
  }
  // The built index: bytes (a view) and, for opening, the buffer itself.
  std::shared_ptr<byte_buffer> output() const { return out_; }

  // Recall@k of the built index against exact search (see sf::measure_recall); -1 on error.
  double measure_recall(size_t sample, size_t k) {
    err_.clear();
    if (!out_) return -1;
    auto v = sf::index_view::open(out_->data(), out_->size(), false);
    if (!v) return err_.set(v.err()), -1;
    auto r = sf::measure_recall(v.value(), vectors_.data(), n_, d_, sample, k);
    if (!r) return err_.set(r.err()), -1;
    return r.value();
  }
  std::string error_code() const { return err_.code; }
  std::string error_message() const { return err_.message; }

 private:
  size_t n_ = 0, d_ = 0;
  std::vector<float> vectors_;
  std::vector<sf::item_meta> meta_;
  std::vector<uint32_t> labels_;
  sf::catalog catalog_;
  sf::linear_transform transform_;
  bool has_transform_ = false;
  std::string config_;
  std::shared_ptr<byte_buffer> out_;
  val skipped_ = val::array();
  last_error err_;
};

// Null when the bytes do not fit in WASM memory (js/core.mjs allocBuffer reports it).
std::shared_ptr<byte_buffer> make_buffer(double n) {
  if (!(n >= 0) || n > double(SIZE_MAX - 16)) return nullptr;
  auto b = std::make_shared<byte_buffer>(size_t(n));
  return b->ok() ? b : nullptr;
}
std::string simd_name() { return sf::kernels::active().name; }
double heap_bytes() { return double(emscripten_get_heap_size()); }

}  // namespace

EMSCRIPTEN_BINDINGS(shopframe) {
  using namespace emscripten;
  class_<byte_buffer>("ByteBuffer")
      .smart_ptr<std::shared_ptr<byte_buffer>>("ByteBufferPtr")
      .function("view", &byte_buffer::view)
      .function("size", &byte_buffer::size);
  function("makeBuffer", &make_buffer);
  function("simdName", &simd_name);
  function("heapBytes", &heap_bytes);
  class_<wasm_index>("Index")
      .constructor<>()
      .function("open", &wasm_index::open)
      .function("queryView", &wasm_index::query_view)
      .function("search", &wasm_index::search)
      .function("resultItems", &wasm_index::result_items)
      .function("resultScores", &wasm_index::result_scores)
      .function("item", &wasm_index::item)
      .function("info", &wasm_index::info)
      .function("dim", &wasm_index::dim)
      .function("config", &wasm_index::config)
      .function("withConfig", &wasm_index::with_config)
      .function("size", &wasm_index::size)
      .function("errorCode", &wasm_index::error_code)
      .function("errorMessage", &wasm_index::error_message);
  class_<index_builder>("IndexBuilder")
      .constructor<>()
      .function("reserveVectors", &index_builder::reserve_vectors)
      .function("vectorView", &index_builder::vector_view)
      .function("addMeta", &index_builder::add_meta)
      .function("parseCatalog", &index_builder::parse_catalog)
      .function("skipped", &index_builder::skipped)
      .function("products", &index_builder::products)
      .function("count", &index_builder::count)
      .function("dim", &index_builder::dim)
      .function("labelView", &index_builder::label_view)
      .function("trialAdaptation", &index_builder::trial_adaptation)
      .function("learnAdaptation", &index_builder::learn_adaptation)
      .function("setConfig", &index_builder::set_config)
      .function("build", &index_builder::build)
      .function("output", &index_builder::output)
      .function("measureRecall", &index_builder::measure_recall)
      .function("errorCode", &index_builder::error_code)
      .function("errorMessage", &index_builder::error_message);
}
