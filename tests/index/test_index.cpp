// Index build + search: every quantizer against exact search, filters, metadata.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "index/index.h"
#include "index_fixtures.h"

using sf::test::clustered;
using sf::test::exact_topk;

TEST_CASE("quantizer strings parse, canonicalise and reject nonsense", "[index]") {
  auto q = sf::parse_quantizer("pca64,ivf256,pq32,rr:sq8");
  REQUIRE(q);
  CHECK(q.value().transform_dim == 64);
  CHECK(q.value().ivf_lists == 256);
  CHECK(q.value().pq_m == 32);
  CHECK(q.value().canonical() == "pca64,ivf256,pq32,rr:sq8");
  CHECK(sf::parse_quantizer("pcaw32,sq8").value().whiten);
  CHECK(sf::parse_quantizer("flat").value().canonical() == "flat");
  for (const char* bad : {"", "ivf", "ivf0,sq8", "pq0", "sq8,ivf16", "sq8,sq8", "rr:sq8", "flat,rr:flat", "sq8,rr:sq8",
                          "pca,sq8", "ivf16", "sq4", "ivf16,,sq8", "sq8,"}) {
    auto r = sf::parse_quantizer(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == sf::status::parse_error);
    CHECK(r.err().message.find("quantizer") != std::string::npos);
  }
}

TEST_CASE("every quantizer finds the exact neighbours it should", "[index]") {
  const size_t n = 3000, d = 48, nq = 60, k = 10;
  auto data = clustered(n, d, 40, 11);
  auto queries = clustered(nq, d, 40, 11, /*query_noise=*/0.05f, /*offset=*/n);
  struct want { const char* quantizer; double min_recall; };
  const want cases[] = {
      {"flat", 0.999},       {"sq8", 0.95},           {"pq16", 0.55},          {"pq24,rr:sq8", 0.93},
      {"ivf32,flat", 0.80},  {"ivf32,sq8", 0.80},     {"ivf32,pq16,rr:sq8", 0.75}, {"pca32,sq8", 0.6},
      {"pq12,rr:flat", 0.95}, {"pcaw24,ivf16,sq8", 0.3},
  };
  for (const want& w : cases) {
    sf::build_options opt;
    opt.quantizer = w.quantizer;
    auto bytes = sf::build_index(data.data(), n, d, {}, opt);
    INFO(w.quantizer);
    REQUIRE(bytes);
    auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size());
    REQUIRE(idx);
    CHECK(idx.value().size() == n);
    CHECK(idx.value().info().quantizer == w.quantizer);
    size_t found = 0;
    for (size_t qi = 0; qi < nq; ++qi) {
      const float* q = queries.data() + qi * d;
      auto truth = exact_topk(data, n, d, q, k);
      sf::search_options so;
      so.k = k;
      auto hits = idx.value().search(q, d, so);
      REQUIRE(hits);
      REQUIRE(hits.value().size() == k);
      for (size_t j = 1; j < hits.value().size(); ++j) CHECK(hits.value()[j - 1].score >= hits.value()[j].score);
      std::set<uint32_t> t(truth.begin(), truth.end());
      for (auto& h : hits.value()) found += t.count(h.item);
    }
    double recall = double(found) / double(nq * k);
    INFO("recall@10 = " << recall);
    CHECK(recall >= w.min_recall);
  }
}

TEST_CASE("flat search returns exact cosine scores", "[index]") {
  const size_t n = 200, d = 17;
  auto data = clustered(n, d, 5, 3);
  sf::build_options opt;
  opt.quantizer = "flat";
  auto bytes = sf::build_index(data.data(), n, d, {}, opt);
  REQUIRE(bytes);
  auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size()).value();
  sf::search_options so;
  so.k = 1;
  std::vector<float> q(data.begin() + 5 * d, data.begin() + 6 * d);
  for (auto& x : q) x *= 3.0f;  // cosine: the query's length does not matter
  auto hits = idx.search(q.data(), d, so).value();
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].item == 5);
  CHECK(hits[0].score == Approx(1.0f).epsilon(1e-5));
}

TEST_CASE("more probes and more re-ranking never lower recall", "[index]") {
  const size_t n = 4000, d = 32, nq = 40, k = 10;
  auto data = clustered(n, d, 60, 5);
  auto queries = clustered(nq, d, 60, 5, 0.05f, n);
  sf::build_options opt;
  opt.quantizer = "ivf64,pq8,rr:sq8";
  auto bytes = sf::build_index(data.data(), n, d, {}, opt);
  REQUIRE(bytes);
  auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size()).value();
  auto recall_at = [&](size_t nprobe, size_t rerank) {
    size_t found = 0;
    for (size_t qi = 0; qi < nq; ++qi) {
      auto truth = exact_topk(data, n, d, queries.data() + qi * d, k);
      std::set<uint32_t> t(truth.begin(), truth.end());
      sf::search_options so;
      so.k = k, so.nprobe = nprobe, so.rerank = rerank;
      for (auto& h : idx.search(queries.data() + qi * d, d, so).value()) found += t.count(h.item);
    }
    return double(found) / double(nq * k);
  };
  double r1 = recall_at(1, 1), r8 = recall_at(8, 4), r64 = recall_at(64, 16);
  INFO(r1 << " " << r8 << " " << r64);
  CHECK(r1 <= r8 + 1e-9);
  CHECK(r8 <= r64 + 1e-9);
  CHECK(r64 >= 0.95);
}

TEST_CASE("the default re-ranking shortlist grows with the inverted lists' length", "[index]") {
  const size_t d = 16;
  auto default_rerank = [&](size_t n, const char* quantizer) {
    auto data = clustered(n, d, 20, 3);
    sf::build_options opt;
    opt.quantizer = quantizer;
    auto bytes = sf::build_index(data.data(), n, d, {}, opt);
    REQUIRE(bytes);
    return sf::index_view::open(bytes.value().data(), bytes.value().size()).value().info().default_rerank;
  };
  CHECK(default_rerank(400, "ivf4,pq4,rr:sq8") == 4);     // 100 per list: the floor
  CHECK(default_rerank(2000, "ivf4,pq4,rr:sq8") == 8);    // 500 per list: ceil(500 / 64)
  CHECK(default_rerank(2000, "pq4,rr:sq8") == 4);         // no inverted file
  CHECK(default_rerank(2000, "ivf4,pq4") == 0);           // nothing to re-rank
}

TEST_CASE("metadata round-trips and category filters match path prefixes", "[index]") {
  const size_t n = 6, d = 8;
  auto data = clustered(n, d, 2, 9);
  std::vector<sf::item_meta> meta(n);
  const char* cats[] = {"Fruit/Apple", "Fruit/Apple", "Fruit/Pear", "Fruits", "Vegetables/Leek", "Fruit"};
  for (size_t i = 0; i < n; ++i) {
    meta[i].id = "sku-" + std::to_string(i);
    meta[i].title = "Produkt \xC3\xA4 " + std::to_string(i);
    meta[i].category = cats[i];
    meta[i].currency = "EUR";
    meta[i].url = "https://shop.example/p/" + std::to_string(i);
    meta[i].image = i % 2 ? "" : "img/" + std::to_string(i) + ".jpg";
    meta[i].has_price = i != 3;
    meta[i].price = 1.25 * double(i);
  }
  sf::build_options opt;
  opt.quantizer = "flat";
  auto bytes = sf::build_index(data.data(), n, d, meta, opt);
  REQUIRE(bytes);
  auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size()).value();
  REQUIRE(idx.info().has_metadata);
  for (uint32_t i = 0; i < n; ++i) {
    auto it = idx.item(i);
    CHECK(it.id == meta[i].id);
    CHECK(it.title == meta[i].title);
    CHECK(it.category == meta[i].category);
    CHECK(it.currency == "EUR");
    CHECK(it.url == meta[i].url);
    CHECK(it.image == meta[i].image);
    CHECK(it.has_price == meta[i].has_price);
    if (it.has_price) CHECK(it.price == meta[i].price);
  }
  auto items_for = [&](const std::string& prefix) {
    sf::search_options so;
    so.k = 10;
    so.category_prefix = prefix;
    std::set<uint32_t> s;
    auto hits = idx.search(data.data(), d, so);
    REQUIRE(hits);
    for (auto& h : hits.value()) s.insert(h.item);
    return s;
  };
  CHECK(items_for("Fruit") == std::set<uint32_t>{0, 1, 2, 5});
  CHECK(items_for("Fruit/Apple") == std::set<uint32_t>{0, 1});
  CHECK(items_for("Fruits") == std::set<uint32_t>{3});
  CHECK(items_for("") == std::set<uint32_t>{0, 1, 2, 3, 4, 5});
  sf::search_options so;
  so.category_prefix = "Dairy";
  auto none = idx.search(data.data(), d, so);
  REQUIRE_FALSE(none);
  CHECK(none.err().code == sf::status::not_found);
  CHECK(none.err().message.find("Dairy") != std::string::npos);

  so = {};
  so.k = 10;
  so.min_score = 0.999f;
  auto top = idx.search(data.data(), d, so).value();  // the query is item 0 itself
  REQUIRE(top.size() >= 1);
  for (auto& h : top) CHECK(h.score >= 0.999f);
}

TEST_CASE("build and search reject bad arguments with clear errors", "[index]") {
  std::vector<float> v(4 * 8, 0.5f);
  sf::build_options opt;
  CHECK(sf::build_index(v.data(), 0, 8, {}, opt).err().code == sf::status::invalid_argument);
  opt.quantizer = "pq3";
  auto r = sf::build_index(v.data(), 4, 8, {}, opt);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("divisible") != std::string::npos);
  opt.quantizer = "sq8";
  v[9] = std::nanf("");
  r = sf::build_index(v.data(), 4, 8, {}, opt);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("vector 1[1]") != std::string::npos);
  v[9] = 0.5f;
  std::fill(v.begin() + 16, v.begin() + 24, 0.0f);
  r = sf::build_index(v.data(), 4, 8, {}, opt);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("vector 2 is zero") != std::string::npos);
  std::fill(v.begin() + 16, v.begin() + 24, 0.25f);
  r = sf::build_index(v.data(), 4, 8, std::vector<sf::item_meta>(3), opt);
  REQUIRE_FALSE(r);
  opt.quantizer = "pca9,sq8";
  CHECK_FALSE(sf::build_index(v.data(), 4, 8, {}, opt));

  opt.quantizer = "sq8";
  auto bytes = sf::build_index(v.data(), 4, 8, {}, opt).value();
  auto idx = sf::index_view::open(bytes.data(), bytes.size()).value();
  sf::search_options so;
  CHECK(idx.search(v.data(), 7, so).err().message.find("7 dimensions") != std::string::npos);
  std::vector<float> q(8, 0.0f);
  CHECK(idx.search(q.data(), 8, so).err().code == sf::status::invalid_argument);
  q[0] = INFINITY;
  CHECK(idx.search(q.data(), 8, so).err().message.find("query[0]") != std::string::npos);
  so.category_prefix = "Fruit";
  q[0] = 1;
  CHECK(idx.search(q.data(), 8, so).err().message.find("without metadata") != std::string::npos);
  so = {};
  so.k = 0;
  CHECK(idx.search(q.data(), 8, so).value().empty());
}

TEST_CASE("measure_recall reports high recall for flat and less for coarse codes", "[index]") {
  const size_t n = 1500, d = 32;
  auto data = clustered(n, d, 30, 21);
  sf::build_options opt;
  opt.quantizer = "flat";
  auto fb = sf::build_index(data.data(), n, d, {}, opt).value();
  auto flat = sf::index_view::open(fb.data(), fb.size()).value();
  CHECK(sf::measure_recall(flat, data.data(), n, d, 50).value() == Approx(1.0));
  opt.quantizer = "pq4";
  auto pb = sf::build_index(data.data(), n, d, {}, opt).value();
  auto pq = sf::index_view::open(pb.data(), pb.size()).value();
  double r = sf::measure_recall(pq, data.data(), n, d, 50).value();
  CHECK(r > 0.05);
  CHECK(r < 1.0);
}

TEST_CASE("a caller-supplied transform (ldaN) and power normalisation apply to queries", "[index]") {
  const size_t n = 300, d = 12, out = 5;
  auto data = clustered(n, d, 6, 4);
  // Transform: keep the first `out` coordinates of the (power-normalised, L2-normalised) input.
  sf::linear_transform t;
  t.in_d = d, t.out_d = out;
  t.mean.assign(d, 0.0f);
  t.matrix.assign(out * d, 0.0f);
  for (size_t r = 0; r < out; ++r) t.matrix[r * d + r] = 1.0f;
  sf::build_options opt;
  opt.quantizer = "lda5,flat";
  CHECK(sf::build_index(data.data(), n, d, {}, opt).err().message.find("transform from the caller") != std::string::npos);
  opt.transform = &t;
  opt.power_normalize = true;
  auto bytes = sf::build_index(data.data(), n, d, {}, opt);
  REQUIRE(bytes);
  auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size()).value();
  CHECK(idx.info().quantizer == "lda5,flat");
  CHECK(idx.info().power_normalize);
  CHECK(idx.info().work_dim == out);
  // Reference: the same steps by hand, then exact search.
  auto prepare = [&](const float* x) {
    std::vector<float> v(x, x + d);
    double norm = 0;
    for (auto& f : v) f = f < 0 ? -std::sqrt(-f) : std::sqrt(f), norm += double(f) * f;
    std::vector<float> y(out);
    double yn = 0;
    for (size_t r = 0; r < out; ++r) y[r] = float(v[r] / std::sqrt(norm)), yn += double(y[r]) * y[r];
    for (auto& f : y) f = float(f / std::sqrt(yn));
    return y;
  };
  std::vector<float> reduced;
  for (size_t i = 0; i < n; ++i) {
    auto y = prepare(data.data() + i * d);
    reduced.insert(reduced.end(), y.begin(), y.end());
  }
  for (size_t qi = 0; qi < 10; ++qi) {
    const float* q = data.data() + qi * 29 * d;
    auto truth = exact_topk(reduced, n, out, prepare(q).data(), 5);
    sf::search_options so;
    so.k = 5;
    auto hits = idx.search(q, d, so).value();
    REQUIRE(hits.size() == 5);
    CHECK(hits[0].item == truth[0]);
  }
}

TEST_CASE("distinct_ids collapses items of one product to its best-scoring image", "[index]") {
  // 40 products with 5 images each (items sharing an id), clustered per product.
  const size_t products = 40, per = 5, n = products * per, d = 16;
  auto centres = clustered(products, d, products, 3);
  std::vector<float> data(n * d);
  std::vector<sf::item_meta> meta(n);
  for (size_t p = 0; p < products; ++p)
    for (size_t j = 0; j < per; ++j) {
      size_t i = p * per + j;
      for (size_t c = 0; c < d; ++c) data[i * d + c] = centres[p * d + c] + 0.01f * float((j * 7 + c * 3) % 5);
      meta[i].id = "p" + std::to_string(p);
      meta[i].category = p % 2 ? "Odd" : "Even";
    }
  sf::build_options opt;
  opt.quantizer = "flat";
  auto bytes = sf::build_index(data.data(), n, d, meta, opt);
  REQUIRE(bytes);
  auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size()).value();
  for (size_t q : {0u, 57u, 199u}) {
    sf::search_options so;
    so.k = 10;
    so.distinct_ids = true;
    auto hits = idx.search(&data[q * d], d, so).value();
    REQUIRE(hits.size() == 10);
    std::set<std::string> ids;
    for (auto& h : hits) ids.insert(std::string(idx.item(h.item).id));
    CHECK(ids.size() == 10);
    CHECK(idx.item(hits[0].item).id == meta[q].id);
    // Each product's score is its best item's score (compare with a wide raw search).
    so.distinct_ids = false;
    so.k = n;
    auto raw = idx.search(&data[q * d], d, so).value();
    for (auto& h : hits) {
      float best = -2;
      for (auto& r : raw)
        if (idx.item(r.item).id == idx.item(h.item).id) best = std::max(best, r.score);
      CHECK(h.score == best);
    }
    for (size_t i = 1; i < hits.size(); ++i) CHECK(hits[i - 1].score >= hits[i].score);
  }
  // Fewer distinct products than k under a filter: all of them, once each.
  sf::search_options so;
  so.k = 100;
  so.distinct_ids = true;
  so.category_prefix = "Odd";
  auto odd = idx.search(data.data(), d, so).value();
  CHECK(odd.size() == products / 2);
}

// The reference for distinct search: every row the raw search reaches, best first, then the
// first (best) row of each product.
static std::vector<sf::hit> distinct_reference(const sf::index_view& idx, const float* q, size_t d, sf::search_options so) {
  const size_t k = so.k;
  so.distinct_ids = false;
  so.k = idx.size();
  std::vector<sf::hit> out;
  std::set<std::string> seen;
  for (const sf::hit& h : idx.search(q, d, so).value())
    if (out.size() < k && seen.insert(std::string(idx.item(h.item).id)).second) out.push_back(h);
  return out;
}

TEST_CASE("distinct search gives the reference answer with every quantizer, filter and product count", "[index]") {
  const size_t n = 600, d = 24;
  auto data = clustered(n, d, 30, 17);
  // few products (30 images each), some with one image, and as many products as items
  for (size_t images_per_product : {20u, 7u, 1u}) {
    std::vector<sf::item_meta> meta(n);
    for (size_t i = 0; i < n; ++i) {
      // products interleave, so a product's images are spread over clusters and lists
      meta[i].id = "p" + std::to_string((i * 7919) % n / images_per_product);
      meta[i].category = i % 3 ? "A/x" : "B";
    }
    for (const char* quantizer : {"flat", "sq8", "ivf8,sq8", "pq8", "pq8,rr:sq8", "ivf8,pq8,rr:flat"}) {
      sf::build_options opt;
      opt.quantizer = quantizer;
      auto bytes = sf::build_index(data.data(), n, d, meta, opt);
      REQUIRE(bytes);
      auto idx = sf::index_view::open(bytes.value().data(), bytes.value().size()).value();
      for (size_t qi : {0u, 101u, 377u}) {
        for (size_t k : {1u, 5u, 40u, 1000u}) {
          for (const char* category : {"", "A", "B"}) {
            for (float min_score : {-2.0f, 0.5f}) {
              sf::search_options so;
              so.k = k;
              so.category_prefix = category;
              so.min_score = min_score;
              so.nprobe = 3;
              auto want = distinct_reference(idx, &data[qi * d], d, so);
              so.distinct_ids = true;
              auto got = idx.search(&data[qi * d], d, so).value();
              INFO(quantizer << " images/product " << images_per_product << " query " << qi << " k " << k << " '" << category
                             << "' min " << min_score);
              REQUIRE(got.size() == want.size());
              for (size_t i = 0; i < got.size(); ++i) {
                CHECK(got[i].item == want[i].item);
                CHECK(got[i].score == want[i].score);
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("the CONF section stores engine configuration verbatim", "[index]") {
  const size_t n = 8, d = 4;
  auto data = clustered(n, d, 2, 5);
  sf::build_options opt;
  opt.quantizer = "flat";
  auto plain = sf::build_index(data.data(), n, d, {}, opt).value();
  CHECK(sf::index_view::open(plain.data(), plain.size()).value().config().empty());
  opt.config_json = R"({"embedder": {"name": "mobilenetv2-feat"}, "calibration": {"item": 0.61}})";
  auto bytes = sf::build_index(data.data(), n, d, {}, opt).value();
  auto idx = sf::index_view::open(bytes.data(), bytes.size()).value();
  CHECK(idx.config() == opt.config_json);
  bool listed = false;
  for (auto& s : idx.info().sections) listed |= s.kind == "CONF";
  CHECK(listed);
  opt.config_json.assign((1u << 20) + 1, ' ');
  auto big = sf::build_index(data.data(), n, d, {}, opt);
  REQUIRE_FALSE(big);
  CHECK(big.err().code == sf::status::limit_exceeded);
}

TEST_CASE("with_config replaces the CONF section and keeps everything else", "[index]") {
  const size_t n = 40, d = 8;
  auto data = clustered(n, d, 4, 11);
  std::vector<sf::item_meta> meta(n);
  for (size_t i = 0; i < n; ++i) meta[i].id = "p" + std::to_string(i / 2), meta[i].category = "C";
  sf::build_options opt;
  opt.quantizer = "ivf4,sq8";
  opt.config_json = R"({"calibration": null})";
  auto bytes = sf::build_index(data.data(), n, d, meta, opt).value();
  auto a = sf::index_view::open(bytes.data(), bytes.size()).value();
  const std::string updated = R"({"calibration": {"item": {"threshold": 0.7}}})";
  auto next = sf::with_config(a, updated);
  REQUIRE(next);
  auto b = sf::index_view::open(next.value().data(), next.value().size());  // checksums verified
  REQUIRE(b);
  CHECK(b.value().config() == updated);
  CHECK(b.value().info().quantizer == a.info().quantizer);
  sf::search_options so;
  so.k = 5;
  for (size_t q = 0; q < n; q += 7) {
    auto x = a.search(&data[q * d], d, so).value(), y = b.value().search(&data[q * d], d, so).value();
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i) CHECK((x[i].item == y[i].item && x[i].score == y[i].score));
  }
  CHECK(b.value().item(3).id == "p1");
  auto removed = sf::with_config(b.value(), "");
  REQUIRE(removed);
  CHECK(sf::index_view::open(removed.value().data(), removed.value().size()).value().config().empty());
}
