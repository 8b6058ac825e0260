// Catalog input: JSONL, one product per line, parsed with simdjson On Demand.
//
//   sf::catalog_options opt;                 // opt.skip_bad = true to continue past bad lines
//   auto r = sf::parse_catalog_jsonl(text, "shop.jsonl", opt);
//   if (!r) { print(r.err().message); }      // "shop.jsonl:12: field 'price': expected a number"
//   for (const sf::product& p : r.value().products) ...
//   r.value().skipped                        // lines skipped with --skip-bad, each with its reason
//
// A line: {"id": "sku-1", "title": "...", "category": "Fruit/Apple", "price": 1.5,
//          "currency": "EUR", "url": "https://...", "images": ["a.jpg", ...],
//          "embedding": [0.1, ...]}
// id (non-empty string, unique), title (string), category (slash path, non-empty
// segments) are required; price (finite number >= 0), currency, url, images and
// embedding are optional. Unknown fields are ignored. Empty and whitespace-only
// lines are ignored. Embeddings: all lines that have one must share one dimension;
// NaN/Inf are errors (JSON cannot spell them, so a number too large for a float is
// the way they arrive). Line numbers are 1-based.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sf {

struct product {
  std::string id, title, category, currency, url;
  double price = 0;
  bool has_price = false;
  std::vector<std::string> images;  // as written in the file (relative paths or URLs)
  std::vector<float> embedding;     // empty when the line has none
  size_t line = 0;                  // 1-based line in the source
};

struct skipped_line {
  size_t line;
  std::string reason;  // same text as the error would have been
};

struct catalog {
  std::vector<product> products;
  std::vector<skipped_line> skipped;
  size_t embedding_dim = 0;  // 0 when no line has an embedding
};

struct catalog_limits {
  size_t max_line_bytes = 1 << 20;    // 1 MiB per line
  size_t max_products = 10'000'000;
  size_t max_embedding_dim = 4096;
  size_t max_images = 1024;  // a product may carry its sellers' and users' photos
};

struct catalog_options {
  bool skip_bad = false;        // skip bad lines (recorded in `skipped`) instead of failing
  size_t expected_dim = 0;      // when > 0, every embedding must have this dimension
  catalog_limits limits;
};

// `source_name` only names the input in error messages.
result<catalog> parse_catalog_jsonl(std::string_view text, std::string_view source_name,
                                    const catalog_options& opt = {});

}  // namespace sf
