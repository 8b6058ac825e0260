#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "catalog/catalog.h"

namespace {

// Parses `text` expecting failure; returns the error (code + message).
sf::error parse_err(const std::string& text, const sf::catalog_options& opt = {}) {
  auto r = sf::parse_catalog_jsonl(text, "shop.jsonl", opt);
  REQUIRE_FALSE(r);
  return r.err();
}

template <size_t N>
std::string bytes(const char (&lit)[N]) {  // a literal with embedded NULs, minus the terminator
  return std::string(lit, N - 1);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const char* k_good_line = R"({"id":"a","title":"A","category":"X/Y"})";

}  // namespace

TEST_CASE("catalog: a valid catalog with every field", "[catalog]") {
  const std::string text =
      R"({"id": "sku-1", "title": "Apple", "category": "Fruit/Apple", "price": 1.5, "currency": "EUR",)"
      R"( "url": "https://shop.example/sku-1", "images": ["a.jpg", "b.jpg"], "embedding": [0.5, -1, 2e-3],)"
      R"( "extra": {"nested": [1, 2, {"x": null}]}, "stock": 12})"
      "\n"
      R"({"id": "sku-2", "title": "Pear \"Conference\"", "category": "Fruit/Pear", "embedding": [1, 2, 3]})"
      "\n"
      R"({"title": "Kiwi", "category": "Fruit", "id": "sku-3", "price": 0, "images": []})";
  auto r = sf::parse_catalog_jsonl(text, "shop.jsonl");
  REQUIRE(r);
  const sf::catalog& c = r.value();
  REQUIRE(c.skipped.empty());
  REQUIRE(c.embedding_dim == 3);
  REQUIRE(c.products.size() == 3);

  const sf::product& a = c.products[0];
  CHECK(a.id == "sku-1");
  CHECK(a.title == "Apple");
  CHECK(a.category == "Fruit/Apple");
  CHECK(a.has_price);
  CHECK(a.price == 1.5);
  CHECK(a.currency == "EUR");
  CHECK(a.url == "https://shop.example/sku-1");
  REQUIRE(a.images.size() == 2);
  CHECK(a.images[0] == "a.jpg");
  CHECK(a.images[1] == "b.jpg");
  REQUIRE(a.embedding.size() == 3);
  CHECK(a.embedding[0] == 0.5f);
  CHECK(a.embedding[1] == -1.0f);
  CHECK(a.embedding[2] == 2e-3f);
  CHECK(a.line == 1);

  const sf::product& b = c.products[1];
  CHECK(b.title == "Pear \"Conference\"");
  CHECK_FALSE(b.has_price);
  CHECK(b.currency.empty());
  CHECK(b.url.empty());
  CHECK(b.images.empty());
  CHECK(b.line == 2);

  const sf::product& k = c.products[2];
  CHECK(k.id == "sku-3");
  CHECK(k.category == "Fruit");
  CHECK(k.has_price);
  CHECK(k.price == 0);
  CHECK(k.embedding.empty());
  CHECK(k.line == 3);
}

TEST_CASE("catalog: empty input, CRLF and blank lines", "[catalog]") {
  SECTION("a UTF-8 byte order mark before the first line") {
    auto r = sf::parse_catalog_jsonl(std::string("\xEF\xBB\xBF") + k_good_line + "\n", "shop.jsonl");
    REQUIRE(r);
    CHECK(r.value().products.size() == 1);
    auto e = parse_err(std::string(k_good_line) + "\n\xEF\xBB\xBF" + k_good_line);  // only before line 1
    CHECK(e.message.rfind("shop.jsonl:2: invalid JSON: ", 0) == 0);
  }
  SECTION("0-byte input") {
    auto r = sf::parse_catalog_jsonl("", "shop.jsonl");
    REQUIRE(r);
    CHECK(r.value().products.empty());
    CHECK(r.value().embedding_dim == 0);
  }
  SECTION("only blank lines") {
    auto r = sf::parse_catalog_jsonl("\n\r\n  \t \n\n", "shop.jsonl");
    REQUIRE(r);
    CHECK(r.value().products.empty());
  }
  SECTION("CRLF line ends") {
    const std::string text = std::string(k_good_line) + "\r\n" +
                             R"({"id":"b","title":"B\r","category":"X"})" + "\r\n";
    auto r = sf::parse_catalog_jsonl(text, "shop.jsonl");
    REQUIRE(r);
    REQUIRE(r.value().products.size() == 2);
    CHECK(r.value().products[1].title == "B\r");  // an escaped \r inside a string is content
    CHECK(r.value().products[1].line == 2);
  }
  SECTION("blank and whitespace-only lines keep line numbers") {
    const std::string text = std::string("\n   \n") + k_good_line + "\n\t\r\n\n" +
                             R"({"id":"b","title":"B","category":"X"})";  // no final newline
    auto r = sf::parse_catalog_jsonl(text, "shop.jsonl");
    REQUIRE(r);
    REQUIRE(r.value().products.size() == 2);
    CHECK(r.value().products[0].line == 3);
    CHECK(r.value().products[1].line == 6);
  }
  SECTION("an error after blank lines names the right line") {
    auto e = parse_err(std::string("\n\n") + k_good_line + "\r\n\r\n{\"id\":");
    CHECK(e.code == sf::status::parse_error);
    CHECK(e.message.rfind("shop.jsonl:5: invalid JSON: ", 0) == 0);
  }
}

TEST_CASE("catalog: every error names source, line, field and reason", "[catalog]") {
  const std::string good = std::string(k_good_line) + "\n";
  struct error_case {
    const char* line;
    const char* message;  // expected message after "shop.jsonl:2: " (exact unless prefix_only)
    bool prefix_only;
  };
  const error_case cases[] = {
      {R"({"id":"b","title":"B","category":"X","price":"1.5"})", "field 'price': expected a number, got string", false},
      {R"({"id":"b","title":"B","category":"X","price":-2})", "field 'price': negative price -2", false},
      {R"({"id":"b","title":"B","category":"X","price":1e400})", "field 'price': invalid or out-of-range number",
       false},
      {R"({"id":7,"title":"B","category":"X"})", "field 'id': expected a string, got number", false},
      {R"({"id":"","title":"B","category":"X"})", "field 'id': empty string", false},
      {R"({"title":"B","category":"X"})", "field 'id': missing", false},
      {R"({"id":"b","category":"X"})", "field 'title': missing", false},
      {R"({"id":"b","title":"B"})", "field 'category': missing", false},
      {R"({"id":"b","title":null,"category":"X"})", "field 'title': expected a string, got null", false},
      {R"({"id":"b","title":"B","category":["X"]})", "field 'category': expected a string, got array", false},
      {R"({"id":"b","title":"B","category":""})", "field 'category': empty category", false},
      {R"({"id":"b","title":"B","category":"/X"})", "field 'category': leading or trailing '/' in \"/X\"", false},
      {R"({"id":"b","title":"B","category":"X/"})", "field 'category': leading or trailing '/' in \"X/\"", false},
      {R"({"id":"b","title":"B","category":"X//Y"})", "field 'category': empty segment in \"X//Y\"", false},
      {R"({"id":"b","title":"B","category":"X","currency":1})", "field 'currency': expected a string, got number",
       false},
      {R"({"id":"b","title":"B","category":"X","url":true})", "field 'url': expected a string, got boolean", false},
      {R"({"id":"b","title":"B","category":"X","images":"a.jpg"})", "field 'images': expected an array, got string",
       false},
      {R"({"id":"b","title":"B","category":"X","images":["a",{}]})", "field 'images'[1]: expected a string, got object",
       false},
      {R"({"id":"b","title":"B","category":"X","embedding":{}})", "field 'embedding': expected an array, got object",
       false},
      {R"({"id":"b","title":"B","category":"X","embedding":[1,"2"]})",
       "field 'embedding'[1]: expected a number, got string", false},
      {R"({"id":"b","title":"B","category":"X","embedding":[]})", "field 'embedding': empty array", false},
      {R"({"id":"b","title":"B","category":"X","embedding":[1,2,1e39]})", "field 'embedding'[2]: not a finite float",
       false},
      {R"({"id":"b","title":"B","category":"X","embedding":[-1e39]})", "field 'embedding'[0]: not a finite float",
       false},
      {R"({"id":"b","title":"B","category":"X","embedding":[1e400]})", "field 'embedding'[0]: not a finite float",
       false},
      {R"({"id":"b","title":"B","category":"X","title":"C"})", "field 'title': duplicate key", false},
      {R"(["id","b"])", "expected a JSON object, got array", false},
      {R"("just a string")", "expected a JSON object, got string", false},
      {R"({"id":"b","title":"B","category":"X"} {"id":"c"})", "invalid JSON: trailing content after the object",
       false},
      {R"({"id":"b","title":"B","category":"X"}})", "invalid JSON: ", true},
      {R"({"id":"b","title":"B","category":"X")", "invalid JSON: ", true},
      {R"({"id":"b","title":"B,"category":"X"})", "invalid JSON: ", true},
      {R"({"id":"b" "title":"B"})", "invalid JSON: ", true},
      {R"({"id":"b","title":"\q","category":"X"})", "field 'title': invalid JSON: ", true},
      {R"({"id":"b","title":"B","category":"X","extra":tru})", "field 'extra': invalid JSON: invalid literal", false},
      {R"({"id":"b","title":"B","category":"X","extra":[1,{"k":nul}]})", "field 'extra': invalid JSON: invalid literal",
       false},
      {R"({"id":"b","title":"B","category":"X","extra":{"k":"\x"}})", "field 'extra': invalid JSON: ", true},
      // SIMD kernels see an unclosed string, the fallback (WASM) kernel a bad key: both errors.
      {R"({"id":"b","title":"B","category":"X","extra":{ea": [1]}})", "", true},
      {R"({"id":"b","title":"B","category":"X","extra":1.2.3})", "field 'extra': invalid or out-of-range number",
       false},
      {"not json", "invalid JSON: ", true},
      {"true", "expected a JSON object, got boolean", false},
      {"null", "expected a JSON object, got null", false},
      {"  -12.5e3 ", "expected a JSON object, got number", false},
  };
  for (const error_case& c : cases) {
    INFO(c.line);
    auto e = parse_err(good + c.line + "\n" + good);
    CHECK(e.code == sf::status::parse_error);
    const std::string expected = std::string("shop.jsonl:2: ") + c.message;
    if (c.prefix_only) {
      CHECK(e.message.rfind(expected, 0) == 0);
      CHECK(e.message.size() > expected.size());
    } else {
      CHECK(e.message == expected);
    }
  }
}

TEST_CASE("catalog: invalid JSON carries simdjson's message", "[catalog]") {
  auto e = parse_err("{\"id\": tru}\n");
  CHECK(e.code == sf::status::parse_error);
  CHECK(e.message.rfind("shop.jsonl:1: field 'id': ", 0) == 0);
  auto u = parse_err(std::string("{\"id\":\"a\xff\",\"title\":\"B\",\"category\":\"X\"}"));
  CHECK(u.code == sf::status::parse_error);
  CHECK(contains(u.message, "shop.jsonl:1: invalid JSON: "));
  CHECK(contains(u.message, "UTF-8"));
}

TEST_CASE("catalog: duplicate ids", "[catalog]") {
  const std::string text = std::string(k_good_line) + "\n" +                // line 1: id a
                           R"({"id":"sku-1","title":"T","category":"C"})" + "\n" +  // line 2
                           "\n" + R"({"id":"b","title":"T","category":"C"})" + "\n" +  // line 4
                           R"({"id":"sku-1","title":"T2","category":"C"})" + "\n";    // line 5
  auto e = parse_err(text);
  CHECK(e.code == sf::status::parse_error);
  CHECK(e.message == "shop.jsonl:5: field 'id': duplicate id \"sku-1\" (first on line 2)");

  sf::catalog_options opt;
  opt.skip_bad = true;
  auto r = sf::parse_catalog_jsonl(text, "shop.jsonl", opt);
  REQUIRE(r);
  REQUIRE(r.value().products.size() == 3);
  CHECK(r.value().products[1].title == "T");  // the first one wins
  REQUIRE(r.value().skipped.size() == 1);
  CHECK(r.value().skipped[0].line == 5);
  CHECK(r.value().skipped[0].reason == e.message);

  // Ids are compared after unescaping; quotes in the id are escaped in the message.
  auto q = parse_err(R"({"id":"x\"y","title":"T","category":"C"})" "\n" R"({"id":"x\u0022y","title":"T","category":"C"})");
  CHECK(q.message == "shop.jsonl:2: field 'id': duplicate id \"x\\\"y\" (first on line 1)");
}

TEST_CASE("catalog: embedding dimensions", "[catalog]") {
  const std::string text = std::string(k_good_line) + "\n" +
                           R"({"id":"b","title":"T","category":"C","embedding":[1,2,3,4]})" + "\n" +
                           R"({"id":"c","title":"T","category":"C"})" + "\n" +
                           R"({"id":"d","title":"T","category":"C","embedding":[1,2,3]})" + "\n";
  SECTION("the first embedding fixes the dimension") {
    auto e = parse_err(text);
    CHECK(e.code == sf::status::parse_error);
    CHECK(e.message == "shop.jsonl:4: field 'embedding': dimension 3, expected 4 (from line 2)");
  }
  SECTION("expected_dim from the options") {
    sf::catalog_options opt;
    opt.expected_dim = 3;
    auto e = parse_err(text, opt);
    CHECK(e.message == "shop.jsonl:2: field 'embedding': dimension 4, expected 3 (from options)");
  }
  SECTION("a skipped line does not fix the dimension") {
    sf::catalog_options opt;
    opt.skip_bad = true;
    const std::string t2 = R"({"id":"a","title":"T","embedding":[1,2]})" "\n" + text;
    auto r = sf::parse_catalog_jsonl(t2, "shop.jsonl", opt);
    REQUIRE(r);
    CHECK(r.value().embedding_dim == 4);
    REQUIRE(r.value().products.size() == 3);
    REQUIRE(r.value().skipped.size() == 2);
    CHECK(r.value().skipped[0].reason == "shop.jsonl:1: field 'category': missing");
    CHECK(r.value().skipped[1].reason == "shop.jsonl:5: field 'embedding': dimension 3, expected 4 (from line 3)");
  }
  SECTION("no embeddings at all") {
    auto r = sf::parse_catalog_jsonl(k_good_line, "shop.jsonl");
    REQUIRE(r);
    CHECK(r.value().embedding_dim == 0);
  }
  SECTION("values at the edge of float range") {
    auto r = sf::parse_catalog_jsonl(
        R"({"id":"a","title":"T","category":"C","embedding":[3.4028234e38,-3.4028234e38,1e-50,0]})", "s");
    REQUIRE(r);
    CHECK(r.value().products[0].embedding[0] == std::numeric_limits<float>::max());
    CHECK(r.value().products[0].embedding[2] == 0.0f);
  }
}

TEST_CASE("catalog: skip_bad records every bad line and continues", "[catalog]") {
  const std::string text = std::string(k_good_line) + "\n" +                                  // 1 ok
                           "{oops\n" +                                                          // 2 bad JSON
                           R"({"id":"b","title":"T","category":"C","price":"x"})" + "\n" +      // 3 bad price
                           R"({"id":"c","title":"T","category":"C"})" + "\r\n" +                 // 4 ok
                           "\n" +                                                               // 5 blank
                           R"({"id":"d","title":"T","category":"C/","price":1})" + "\n" +        // 6 bad category
                           R"({"id":"e","title":"T","category":"C","embedding":[1,2]})" + "\n" + // 7 ok
                           R"({"id":"f","title":"T","category":"C","embedding":[1,1e39]})" + "\n";  // 8 bad
  sf::catalog_options opt;
  opt.skip_bad = true;
  auto r = sf::parse_catalog_jsonl(text, "shop.jsonl", opt);
  REQUIRE(r);
  const sf::catalog& c = r.value();
  REQUIRE(c.products.size() == 3);
  CHECK(c.products[0].id == "a");
  CHECK(c.products[1].id == "c");
  CHECK(c.products[2].id == "e");
  CHECK(c.embedding_dim == 2);
  REQUIRE(c.skipped.size() == 4);
  CHECK(c.skipped[0].line == 2);
  CHECK(c.skipped[0].reason.rfind("shop.jsonl:2: invalid JSON: ", 0) == 0);
  CHECK(c.skipped[1].line == 3);
  CHECK(c.skipped[1].reason == "shop.jsonl:3: field 'price': expected a number, got string");
  CHECK(c.skipped[2].line == 6);
  CHECK(c.skipped[2].reason == "shop.jsonl:6: field 'category': leading or trailing '/' in \"C/\"");
  CHECK(c.skipped[3].line == 8);
  CHECK(c.skipped[3].reason == "shop.jsonl:8: field 'embedding'[1]: not a finite float");

  // Without skip_bad the first bad line is the error, with the same text.
  auto e = parse_err(text);
  CHECK(e.message == c.skipped[0].reason);
}

TEST_CASE("catalog: limits", "[catalog]") {
  sf::catalog_options opt;
  opt.limits.max_line_bytes = 100;
  opt.limits.max_products = 2;
  opt.limits.max_embedding_dim = 4;
  opt.limits.max_images = 2;

  SECTION("line length") {
    const std::string longline = R"({"id":"b","title":")" + std::string(100, 'x') + R"(","category":"C"})";
    auto e = parse_err(std::string(k_good_line) + "\n" + longline + "\n", opt);
    CHECK(e.code == sf::status::limit_exceeded);
    CHECK(e.message == "shop.jsonl:2: line is " + std::to_string(longline.size()) +
                           " bytes, limit is 100 (max_line_bytes)");
    opt.skip_bad = true;
    auto r = sf::parse_catalog_jsonl(std::string(k_good_line) + "\n" + longline + "\n", "shop.jsonl", opt);
    REQUIRE(r);
    CHECK(r.value().products.size() == 1);
    REQUIRE(r.value().skipped.size() == 1);
    CHECK(r.value().skipped[0].reason == e.message);
  }
  SECTION("exactly max_line_bytes is fine, CR not counted") {
    std::string line = R"({"id":"b","title":"","category":"C"})";
    line.insert(line.find(R"("","c)") + 1, 100 - line.size(), 'y');
    REQUIRE(line.size() == 100);
    auto r = sf::parse_catalog_jsonl(line + "\r\n", "shop.jsonl", opt);
    REQUIRE(r);
  }
  SECTION("product count is not skippable") {
    const std::string text = std::string(k_good_line) + "\n" + R"({"id":"b","title":"T","category":"C"})" + "\n" +
                             "bad line\n" + R"({"id":"c","title":"T","category":"C"})" + "\n";
    auto e = parse_err(text, opt);  // line 3 fails first without skip_bad
    CHECK(e.code == sf::status::parse_error);
    opt.skip_bad = true;
    auto e2 = parse_err(text, opt);
    CHECK(e2.code == sf::status::limit_exceeded);
    CHECK(e2.message == "shop.jsonl:4: more than 2 products (max_products)");
    // Exactly at the limit is fine.
    auto r = sf::parse_catalog_jsonl(text.substr(0, text.find("bad line")), "shop.jsonl", opt);
    REQUIRE(r);
    CHECK(r.value().products.size() == 2);
  }
  SECTION("embedding dimension") {
    auto e = parse_err(R"({"id":"b","title":"T","category":"C","embedding":[1,2,3,4,5]})", opt);
    CHECK(e.code == sf::status::limit_exceeded);
    CHECK(e.message == "shop.jsonl:1: field 'embedding': more than 4 values (max_embedding_dim)");
    auto r = sf::parse_catalog_jsonl(R"({"id":"b","title":"T","category":"C","embedding":[1,2,3,4]})", "s", opt);
    REQUIRE(r);
    CHECK(r.value().embedding_dim == 4);
  }
  SECTION("images") {
    auto e = parse_err(R"({"id":"b","title":"T","category":"C","images":["a","b","c"]})", opt);
    CHECK(e.code == sf::status::limit_exceeded);
    CHECK(e.message == "shop.jsonl:1: field 'images': more than 2 images (max_images)");
  }
}

TEST_CASE("catalog: unicode is preserved byte for byte", "[catalog]") {
  const std::string title = "Äpfel – 苹果 🍎 \xe2\x80\x8b end";  // includes a zero-width space
  const std::string text = R"({"id":"ü-1","title":")" + title +
                           R"(","category":"Obst/Äpfel","images":["bilder/äpfel.jpg"]})" "\n" +
                           R"({"id":"e","title":"caf\u00e9 \ud83c\udf4e \u0000x","category":"C"})";
  auto r = sf::parse_catalog_jsonl(text, "shop.jsonl");
  REQUIRE(r);
  REQUIRE(r.value().products.size() == 2);
  CHECK(r.value().products[0].id == "ü-1");
  CHECK(r.value().products[0].title == title);
  CHECK(r.value().products[0].category == "Obst/Äpfel");
  CHECK(r.value().products[0].images[0] == "bilder/äpfel.jpg");
  CHECK(r.value().products[1].title == bytes("caf\xc3\xa9 \xf0\x9f\x8d\x8e \0x"));
}

TEST_CASE("catalog: hostile bytes never crash", "[catalog]") {
  std::string deep = "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"x\":" + std::string(5000, '[') + "}";
  std::string deep_closed = "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"x\":" + std::string(5000, '[') +
                            std::string(5000, ']') + "}";
  std::string deep_emb = "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"embedding\":" + std::string(3000, '[') +
                         std::string(3000, ']') + "}";
  const std::string inputs[] = {
      bytes("\0"),
      bytes("{\"id\":\"a\0b\",\"title\":\"T\",\"category\":\"C\"}"),
      bytes("\0\0\0\n\0{"),
      "\xff\xfe\xfd",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"price\":" + std::string(400, '9') + "}",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"price\":1" + std::string(400, '0') + "e-400}",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"embedding\":[" + std::string(300, '7') + "]}",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"price\":-}",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"price\":1e}",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"price\":12",
      "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"price\":tru",
      "{\"id\":\"a",
      "{\"id\"",
      "{",
      "}",
      "[",
      "\"",
      "\\",
      "123",
      "true",
      "null",
      "{}",
      deep,
      deep_closed,
      deep_emb,
  };
  for (const std::string& in : inputs) {
    for (bool skip : {false, true}) {
      sf::catalog_options opt;
      opt.skip_bad = skip;
      auto r = sf::parse_catalog_jsonl(in, "shop.jsonl", opt);
      if (!r) {
        CHECK(r.err().message.rfind("shop.jsonl:", 0) == 0);
      } else {
        for (const auto& s : r.value().skipped) CHECK(s.reason.rfind("shop.jsonl:", 0) == 0);
      }
    }
  }
  // Unknown fields must be valid JSON nested at most 64 deep (the field itself is level 1).
  auto r = sf::parse_catalog_jsonl(deep_closed, "shop.jsonl");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == sf::status::limit_exceeded);
  CHECK(r.err().message == "shop.jsonl:1: field 'x': nested deeper than 64");
  const std::string ok64 = "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"x\":" + std::string(62, '[') +
                           "{\"k\":1}" + std::string(62, ']') + "}";  // 62 arrays + object + number = 64
  CHECK(sf::parse_catalog_jsonl(ok64, "shop.jsonl"));
  const std::string deep65 = "{\"id\":\"a\",\"title\":\"T\",\"category\":\"C\",\"x\":" + std::string(63, '[') +
                             "{\"k\":1}" + std::string(63, ']') + "}";
  CHECK(sf::parse_catalog_jsonl(deep65, "shop.jsonl").err().code == sf::status::limit_exceeded);
  const std::string deep_emb_err = sf::parse_catalog_jsonl(deep_emb, "shop.jsonl").err().message;
  CHECK(deep_emb_err == "shop.jsonl:1: field 'embedding'[0]: expected a number, got array");
}

TEST_CASE("catalog: mutated catalogs parse or fail cleanly", "[catalog]") {
  const std::string base =
      R"({"id": "sku-1", "title": "Äpfel 🍎", "category": "Fruit/Apple", "price": 1.5, "currency": "EUR",)"
      R"( "url": "https://s.example/1", "images": ["a.jpg", "b.jpg"], "embedding": [0.5, -1, 2e-3, 4]})"
      "\n"
      R"({"id": "sku-2", "title": "Pear \"x\" \u00e9", "category": "Fruit/Pear", "embedding": [1, 2, 3, 4],)"
      R"( "other": {"a": [true, false, null, 1.0e10]}})"
      "\r\n\n"
      R"({"id": "sku-3", "title": "Kiwi", "category": "Fruit", "price": 0, "images": []})"
      "\n";
  REQUIRE(sf::parse_catalog_jsonl(base, "shop.jsonl"));

  static const char k_garbage[] = "{}[]\",:\\0123456789.eE+-tfnul \n\r\t\x00\x80\xbf\xc3\xe2\xf0\xff";
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {  // xorshift64*: deterministic across platforms
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
  };
  sf::catalog_options small;
  small.limits.max_line_bytes = 180;
  small.limits.max_images = 1;
  size_t ok = 0, failed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const size_t at = next() % s.size();
      switch (next() % 5) {
        case 0: s[at] = static_cast<char>(s[at] ^ (1u << (next() % 8))); break;  // bit flip
        case 1: s[at] = k_garbage[next() % (sizeof k_garbage - 1)]; break;           // byte swap
        case 2: s.resize(at); break;                                                  // truncation
        case 3: s.insert(at, 1 + next() % 6, k_garbage[next() % (sizeof k_garbage - 1)]); break;
        case 4: s.erase(at, 1 + next() % 8); break;
      }
    }
    sf::catalog_options opt = (iter % 3 == 0) ? small : sf::catalog_options{};
    opt.skip_bad = (iter % 2 == 0);
    auto r = sf::parse_catalog_jsonl(s, "shop.jsonl", opt);
    if (r) {
      ++ok;
      for (const auto& sk : r.value().skipped) REQUIRE_FALSE(sk.reason.empty());
      for (const auto& p : r.value().products) REQUIRE_FALSE(p.id.empty());
    } else {
      ++failed;
      REQUIRE_FALSE(r.err().message.empty());
      REQUIRE(r.err().code != sf::status::ok);
    }
  }
  CHECK(ok + failed == 4000);
  CHECK(failed > 0);
}
