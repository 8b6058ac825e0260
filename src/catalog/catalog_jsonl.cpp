// JSONL catalog reader (see catalog.h): one simdjson On Demand parser reused for every
// line; each line is copied into a buffer padded with SIMDJSON_PADDING spaces so the
// parser never reads past memory we own, whatever bytes the input holds.
//
// Error text is "<source>:<line>: field '<name>': <reason>" (or without the field part
// when the line as a whole is at fault); with skip_bad the same text lands in
// catalog::skipped. Only the product-count limit stops a skip_bad parse.
//
// Unknown fields are ignored but must be valid JSON nested at most 64 deep. A UTF-8
// byte order mark before the first line is skipped.
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "catalog/catalog.h"

namespace sf {
namespace {

namespace od = simdjson::ondemand;

// A line-level failure: status plus the reason without the "<source>:<line>: " prefix.
struct line_error {
  status code = status::ok;
  std::string reason;
};

const char* json_type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "array";
    case od::json_type::object: return "object";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "boolean";
    case od::json_type::null: return "null";
  }
  return "unknown";
}

// A value quoted for an error message: escapes quotes, backslashes and control bytes,
// cut at 64 bytes (on a UTF-8 boundary) so one message stays one short line.
std::string quote_value(std::string_view s) {
  constexpr size_t k_max = 64;
  bool cut = false;
  if (s.size() > k_max) {
    size_t n = k_max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += cut ? "\"..." : "\"";
  return out;
}

std::string field_prefix(std::string_view name) {
  std::string s = "field '";
  s += name;
  s += "'";
  return s;
}

std::string element_prefix(std::string_view name, size_t i) {
  return field_prefix(name) + "[" + std::to_string(i) + "]";
}

line_error fail(status code, std::string reason) { return line_error{code, std::move(reason)}; }

line_error invalid_json(const std::string& where, simdjson::error_code e) {
  std::string r = where.empty() ? std::string() : where + ": ";
  r += "invalid JSON: ";
  r += simdjson::error_message(e);
  return fail(status::parse_error, std::move(r));
}

// "expected a <what>, got <type>" for a value whose type is wrong (or invalid JSON when
// even the type cannot be told).
line_error wrong_type(const std::string& where, const char* what, od::value& v) {
  od::json_type t;
  if (auto e = v.type().get(t)) return invalid_json(where, e);
  return fail(status::parse_error, where + ": expected " + what + ", got " + json_type_name(t));
}

line_error read_string(od::value& v, const std::string& where, std::string& out) {
  std::string_view sv;
  auto e = v.get_string().get(sv);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(where, "a string", v);
  if (e) return invalid_json(where, e);
  out.assign(sv.data(), sv.size());
  return {};
}

// A number as double; NUMBER_ERROR covers malformed numbers and ones outside double range.
line_error read_number(od::value& v, const std::string& where, double& out) {
  auto e = v.get_double().get(out);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(where, "a number", v);
  if (e == simdjson::NUMBER_ERROR) return fail(status::parse_error, where + ": invalid or out-of-range number");
  if (e) return invalid_json(where, e);
  return {};
}

std::string format_number(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

line_error check_category(std::string_view c, const std::string& where) {
  if (c.empty()) return fail(status::parse_error, where + ": empty category");
  if (c.front() == '/' || c.back() == '/')
    return fail(status::parse_error, where + ": leading or trailing '/' in " + quote_value(c));
  if (c.find("//") != std::string_view::npos)
    return fail(status::parse_error, where + ": empty segment in " + quote_value(c));
  return {};
}

line_error read_images(od::value& v, const catalog_limits& lim, std::vector<std::string>& out) {
  static const std::string where = field_prefix("images");
  od::array arr;
  auto e = v.get_array().get(arr);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(where, "an array", v);
  if (e) return invalid_json(where, e);
  size_t i = 0;
  for (auto el : arr) {
    od::value ev;
    if (auto e2 = std::move(el).get(ev)) return invalid_json(element_prefix("images", i), e2);
    if (i >= lim.max_images)
      return fail(status::limit_exceeded,
                  where + ": more than " + std::to_string(lim.max_images) + " images (max_images)");
    std::string s;
    line_error le = read_string(ev, element_prefix("images", i), s);
    if (le.code != status::ok) return le;
    out.push_back(std::move(s));
    ++i;
  }
  return {};
}

line_error read_embedding(od::value& v, const catalog_limits& lim, size_t dim_hint, std::vector<float>& out) {
  static const std::string where = field_prefix("embedding");
  od::array arr;
  auto e = v.get_array().get(arr);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(where, "an array", v);
  if (e) return invalid_json(where, e);
  if (dim_hint > 0 && dim_hint <= lim.max_embedding_dim) out.reserve(dim_hint);
  constexpr double k_float_max = static_cast<double>(std::numeric_limits<float>::max());
  size_t i = 0;
  for (auto el : arr) {
    od::value ev;
    if (auto e2 = std::move(el).get(ev)) return invalid_json(element_prefix("embedding", i), e2);
    if (i >= lim.max_embedding_dim)
      return fail(status::limit_exceeded, where + ": more than " + std::to_string(lim.max_embedding_dim) +
                                              " values (max_embedding_dim)");
    double d;
    e = ev.get_double().get(d);
    if (e == simdjson::NUMBER_ERROR || (!e && !(std::fabs(d) <= k_float_max)))
      return fail(status::parse_error, element_prefix("embedding", i) + ": not a finite float");
    if (e == simdjson::INCORRECT_TYPE) return wrong_type(element_prefix("embedding", i), "a number", ev);
    if (e) return invalid_json(element_prefix("embedding", i), e);
    out.push_back(static_cast<float>(d));
    ++i;
  }
  if (out.empty()) return fail(status::parse_error, where + ": empty array");
  return {};
}

// Unknown fields are validated, not just skipped: On Demand's skipping trusts the
// structural index, whose view of malformed input differs between its SIMD kernels and
// the fallback kernel used in WASM, so only full validation accepts the same lines
// everywhere. Nesting is bounded to keep the recursion small.
constexpr int k_max_unknown_depth = 64;

line_error validate_value(od::value& v, const std::string& where, int depth) {
  if (depth > k_max_unknown_depth)
    return fail(status::limit_exceeded, where + ": nested deeper than " + std::to_string(k_max_unknown_depth));
  od::json_type t;
  if (auto e = v.type().get(t)) return invalid_json(where, e);
  switch (t) {
    case od::json_type::array: {
      od::array arr;
      if (auto e = v.get_array().get(arr)) return invalid_json(where, e);
      for (auto el : arr) {
        od::value ev;
        if (auto e = std::move(el).get(ev)) return invalid_json(where, e);
        line_error le = validate_value(ev, where, depth + 1);
        if (le.code != status::ok) return le;
      }
      return {};
    }
    case od::json_type::object: {
      od::object obj;
      if (auto e = v.get_object().get(obj)) return invalid_json(where, e);
      for (auto fr : obj) {
        od::field f;
        if (auto e = std::move(fr).get(f)) return invalid_json(where, e);
        std::string_view key;
        if (auto e = f.unescaped_key().get(key)) return invalid_json(where, e);
        od::value fv = f.value();
        line_error le = validate_value(fv, where, depth + 1);
        if (le.code != status::ok) return le;
      }
      return {};
    }
    case od::json_type::number: {
      double d;
      if (auto e = v.get_double().get(d)) {
        if (e == simdjson::NUMBER_ERROR) return fail(status::parse_error, where + ": invalid or out-of-range number");
        return invalid_json(where, e);
      }
      return {};
    }
    case od::json_type::string: {
      std::string_view sv;
      if (auto e = v.get_string().get(sv)) return invalid_json(where, e);
      return {};
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return fail(status::parse_error, where + ": invalid JSON: invalid literal");
      return {};
    }
    case od::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null)
        return fail(status::parse_error, where + ": invalid JSON: invalid literal");
      return {};
    }
  }
  return invalid_json(where, simdjson::TAPE_ERROR);
}

enum field_bit : unsigned {
  k_id = 1,
  k_title = 2,
  k_category = 4,
  k_price = 8,
  k_currency = 16,
  k_url = 32,
  k_images = 64,
  k_embedding = 128,
};

// Parses one non-blank line (already in a padded buffer) into `p`. Checks that only
// need the line itself; cross-line checks (ids, dimension) are the caller's.
line_error parse_line(od::parser& parser, simdjson::padded_string_view json, const catalog_limits& lim,
                      size_t dim_hint, product& p) {
  // UTF-8 is checked up front: On Demand's own check differs between its SIMD and
  // fallback (WASM) kernels for bytes in values it skips.
  if (!simdjson::validate_utf8(json.data(), json.length())) return invalid_json("", simdjson::UTF8_ERROR);
  od::document doc;
  if (auto e = parser.iterate(json).get(doc)) return invalid_json("", e);
  od::json_type top;
  if (auto e = doc.type().get(top)) return invalid_json("", e);
  if (top != od::json_type::object) {
    // Tell "nul" (invalid JSON) from "null" (valid JSON, but not an object).
    bool b;
    if (top == od::json_type::null) {
      if (auto e = doc.is_null().get(b); e || !b) return invalid_json("", e ? e : simdjson::N_ATOM_ERROR);
    } else if (top == od::json_type::boolean) {
      if (auto e = doc.get_bool().get(b)) return invalid_json("", e);
    }
    return fail(status::parse_error, std::string("expected a JSON object, got ") + json_type_name(top));
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) return invalid_json("", e);

  unsigned seen = 0;
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return invalid_json("", e);
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) return invalid_json("", e);
    unsigned bit = 0;
    if (key == "id") bit = k_id;
    else if (key == "title") bit = k_title;
    else if (key == "category") bit = k_category;
    else if (key == "price") bit = k_price;
    else if (key == "currency") bit = k_currency;
    else if (key == "url") bit = k_url;
    else if (key == "images") bit = k_images;
    else if (key == "embedding") bit = k_embedding;
    const std::string where = field_prefix(key);
    if (bit == 0) {  // unknown field: validated, then ignored
      od::value v = f.value();
      line_error le = validate_value(v, where, 1);
      if (le.code != status::ok) return le;
      continue;
    }
    if (seen & bit) return fail(status::parse_error, where + ": duplicate key");
    seen |= bit;
    od::value v = f.value();
    line_error le;
    switch (bit) {
      case k_id:
        le = read_string(v, where, p.id);
        if (le.code == status::ok && p.id.empty()) le = fail(status::parse_error, where + ": empty string");
        break;
      case k_title: le = read_string(v, where, p.title); break;
      case k_category:
        le = read_string(v, where, p.category);
        if (le.code == status::ok) le = check_category(p.category, where);
        break;
      case k_price:
        le = read_number(v, where, p.price);
        if (le.code == status::ok && !(p.price >= 0))
          le = fail(status::parse_error, where + ": negative price " + format_number(p.price));
        p.has_price = true;
        break;
      case k_currency: le = read_string(v, where, p.currency); break;
      case k_url: le = read_string(v, where, p.url); break;
      case k_images: le = read_images(v, lim, p.images); break;
      case k_embedding: le = read_embedding(v, lim, dim_hint, p.embedding); break;
      default: break;
    }
    if (le.code != status::ok) return le;
  }
  // Anything after the closing brace is an error (OUT_OF_BOUNDS means "at the end").
  const char* rest = nullptr;
  auto e = doc.current_location().get(rest);
  if (e == simdjson::SUCCESS) return fail(status::parse_error, "invalid JSON: trailing content after the object");
  if (e != simdjson::OUT_OF_BOUNDS) return invalid_json("", e);

  if (!(seen & k_id)) return fail(status::parse_error, "field 'id': missing");
  if (!(seen & k_title)) return fail(status::parse_error, "field 'title': missing");
  if (!(seen & k_category)) return fail(status::parse_error, "field 'category': missing");
  return {};
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

}  // namespace

result<catalog> parse_catalog_jsonl(std::string_view text, std::string_view source_name,
                                    const catalog_options& opt) {
  const catalog_limits& lim = opt.limits;
  catalog cat;
  od::parser parser;
  std::string buf;  // the current line followed by SIMDJSON_PADDING spaces
  std::unordered_map<std::string, size_t> id_line;
  size_t dim = opt.expected_dim;  // 0 until known
  size_t dim_line = 0;            // line that fixed `dim` (0: from options)

  size_t pos = 0, line_no = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // a UTF-8 byte order mark before line 1
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) continue;

    auto prefix = [&] { return std::string(source_name) + ":" + std::to_string(line_no) + ": "; };
    line_error le;
    product p;
    if (line.size() > lim.max_line_bytes) {
      le = fail(status::limit_exceeded, "line is " + std::to_string(line.size()) + " bytes, limit is " +
                                            std::to_string(lim.max_line_bytes) + " (max_line_bytes)");
    } else {
      if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING) buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(&buf[0], line.data(), line.size());
      std::memset(&buf[line.size()], ' ', simdjson::SIMDJSON_PADDING);
      simdjson::padded_string_view json(buf.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING);
      le = parse_line(parser, json, lim, dim, p);
    }
    if (le.code == status::ok && !p.embedding.empty() && dim != 0 && p.embedding.size() != dim) {
      std::string from = dim_line ? "line " + std::to_string(dim_line) : std::string("options");
      le = fail(status::parse_error, "field 'embedding': dimension " + std::to_string(p.embedding.size()) +
                                         ", expected " + std::to_string(dim) + " (from " + from + ")");
    }
    if (le.code == status::ok) {
      auto it = id_line.find(p.id);
      if (it != id_line.end())
        le = fail(status::parse_error, "field 'id': duplicate id " + quote_value(p.id) + " (first on line " +
                                           std::to_string(it->second) + ")");
    }
    if (le.code != status::ok) {
      std::string msg = prefix() + le.reason;
      if (!opt.skip_bad) return make_error(le.code, std::move(msg));
      cat.skipped.push_back(skipped_line{line_no, std::move(msg)});
      continue;
    }
    if (cat.products.size() >= lim.max_products)
      return make_error(status::limit_exceeded,
                        prefix() + "more than " + std::to_string(lim.max_products) + " products (max_products)");
    if (!p.embedding.empty() && dim == 0) {
      dim = p.embedding.size();
      dim_line = line_no;
    }
    if (!p.embedding.empty()) cat.embedding_dim = dim;
    p.line = line_no;
    id_line.emplace(p.id, line_no);
    cat.products.push_back(std::move(p));
  }
  return cat;
}

}  // namespace sf
