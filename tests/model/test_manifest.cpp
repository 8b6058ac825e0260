// Model manifests: the shipped files, every error kind with its field path, fuzzing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "image/image.h"
#include "model/manifest.h"

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

const char* k_valid = R"({
  "name": "m", "file": "sub/m.onnx",
  "sha256": "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
  "licence": "MIT",
  "input": {"name": "x", "width": 64, "height": 32},
  "outputs": ["y"],
  "kind": "embedding", "embedding_dim": 16
})";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t p = s.find(from);
  REQUIRE(p != std::string::npos);
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST_CASE("shipped manifests parse", "[model]") {
  {
    const std::string text = read_text(SF_TEST_DIR "/../models/mobilenetv2-feat.json");
    REQUIRE(!text.empty());
    auto r = sf::parse_model_manifest(text, "mobilenetv2-feat.json");
    INFO((r.ok() ? std::string() : r.err().message));
    REQUIRE(r.ok());
    const auto& m = r.value();
    CHECK(m.name == "mobilenetv2-feat");
    CHECK(m.file == "mobilenetv2-12-int8.feat.onnx");
    CHECK(m.sha256 == "beb7e777d9b8f949e69e4e775e34408b7ec9b0d4a90fc5c0aa9be60d69356fee");
    CHECK(m.kind == sf::model_kind::embedding);
    CHECK(m.embedding_dim == 1280);
    CHECK(m.input.name == "input");
    CHECK(m.input.width == 224);
    CHECK(m.input.height == 224);
    CHECK(m.input.layout == sf::tensor_layout::nchw);
    CHECK(m.input.color == sf::color_order::rgb);
    CHECK(m.input.scale == Approx(1.0 / 255));
    CHECK(m.input.mean[2] == Approx(0.406f));
    CHECK(m.input.stddev[0] == Approx(0.229f));
    CHECK(!m.input.letterbox);
    CHECK(m.outputs == std::vector<std::string>{"feat"});
    CHECK(m.licence.find("Apache-2.0") != std::string::npos);
    CHECK(m.source_url.find("mobilenetv2-12-int8.onnx") != std::string::npos);
    CHECK(!m.notes.empty());
  }
  {
    const std::string text = read_text(SF_TEST_DIR "/../models/yolox-nano.json");
    auto r = sf::parse_model_manifest(text, "yolox-nano.json");
    INFO((r.ok() ? std::string() : r.err().message));
    REQUIRE(r.ok());
    const auto& m = r.value();
    CHECK(m.kind == sf::model_kind::yolox);
    CHECK(std::string(sf::model_kind_name(m.kind)) == "yolox");
    CHECK(m.sha256 == "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd");
    CHECK(m.input.name == "images");
    CHECK(m.input.width == 416);
    CHECK(m.input.color == sf::color_order::bgr);
    CHECK(m.input.letterbox);
    CHECK(m.input.pad_value == 114.f);
    CHECK(m.input.scale == 1.0);
    CHECK(m.strides == std::vector<uint32_t>{8, 16, 32});
    REQUIRE(m.class_names.size() == 80);
    CHECK(m.class_names[0] == "person");
    CHECK(m.class_names[79] == "toothbrush");
    CHECK(m.outputs == std::vector<std::string>{"output"});
  }
}

TEST_CASE("input.max_pixels gives every aspect about the same detector arithmetic", "[model]") {
  const std::string text = read_text(SF_TEST_DIR "/../models/yolox-nano-dynamic.json");
  auto r = sf::parse_model_manifest(text, "yolox-nano-dynamic.json");
  REQUIRE(r.ok());
  const sf::model_input& in = r.value().input;
  CHECK(in.max_pixels == 320 * 320);
  struct { int fw, fh, w, h; } cases[] = {
      {1280, 720, 416, 256}, {640, 360, 416, 256}, {720, 1280, 256, 416},  // 16:9 and 9:16: as without it
      {1000, 1000, 320, 320}, {348, 348, 320, 320},                         // square photos
      {1024, 768, 384, 288}, {768, 1024, 288, 384},                         // 4:3: content 370x278
      {4000, 10, 416, 32}, {1, 1, 320, 320},
  };
  for (const auto& c : cases) {
    const auto o = sf::preprocess_options_for(in, c.fw, c.fh);
    INFO(c.fw << "x" << c.fh << " -> " << o.width << "x" << o.height);
    CHECK(o.width == c.w);
    CHECK(o.height == c.h);
    CHECK(uint64_t(o.width) * o.height <= uint64_t(in.max_pixels) * 11 / 10);  // the multiple's rounding
  }
  // A 1000x1000 frame preprocessed into its 320x320 canvas fills it: scale 0.32.
  std::vector<uint8_t> rgba(1000u * 1000u * 4, 90);
  const sf::image::frame_view frame{rgba.data(), rgba.size(), 1000, 1000};
  const auto o = sf::preprocess_options_for(in, 1000, 1000);
  std::vector<float> t(sf::image::tensor_size(o));
  auto g = sf::image::preprocess(frame, o, t.data(), t.size());
  REQUIRE(g.ok());
  CHECK(g.value().scale_x == Approx(0.32));
  CHECK(g.value().content_width == 320);

  // Only with size_multiple, and within range.
  std::string bad = text;
  bad.replace(bad.find("\"size_multiple\": 32"), std::string("\"size_multiple\": 32").size(), "\"letterbox2\": 1");
  auto e = sf::parse_model_manifest(bad, "m.json");
  REQUIRE_FALSE(e.ok());
  CHECK(e.err().message.find("input.max_pixels") != std::string::npos);
  CHECK(e.err().message.find("size_multiple") != std::string::npos);
  std::string zero = text;
  const std::string key = "\"max_pixels\": 102400";
  zero.replace(zero.find(key), key.size(), "\"max_pixels\": 0");
  auto z = sf::parse_model_manifest(zero, "m.json");
  REQUIRE_FALSE(z.ok());
  CHECK(z.err().message.find("input.max_pixels") != std::string::npos);
}

TEST_CASE("input.size_multiple on a stretched input: the frame's aspect at about the same pixels", "[model]") {
  const std::string text = read_text(SF_TEST_DIR "/../models/mobilenetv2-f32-multiscale-maps288.json");
  auto r = sf::parse_model_manifest(text, "mobilenetv2-f32-multiscale-maps288.json");
  INFO((r.ok() ? std::string() : r.err().message));
  REQUIRE(r.ok());
  sf::model_input in = r.value().input;
  CHECK(!in.letterbox);
  CHECK(in.size_multiple == 32);
  struct { int fw, fh, w, h; } cases[] = {
      {348, 348, 288, 288}, {1, 1, 288, 288},  // square: the nominal size
      {640, 360, 384, 224}, {1280, 720, 384, 224}, {360, 640, 224, 384},  // 16:9 and 9:16
      {640, 480, 320, 256},                      // 4:3
      {65536, 1, 4096, 32}, {1, 65536, 32, 4096},  // extremes: at least one block, at most 4096
  };
  for (const auto& c : cases) {
    const auto o = sf::preprocess_options_for(in, c.fw, c.fh);
    INFO(c.fw << "x" << c.fh << " -> " << o.width << "x" << o.height);
    CHECK(o.width == c.w);
    CHECK(o.height == c.h);
    CHECK(o.mode == sf::image::resize_mode::stretch);
  }
  in.max_pixels = 224 * 224;  // a budget other than width x height
  const auto o = sf::preprocess_options_for(in, 640, 360);
  CHECK(o.width == 288);
  CHECK(o.height == 160);
}

TEST_CASE("input.size_multiple fits the letterbox canvas to the frame at the full canvas's scale", "[model]") {
  const std::string text = read_text(SF_TEST_DIR "/../models/yolox-nano-dynamic.json");
  auto r = sf::parse_model_manifest(text, "yolox-nano-dynamic.json");
  INFO((r.ok() ? std::string() : r.err().message));
  REQUIRE(r.ok());
  const sf::model_input& in = r.value().input;
  CHECK(in.size_multiple == 32);
  CHECK(in.width == 416);
  CHECK(in.height == 416);
  sf::model_input no_budget = in;
  no_budget.max_pixels = 0;
  struct { int fw, fh, w, h; } cases[] = {
      {1280, 720, 416, 256},  // 16:9 video: content 416x234
      {720, 1280, 256, 416},  // 9:16
      {640, 360, 416, 256}, {348, 348, 416, 416}, {4000, 10, 416, 32}, {1, 1, 416, 416}, {640, 480, 416, 320},
  };
  for (const auto& c : cases) {
    const auto o = sf::preprocess_options_for(no_budget, c.fw, c.fh);
    INFO(c.fw << "x" << c.fh << " -> " << o.width << "x" << o.height);
    CHECK(o.width == c.w);
    CHECK(o.height == c.h);
  }
  // Without size_multiple the size is fixed.
  sf::model_input fixed = in;
  fixed.size_multiple = 0;
  fixed.max_pixels = 0;
  CHECK(sf::preprocess_options_for(fixed, 1280, 720).height == 416);

  // The content is the same pixels as in the square canvas: same scale, same taps.
  const int fw = 97, fh = 41;  // odd sizes: content 416x176 (rounded) in a 416x192 canvas
  std::vector<uint8_t> rgba(size_t(fw) * fh * 4);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = uint8_t((i * 2654435761u) >> 13);
  const sf::image::frame_view frame{rgba.data(), rgba.size(), fw, fh};
  const auto so = sf::preprocess_options_for(fixed, fw, fh);
  const auto fo = sf::preprocess_options_for(no_budget, fw, fh);
  REQUIRE(fo.width == 416);
  REQUIRE(fo.height == 192);
  std::vector<float> square(sf::image::tensor_size(so)), fitted(sf::image::tensor_size(fo));
  auto gs = sf::image::preprocess(frame, so, square.data(), square.size());
  auto gf = sf::image::preprocess(frame, fo, fitted.data(), fitted.size());
  REQUIRE(gs.ok());
  REQUIRE(gf.ok());
  CHECK(gf.value().scale_x == gs.value().scale_x);
  CHECK(gf.value().content_height == gs.value().content_height);
  size_t differ = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 192; ++y)
      for (int x = 0; x < 416; ++x)
        differ += square[(size_t(c) * 416 + y) * 416 + x] != fitted[(size_t(c) * 192 + y) * 416 + x];
  CHECK(differ == 0);
}

TEST_CASE("manifest defaults and normalisation", "[model]") {
  auto r = sf::parse_model_manifest(k_valid, "t.json");
  INFO((r.ok() ? std::string() : r.err().message));
  REQUIRE(r.ok());
  const auto& m = r.value();
  CHECK(m.sha256 == "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  CHECK(m.input.layout == sf::tensor_layout::nchw);
  CHECK(m.input.color == sf::color_order::rgb);
  CHECK(m.input.mean[0] == 0.f);
  CHECK(m.input.stddev[2] == 1.f);
  CHECK(m.input.scale == 1.0);
  CHECK(m.source_url.empty());
  CHECK(m.strides.empty());
  // Unknown fields (any JSON) are ignored.
  auto u = sf::parse_model_manifest(replace(k_valid, "\"outputs\"", "\"extra\": {\"a\": [1, {\"b\": null}]}, \"outputs\""), "t.json");
  CHECK(u.ok());
  auto yx = sf::parse_model_manifest(replace(replace(k_valid, "\"embedding\"", "\"yolov8\""), "\"embedding_dim\": 16", "\"x\": 0"), "t.json");
  REQUIRE(yx.ok());
  CHECK(yx.value().strides == std::vector<uint32_t>{8, 16, 32});
  auto cn = sf::parse_model_manifest(replace(k_valid, "\"embedding\"", "\"centernet\""), "t.json");
  REQUIRE(cn.ok());
  CHECK(cn.value().output_stride == 4);
  CHECK(m.pooling == sf::embedding_pooling::global);
  auto rp = sf::parse_model_manifest(replace(k_valid, "\"embedding_dim\"", "\"pooling\": \"regions\", \"embedding_dim\""), "t.json");
  REQUIRE(rp.ok());
  CHECK(rp.value().pooling == sf::embedding_pooling::regions);
}

TEST_CASE("the one-pass region embedder's manifest", "[model]") {
  const std::string text = read_text(SF_TEST_DIR "/../models/mobilenetv2-f32-multiscale-maps288.json");
  auto r = sf::parse_model_manifest(text, "mobilenetv2-f32-multiscale-maps288.json");
  INFO((r.ok() ? std::string() : r.err().message));
  REQUIRE(r.ok());
  const auto& m = r.value();
  CHECK(m.kind == sf::model_kind::embedding);
  CHECK(m.pooling == sf::embedding_pooling::regions);
  CHECK(m.embedding_dim == 1280 + 960 + 576 + 192 + 144);
  CHECK(m.outputs == std::vector<std::string>{"map0", "map1", "map2", "map3", "map4"});
  CHECK(m.input.width == 288);
  CHECK(m.input.height == 288);
  CHECK(!m.input.letterbox);
}

TEST_CASE("manifest errors name the field path, the place and the expectation", "[model]") {
  struct tcase {
    std::string text;
    sf::status code;
    std::vector<std::string> needles;
  };
  const std::string v = k_valid;
  const std::vector<tcase> cases = {
      {"", sf::status::parse_error, {"t.json", "invalid JSON"}},
      {"[1, 2]", sf::status::parse_error, {"t.json", "expected a JSON object, got array"}},
      {"{\"name\": ", sf::status::parse_error, {"t.json", "invalid JSON"}},
      {v + " {}", sf::status::parse_error, {"trailing content"}},
      {replace(v, "\"name\": \"m\", ", ""), sf::status::parse_error, {"field 'name': missing"}},
      {replace(v, "\"licence\": \"MIT\",", ""), sf::status::parse_error, {"field 'licence': missing"}},
      {replace(v, "\"kind\": \"embedding\", ", ""), sf::status::parse_error, {"field 'kind': missing"}},
      {replace(v, ", \"embedding_dim\": 16", ""), sf::status::parse_error, {"field 'embedding_dim': missing"}},
      {replace(v, "\"name\": \"m\"", "\"name\": \"\""), sf::status::parse_error, {"t.json:2:11", "field 'name'", "non-empty string"}},
      {replace(v, "\"embedding_dim\"", "\"pooling\": \"max\", \"embedding_dim\""), sf::status::parse_error,
       {"t.json:7:35", "field 'pooling': expected \"global\" or \"regions\", got \"max\""}},
      {replace(replace(v, "\"embedding\"", "\"yolox\""), "\"embedding_dim\": 16", "\"pooling\": \"regions\""),
       sf::status::parse_error, {"field 'pooling'", "for kind \"embedding\" only"}},
      {replace(replace(v, "\"embedding_dim\"", "\"pooling\": \"regions\", \"embedding_dim\""), "\"height\": 32", "\"height\": 32, \"letterbox\": true"),
       sf::status::parse_error, {"t.json:7:35", "field 'pooling'", "stretched input"}},
      {replace(v, "\"name\": \"m\"", "\"name\": 5"), sf::status::parse_error, {"t.json:2:11", "field 'name': expected a string, got number"}},
      {replace(v, "\"name\": \"m\", ", "\"name\": \"m\", \"name\": \"n\", "), sf::status::parse_error, {"field 'name': duplicate key"}},
      {replace(v, "sub/m.onnx", "/abs/m.onnx"), sf::status::parse_error, {"field 'file'", "relative path"}},
      {replace(v, "sub/m.onnx", "../m.onnx"), sf::status::parse_error, {"field 'file'", "'..'"}},
      {replace(v, "sub/m.onnx", "a\\\\m.onnx"), sf::status::parse_error, {"field 'file'", "separator"}},
      {replace(v, "ABCDEF01", "ABCDEF0"), sf::status::parse_error, {"t.json:3:13", "field 'sha256': expected 64 hex digits"}},
      {replace(v, "ABCDEF01", "ABCDEFG1"), sf::status::parse_error, {"field 'sha256': expected 64 hex digits"}},
      {replace(v, "\"input\": {\"name\": \"x\", ", "\"input\": {"), sf::status::parse_error, {"t.json:5:12", "field 'input.name': missing"}},
      {replace(v, "\"width\": 64", "\"width\": 0"), sf::status::parse_error, {"t.json:5:35", "field 'input.width': expected an integer in 1..4096, got 0"}},
      {replace(v, "\"width\": 64", "\"width\": 4097"), sf::status::parse_error, {"field 'input.width'", "1..4096"}},
      {replace(v, "\"width\": 64", "\"width\": 64.5"), sf::status::parse_error, {"field 'input.width'", "got \"64.5\""}},
      {replace(v, "\"width\": 64", "\"width\": \"64\""), sf::status::parse_error, {"field 'input.width'", "got string"}},
      {replace(v, "\"width\": 64", "\"width\": -3"), sf::status::parse_error, {"field 'input.width'", "got -3"}},
      {replace(v, "\"height\": 32", "\"height\": 99999999999999999999999"), sf::status::parse_error, {"field 'input.height'"}},
      {replace(v, "\"width\": 64, \"height\": 32", "\"width\": 64"), sf::status::parse_error, {"field 'input.height': missing"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"layout\": \"CHW\""), sf::status::parse_error, {"field 'input.layout': expected \"NCHW\" or \"NHWC\", got \"CHW\""}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"color\": \"rgb\""), sf::status::parse_error, {"field 'input.color'", "\"RGB\" or \"BGR\""}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"mean\": [1, 2]"), sf::status::parse_error, {"field 'input.mean'", "expected 3 numbers", "got 2"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"mean\": [1, 2, 3, 4]"), sf::status::parse_error, {"field 'input.mean'", "got more"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"mean\": [1, 2, \"x\"]"), sf::status::parse_error, {"field 'input.mean[2]': expected a number, got string"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"mean\": 0.5"), sf::status::parse_error, {"field 'input.mean': expected an array, got number"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"std\": [1, 0, 1]"), sf::status::parse_error, {"field 'input.std[1]': expected a finite non-zero number, got 0"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"std\": [1, 1, 1e400]"), sf::status::parse_error, {"field 'input.std[2]'"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"scale\": 0"), sf::status::parse_error, {"field 'input.scale'", "(0, 1e6]"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"letterbox\": 1"), sf::status::parse_error, {"field 'input.letterbox': expected true or false, got number"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"pad_value\": 300"), sf::status::parse_error, {"field 'input.pad_value'", "0..255"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"letterbox\": true, \"size_multiple\": 24"), sf::status::parse_error, {"field 'input.size_multiple': 24 does not divide the input size 64x32"}},
      {replace(v, "\"height\": 32", "\"height\": 32, \"letterbox\": true, \"size_multiple\": 0"), sf::status::parse_error, {"field 'input.size_multiple'", "1..1024"}},
      {replace(v, "\"input\": {\"name\": \"x\", \"width\": 64, \"height\": 32}", "\"input\": [1]"), sf::status::parse_error, {"field 'input': expected an object, got array"}},
      {replace(v, "[\"y\"]", "[]"), sf::status::parse_error, {"field 'outputs': expected at least 1 entries, got 0"}},
      {replace(v, "[\"y\"]", "[\"y\", 3]"), sf::status::parse_error, {"field 'outputs[1]': expected a string, got number"}},
      {replace(v, "[\"y\"]", "[\"y\", \"\"]"), sf::status::parse_error, {"field 'outputs[1]'", "non-empty"}},
      {replace(v, "[\"y\"]", "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]"), sf::status::parse_error, {"field 'outputs': more than 16"}},
      {replace(v, "\"embedding\",", "\"ssd\","), sf::status::parse_error, {"field 'kind': expected one of", "got \"ssd\""}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 0"), sf::status::parse_error, {"field 'embedding_dim'", "1..65536"}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 16, \"strides\": [8, 8]"), sf::status::parse_error, {"field 'strides[1]'", "increasing"}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 16, \"strides\": []"), sf::status::parse_error, {"field 'strides'", "at least 1"}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 16, \"strides\": [8, 2000]"), sf::status::parse_error, {"field 'strides[1]'", "1..1024"}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 16, \"output_stride\": 0"), sf::status::parse_error, {"field 'output_stride'", "1..64"}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 16, \"class_names\": [\"a\", null]"), sf::status::parse_error, {"field 'class_names[1]': expected a string, got null"}},
      {replace(v, "\"embedding_dim\": 16", "\"embedding_dim\": 16, \"manifest_version\": 2"), sf::status::parse_error, {"field 'manifest_version'", "1..1"}},
      {replace(v, "\"MIT\"", "\"M\\u00\""), sf::status::parse_error, {"field 'licence'", "invalid JSON"}},
      {std::string(sf::k_max_manifest_bytes + 1, ' '), sf::status::limit_exceeded, {"t.json", "limit"}},
  };
  for (const auto& c : cases) {
    auto r = sf::parse_model_manifest(c.text, "t.json");
    INFO("input: " << c.text.substr(0, 300));
    REQUIRE(!r.ok());
    INFO("message: " << r.err().message);
    CHECK(r.err().code == c.code);
    CHECK(r.err().message.rfind("t.json", 0) == 0);
    for (const auto& n : c.needles) CHECK(r.err().message.find(n) != std::string::npos);
  }
}

TEST_CASE("manifest fuzz: mutated manifests are accepted or rejected, never crash", "[model]") {
  std::vector<std::string> seeds = {k_valid, read_text(SF_TEST_DIR "/../models/yolox-nano.json"),
                                    read_text(SF_TEST_DIR "/../models/yolox-nano-dynamic.json"),
                                    read_text(SF_TEST_DIR "/../models/mobilenetv2-feat.json")};
  uint64_t s = 12345;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  static const char alphabet[] = "{}[]\",:0123456789.-+eE \n\\tfnul\x01\xff\xc3\xa9";
  size_t ok = 0, bad = 0;
  for (int it = 0; it < 3000; ++it) {
    std::string t = seeds[next() % seeds.size()];
    const int edits = 1 + int(next() % 4);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      const size_t p = next() % t.size();
      switch (next() % 5) {
        case 0: t[p] = alphabet[next() % (sizeof alphabet - 1)]; break;
        case 1: t.erase(p, 1 + next() % 8); break;
        case 2: t.insert(p, 1, alphabet[next() % (sizeof alphabet - 1)]); break;
        case 3: t.resize(p); break;
        default: {
          const size_t q = next() % t.size();
          const size_t len = std::min<size_t>(1 + next() % 40, t.size() - q);
          t.insert(p, t.substr(q, len));
        }
      }
    }
    auto r = sf::parse_model_manifest(t, "fuzz.json");
    if (r.ok()) {
      ++ok;
      CHECK(r.value().input.width >= 1);
      CHECK(r.value().sha256.size() == 64);
    } else {
      ++bad;
      CHECK(r.err().message.rfind("fuzz.json", 0) == 0);
    }
  }
  CHECK(ok + bad == 3000);
  CHECK(bad > 0);
}
