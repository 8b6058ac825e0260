// Model manifest parser (see manifest.h). One simdjson On Demand pass over a padded copy
// of the text; every value's position is taken from its raw token (a pointer into that
// copy) before it is read, so errors can name line and column. Field paths are built as
// the parser descends ("input.mean[2]").
#include "model/manifest.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace sf {

const char* model_kind_name(model_kind k) noexcept {
  switch (k) {
    case model_kind::embedding: return "embedding";
    case model_kind::yolox: return "yolox";
    case model_kind::yolo: return "yolo";
    case model_kind::yolov8: return "yolov8";
    case model_kind::centernet: return "centernet";
  }
  return "unknown";
}

const char* tensor_layout_name(tensor_layout l) noexcept {
  switch (l) {
    case tensor_layout::nchw: return "NCHW";
    case tensor_layout::nhwc: return "NHWC";
  }
  return "unknown";
}

const char* color_order_name(color_order c) noexcept {
  switch (c) {
    case color_order::rgb: return "RGB";
    case color_order::bgr: return "BGR";
  }
  return "unknown";
}

namespace {

namespace od = simdjson::ondemand;
using status_t = result<void>;

constexpr size_t k_max_string = 4096;
constexpr size_t k_max_outputs = 16;
constexpr size_t k_max_class_names = 65536;
constexpr size_t k_max_strides = 8;

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

// A value quoted for a message: escapes quotes, backslashes and control bytes, cut at 48 bytes.
std::string quote(std::string_view s) {
  constexpr size_t k_max = 48;
  bool cut = false;
  if (s.size() > k_max) {
    size_t n = k_max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
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

std::string num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

struct ctx {
  std::string_view source;
  const char* base = nullptr;  // start of the padded copy
  size_t size = 0;             // text length
  od::document* doc = nullptr;

  // ":<line>:<col>" for a pointer into the text, empty when it is not.
  std::string where(const char* p) const {
    if (!p || p < base || p > base + size) return {};
    size_t line = 1, col = 1;
    for (const char* q = base; q < p; ++q) {
      if (*q == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return ":" + std::to_string(line) + ":" + std::to_string(col);
  }
  error fail(const char* p, const std::string& path, std::string reason) const {
    std::string m(source);
    m += where(p);
    m += ": ";
    if (!path.empty()) m += "field '" + path + "': ";
    m += reason;
    return make_error(status::parse_error, std::move(m));
  }
  // Invalid JSON found while reading `path`; the position is the parser's, if known.
  error invalid(const std::string& path, simdjson::error_code e) const {
    const char* p = nullptr;
    if (doc) {
      const char* q = nullptr;
      if (!doc->current_location().get(q)) p = q;
    }
    return fail(p, path, std::string("invalid JSON: ") + simdjson::error_message(e));
  }
};

const char* token_of(od::value& v) { return v.raw_json_token().data(); }

error wrong_type(const ctx& c, od::value& v, const std::string& path, const std::string& what) {
  const char* p = token_of(v);
  od::json_type t;
  if (auto e = v.type().get(t)) return c.invalid(path, e);
  return c.fail(p, path, "expected " + what + ", got " + json_type_name(t));
}

status_t read_string(const ctx& c, od::value& v, const std::string& path, std::string& out, bool allow_empty) {
  const char* p = token_of(v);
  std::string_view sv;
  auto e = v.get_string().get(sv);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(c, v, path, "a string");
  if (e) return c.invalid(path, e);
  if (!allow_empty && sv.empty()) return c.fail(p, path, "expected a non-empty string");
  if (sv.size() > k_max_string)
    return c.fail(p, path, "string of " + std::to_string(sv.size()) + " bytes, limit is " + std::to_string(k_max_string));
  out.assign(sv.data(), sv.size());
  return {};
}

status_t read_number(const ctx& c, od::value& v, const std::string& path, double& out) {
  const char* p = token_of(v);
  auto e = v.get_double().get(out);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(c, v, path, "a number");
  if (e == simdjson::NUMBER_ERROR) return c.fail(p, path, "expected a number, got an invalid or out-of-range one");
  if (e) return c.invalid(path, e);
  if (!std::isfinite(out)) return c.fail(p, path, "expected a finite number");
  return {};
}

status_t read_uint(const ctx& c, od::value& v, const std::string& path, uint64_t lo, uint64_t hi, uint32_t& out) {
  const char* p = token_of(v);
  const std::string range = "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  int64_t i = 0;
  auto e = v.get_int64().get(i);
  if (e == simdjson::INCORRECT_TYPE) {
    od::json_type t;
    if (auto e2 = v.type().get(t)) return c.invalid(path, e2);
    if (t == od::json_type::number) return c.fail(p, path, "expected " + range + ", got " + quote(v.raw_json_token()));
    return c.fail(p, path, "expected " + range + ", got " + json_type_name(t));
  }
  if (e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE)
    return c.fail(p, path, "expected " + range + ", got an invalid or out-of-range number");
  if (e) return c.invalid(path, e);
  if (i < 0 || uint64_t(i) < lo || uint64_t(i) > hi) return c.fail(p, path, "expected " + range + ", got " + std::to_string(i));
  out = uint32_t(i);
  return {};
}

status_t read_bool(const ctx& c, od::value& v, const std::string& path, bool& out) {
  auto e = v.get_bool().get(out);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(c, v, path, "true or false");
  if (e) return c.invalid(path, e);
  return {};
}

status_t open_array(const ctx& c, od::value& v, const std::string& path, od::array& arr) {
  auto e = v.get_array().get(arr);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(c, v, path, "an array");
  if (e) return c.invalid(path, e);
  return {};
}

std::string elem(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

status_t read_string_array(const ctx& c, od::value& v, const std::string& path, size_t min_n, size_t max_n,
                           std::vector<std::string>& out) {
  const char* p = token_of(v);
  od::array arr;
  SF_TRY(open_array(c, v, path, arr));
  out.clear();
  size_t i = 0;
  for (auto el : arr) {
    od::value ev;
    if (auto e = std::move(el).get(ev)) return c.invalid(elem(path, i), e);
    if (i >= max_n) return c.fail(token_of(ev), path, "more than " + std::to_string(max_n) + " entries");
    std::string s;
    SF_TRY(read_string(c, ev, elem(path, i), s, false));
    out.push_back(std::move(s));
    ++i;
  }
  if (i < min_n) return c.fail(p, path, "expected at least " + std::to_string(min_n) + " entries, got " + std::to_string(i));
  return {};
}

// Exactly three finite numbers; nonzero: each != 0.
status_t read_float3(const ctx& c, od::value& v, const std::string& path, bool nonzero, std::array<float, 3>& out) {
  const char* p = token_of(v);
  od::array arr;
  SF_TRY(open_array(c, v, path, arr));
  size_t i = 0;
  for (auto el : arr) {
    od::value ev;
    if (auto e = std::move(el).get(ev)) return c.invalid(elem(path, i), e);
    if (i >= 3) return c.fail(token_of(ev), path, "expected 3 numbers (one per channel), got more");
    const char* q = token_of(ev);
    double d;
    SF_TRY(read_number(c, ev, elem(path, i), d));
    if (std::fabs(d) > 1e6) return c.fail(q, elem(path, i), "expected a number in -1e6..1e6, got " + num(d));
    if (nonzero && d == 0) return c.fail(q, elem(path, i), "expected a finite non-zero number, got 0");
    // Checked again as the float it is stored as: a value under ~1e-45 becomes 0 (and simdjson
    // 3.0.1 reads some 70+-digit decimals as such tiny numbers: found by tools/fuzz.sh).
    if (nonzero && float(d) == 0) return c.fail(q, elem(path, i), "expected a non-zero number, got " + num(d) + " (0 as a 32-bit float)");
    out[i] = float(d);
    ++i;
  }
  if (i != 3) return c.fail(p, path, "expected 3 numbers (one per channel), got " + std::to_string(i));
  return {};
}

status_t read_strides(const ctx& c, od::value& v, const std::string& path, std::vector<uint32_t>& out) {
  const char* p = token_of(v);
  od::array arr;
  SF_TRY(open_array(c, v, path, arr));
  out.clear();
  size_t i = 0;
  for (auto el : arr) {
    od::value ev;
    if (auto e = std::move(el).get(ev)) return c.invalid(elem(path, i), e);
    if (i >= k_max_strides) return c.fail(token_of(ev), path, "more than " + std::to_string(k_max_strides) + " strides");
    const char* q = token_of(ev);
    uint32_t s;
    SF_TRY(read_uint(c, ev, elem(path, i), 1, 1024, s));
    if (!out.empty() && s <= out.back())
      return c.fail(q, elem(path, i), "expected strides in increasing order, got " + std::to_string(s) + " after " +
                                          std::to_string(out.back()));
    out.push_back(s);
    ++i;
  }
  if (i == 0) return c.fail(p, path, "expected at least 1 stride, got an empty array");
  return {};
}

bool is_hex(char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }

// "": fine; otherwise the reason a model file path is not acceptable.
std::string check_file_path(std::string_view f) {
  if (f.front() == '/') return "expected a relative path, got an absolute one";
  for (char ch : f) {
    if (ch == '\\') return "expected '/' as path separator, got '\\'";
    if (static_cast<unsigned char>(ch) < 0x20) return "control character in path";
  }
  size_t pos = 0;
  while (pos <= f.size()) {
    size_t end = f.find('/', pos);
    if (end == std::string_view::npos) end = f.size();
    if (f.substr(pos, end - pos) == "..") return "'..' is not allowed in the path";
    pos = end + 1;
  }
  return {};
}

template <class Fn>
status_t for_each_field(const ctx& c, od::value& v, const std::string& path, Fn&& fn) {
  od::object obj;
  auto e = v.get_object().get(obj);
  if (e == simdjson::INCORRECT_TYPE) return wrong_type(c, v, path, "an object");
  if (e) return c.invalid(path, e);
  for (auto fr : obj) {
    od::field f;
    if (auto e2 = std::move(fr).get(f)) return c.invalid(path, e2);
    std::string_view key;
    if (auto e2 = f.unescaped_key().get(key)) return c.invalid(path, e2);
    od::value fv = f.value();
    SF_TRY(fn(key, fv));
  }
  return {};
}

enum input_bit : unsigned {
  i_name = 1, i_width = 2, i_height = 4, i_layout = 8, i_color = 16, i_mean = 32, i_std = 64, i_scale = 128,
  i_letterbox = 256, i_pad = 512, i_multiple = 1024, i_max_pixels = 2048,
};

status_t read_input(const ctx& c, od::value& v, model_input& in) {
  const char* obj_p = token_of(v);
  const char* multiple_p = nullptr;
  const char* max_pixels_p = nullptr;
  unsigned seen = 0;
  SF_TRY(for_each_field(c, v, "input", [&](std::string_view key, od::value& fv) -> status_t {
    static const struct { const char* k; unsigned bit; } keys[] = {
        {"name", i_name}, {"width", i_width}, {"height", i_height}, {"layout", i_layout},
        {"color", i_color}, {"mean", i_mean}, {"std", i_std}, {"scale", i_scale},
        {"letterbox", i_letterbox}, {"pad_value", i_pad}, {"size_multiple", i_multiple},
        {"max_pixels", i_max_pixels}};
    unsigned bit = 0;
    for (const auto& k : keys)
      if (key == k.k) bit = k.bit;
    if (!bit) return {};
    const std::string path = "input." + std::string(key);
    const char* p = token_of(fv);
    if (seen & bit) return c.fail(p, path, "duplicate key");
    seen |= bit;
    switch (bit) {
      case i_name: return read_string(c, fv, path, in.name, false);
      case i_width: return read_uint(c, fv, path, 1, 4096, in.width);
      case i_height: return read_uint(c, fv, path, 1, 4096, in.height);
      case i_layout: {
        std::string s;
        SF_TRY(read_string(c, fv, path, s, true));
        if (s == "NCHW") in.layout = tensor_layout::nchw;
        else if (s == "NHWC") in.layout = tensor_layout::nhwc;
        else return c.fail(p, path, "expected \"NCHW\" or \"NHWC\", got " + quote(s));
        return {};
      }
      case i_color: {
        std::string s;
        SF_TRY(read_string(c, fv, path, s, true));
        if (s == "RGB") in.color = color_order::rgb;
        else if (s == "BGR") in.color = color_order::bgr;
        else return c.fail(p, path, "expected \"RGB\" or \"BGR\", got " + quote(s));
        return {};
      }
      case i_mean: return read_float3(c, fv, path, false, in.mean);
      case i_std: return read_float3(c, fv, path, true, in.stddev);
      case i_scale: {
        double d;
        SF_TRY(read_number(c, fv, path, d));
        if (!(d > 0) || d > 1e6) return c.fail(p, path, "expected a number in (0, 1e6], got " + num(d));
        in.scale = d;
        return {};
      }
      case i_letterbox: return read_bool(c, fv, path, in.letterbox);
      case i_multiple: multiple_p = p; return read_uint(c, fv, path, 1, 1024, in.size_multiple);
      case i_max_pixels: max_pixels_p = p; return read_uint(c, fv, path, 1, 4096u * 4096u, in.max_pixels);
      case i_pad: {
        double d;
        SF_TRY(read_number(c, fv, path, d));
        if (!(d >= 0 && d <= 255)) return c.fail(p, path, "expected a number in 0..255, got " + num(d));
        in.pad_value = float(d);
        return {};
      }
      default: return {};
    }
  }));
  if (!(seen & i_name)) return c.fail(obj_p, "input.name", "missing");
  if (!(seen & i_width)) return c.fail(obj_p, "input.width", "missing");
  if (!(seen & i_height)) return c.fail(obj_p, "input.height", "missing");
  if (in.size_multiple) {
    if (in.width % in.size_multiple || in.height % in.size_multiple)
      return c.fail(multiple_p, "input.size_multiple",
                    std::to_string(in.size_multiple) + " does not divide the input size " + std::to_string(in.width) +
                        "x" + std::to_string(in.height));
  }
  if (in.max_pixels && !in.size_multiple) return c.fail(max_pixels_p, "input.max_pixels", "needs \"size_multiple\"");
  return {};
}

enum top_bit : unsigned {
  t_version = 1, t_name = 2, t_file = 4, t_sha = 8, t_licence = 16, t_url = 32, t_notes = 64, t_input = 128,
  t_outputs = 256, t_kind = 512, t_classes = 1024, t_dim = 2048, t_strides = 4096, t_ostride = 8192,
  t_pooling = 16384,
};

}  // namespace

result<model_manifest> parse_model_manifest(std::string_view json, std::string_view source_name) {
  const std::string src = source_name.empty() ? std::string("<manifest>") : std::string(source_name);
  if (json.size() > k_max_manifest_bytes)
    return make_error(status::limit_exceeded, src + ": manifest is " + std::to_string(json.size()) +
                                                  " bytes, limit is " + std::to_string(k_max_manifest_bytes));
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  ctx c;
  c.source = src;
  c.base = padded.data();
  c.size = json.size();
  if (auto e = parser.iterate(padded).get(doc)) return c.invalid("", e);
  c.doc = &doc;
  od::value root;
  {
    od::json_type t;
    if (auto e = doc.type().get(t)) return c.invalid("", e);
    if (t != od::json_type::object) return c.fail(nullptr, "", std::string("expected a JSON object, got ") + json_type_name(t));
    if (auto e = doc.get_value().get(root)) return c.invalid("", e);
  }

  model_manifest m;
  unsigned seen = 0;
  const char* pooling_p = nullptr;
  SF_TRY(for_each_field(c, root, "", [&](std::string_view key, od::value& fv) -> status_t {
    static const struct { const char* k; unsigned bit; } keys[] = {
        {"manifest_version", t_version}, {"name", t_name}, {"file", t_file}, {"sha256", t_sha},
        {"licence", t_licence}, {"source_url", t_url}, {"notes", t_notes}, {"input", t_input},
        {"outputs", t_outputs}, {"kind", t_kind}, {"class_names", t_classes}, {"embedding_dim", t_dim},
        {"strides", t_strides}, {"output_stride", t_ostride}, {"pooling", t_pooling}};
    unsigned bit = 0;
    for (const auto& k : keys)
      if (key == k.k) bit = k.bit;
    if (!bit) return {};
    const std::string path(key);
    const char* p = token_of(fv);
    if (seen & bit) return c.fail(p, path, "duplicate key");
    seen |= bit;
    switch (bit) {
      case t_version: {
        uint32_t ver;
        SF_TRY(read_uint(c, fv, path, 1, 1, ver));
        return {};
      }
      case t_name: return read_string(c, fv, path, m.name, false);
      case t_file: {
        SF_TRY(read_string(c, fv, path, m.file, false));
        std::string why = check_file_path(m.file);
        if (!why.empty()) return c.fail(p, path, why + ": " + quote(m.file));
        return {};
      }
      case t_sha: {
        SF_TRY(read_string(c, fv, path, m.sha256, true));
        bool ok = m.sha256.size() == 64;
        for (char& ch : m.sha256) {
          ok = ok && is_hex(ch);
          if (ch >= 'A' && ch <= 'F') ch = char(ch - 'A' + 'a');
        }
        if (!ok) return c.fail(p, path, "expected 64 hex digits, got " + quote(m.sha256));
        return {};
      }
      case t_licence: return read_string(c, fv, path, m.licence, false);
      case t_url: return read_string(c, fv, path, m.source_url, true);
      case t_notes: return read_string(c, fv, path, m.notes, true);
      case t_input: return read_input(c, fv, m.input);
      case t_outputs: return read_string_array(c, fv, path, 1, k_max_outputs, m.outputs);
      case t_kind: {
        std::string s;
        SF_TRY(read_string(c, fv, path, s, true));
        if (s == "embedding") m.kind = model_kind::embedding;
        else if (s == "yolox") m.kind = model_kind::yolox;
        else if (s == "yolo") m.kind = model_kind::yolo;
        else if (s == "yolov8") m.kind = model_kind::yolov8;
        else if (s == "centernet") m.kind = model_kind::centernet;
        else return c.fail(p, path, "expected one of \"embedding\", \"yolox\", \"yolo\", \"yolov8\", \"centernet\", got " + quote(s));
        return {};
      }
      case t_classes: return read_string_array(c, fv, path, 0, k_max_class_names, m.class_names);
      case t_dim: return read_uint(c, fv, path, 1, 65536, m.embedding_dim);
      case t_strides: return read_strides(c, fv, path, m.strides);
      case t_ostride: return read_uint(c, fv, path, 1, 64, m.output_stride);
      case t_pooling: {
        std::string s;
        SF_TRY(read_string(c, fv, path, s, true));
        if (s == "global") m.pooling = embedding_pooling::global;
        else if (s == "regions") m.pooling = embedding_pooling::regions;
        else return c.fail(p, path, "expected \"global\" or \"regions\", got " + quote(s));
        pooling_p = p;
        return {};
      }
      default: return {};
    }
  }));
  // Anything after the closing brace is an error (OUT_OF_BOUNDS means "at the end").
  {
    const char* rest = nullptr;
    auto e = doc.current_location().get(rest);
    if (e == simdjson::SUCCESS) return c.fail(rest, "", "invalid JSON: trailing content after the object");
    if (e != simdjson::OUT_OF_BOUNDS) return c.invalid("", e);
  }

  static const struct { unsigned bit; const char* name; } required[] = {
      {t_name, "name"}, {t_file, "file"}, {t_sha, "sha256"}, {t_licence, "licence"},
      {t_input, "input"}, {t_outputs, "outputs"}, {t_kind, "kind"}};
  for (const auto& r : required)
    if (!(seen & r.bit)) return c.fail(nullptr, r.name, "missing");
  if (m.pooling == embedding_pooling::regions && m.kind != model_kind::embedding)
    return c.fail(pooling_p, "pooling", "\"regions\" is for kind \"embedding\" only");
  // Regions are pooled by their place in the frame, so the maps must cover the frame alone: a
  // letterboxed input would put padding in the maps and every box in the wrong cells.
  if (m.pooling == embedding_pooling::regions && m.input.letterbox)
    return c.fail(pooling_p, "pooling", "\"regions\" needs a stretched input (\"input.letterbox\": false)");
  switch (m.kind) {
    case model_kind::embedding:
      if (!(seen & t_dim)) return c.fail(nullptr, "embedding_dim", "missing (required for kind \"embedding\")");
      break;
    case model_kind::yolox:
    case model_kind::yolo:
    case model_kind::yolov8:
      if (!(seen & t_strides)) m.strides = {8, 16, 32};
      break;
    case model_kind::centernet:
      if (!(seen & t_ostride)) m.output_stride = 4;
      break;
  }
  return m;
}

}  // namespace sf

namespace sf {

image::preprocess_options preprocess_options_for(const model_input& in) {
  image::preprocess_options o;
  o.width = int(in.width);
  o.height = int(in.height);
  o.mode = in.letterbox ? image::resize_mode::letterbox : image::resize_mode::stretch;
  o.anchor = image::pad_anchor::top_left;
  o.pad_value = in.pad_value;
  o.order = in.color == color_order::bgr ? image::channel_order::bgr : image::channel_order::rgb;
  o.layout = in.layout == tensor_layout::nhwc ? image::tensor_layout::nhwc : image::tensor_layout::nchw;
  o.scale = float(in.scale);
  for (int c = 0; c < 3; ++c) o.mean[c] = in.mean[c], o.std[c] = in.stddev[c];
  return o;
}

image::preprocess_options preprocess_options_for(const model_input& in, int frame_width, int frame_height) {
  image::preprocess_options o = preprocess_options_for(in);
  if (!in.size_multiple || frame_width < 1 || frame_height < 1) return o;
  if (!in.letterbox) {
    // Stretched: the frame's aspect at the pixels of width x height (or max_pixels), each side
    // rounded to the nearest multiple (at least one), so a 16:9 frame is not squashed square.
    const double budget = in.max_pixels ? double(in.max_pixels) : double(in.width) * in.height;
    const double s = std::sqrt(budget / (double(frame_width) * frame_height));
    const auto side = [&](int frame_side) {
      const uint64_t m = in.size_multiple;
      const double blocks = std::max(1.0, std::round(frame_side * s / double(m)));
      return int(std::min(blocks, double(4096 / m)) * double(m));  // sides stay within 4096
    };
    o.width = side(frame_width);
    o.height = side(frame_height);
    return o;
  }
  // The letterbox scale of the full canvas (or less, to keep the content within max_pixels);
  // each side then keeps the multiples of size_multiple its content needs. Without
  // max_pixels the limiting side stays whole, so preprocess's own scale (the min over both
  // sides) is the full canvas's; with it, preprocess fills the rounded-up canvas as it can.
  // Boxes map back through the canvas actually used either way.
  double scale = std::min(double(in.width) / frame_width, double(in.height) / frame_height);
  if (in.max_pixels) scale = std::min(scale, std::sqrt(double(in.max_pixels) / (double(frame_width) * frame_height)));
  const auto fit = [&](int frame_side, uint32_t full) {
    const double content = std::ceil(frame_side * scale - 1e-6);  // float noise must not add a block
    const uint64_t m = in.size_multiple;
    const uint64_t side = (uint64_t(std::max(1.0, content)) + m - 1) / m * m;
    return int(std::min<uint64_t>(side, full));
  };
  o.width = fit(frame_width, in.width);
  o.height = fit(frame_height, in.height);
  return o;
}

}  // namespace sf
