// fuzz_catalog: the input is JSONL catalog text (contracts: fuzz/targets.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common.h"
#include "catalog/catalog.h"

namespace sf_fuzz {

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

}  // namespace sf_fuzz

// =======================================================================================
// Entry point (returns 0 like LLVMFuzzerTestOneInput)

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
