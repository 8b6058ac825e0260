// Embind bindings of the vision core: the per-frame work around the two ONNX models.
// JS owns the models (ONNX Runtime Web); this side owns every byte between them:
//   frame (RGBA) -> detector tensor -> [ORT] -> decoded, NMS'd region proposals
//   -> one embedder tensor per region, batched -> [ORT] -> embeddings -> index search.
// Tensors live in WASM memory and are handed to JS as Float32Array views (take a fresh
// view after any call that may allocate).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bind_common.h"
#include "detect/detect.h"
#include "embed/embed.h"
#include "image/image.h"
#include "model/manifest.h"

using emscripten::val;
using sf::wasm::byte_buffer;
using sf::wasm::last_error;

namespace {

const char* region_kind_name(sf::det_region_kind k) {
  switch (k) {
    case sf::det_region_kind::detection: return "detection";
    case sf::det_region_kind::person_hint: return "person_hint";
    case sf::det_region_kind::full_frame: return "full_frame";
    case sf::det_region_kind::centre_crop: return "centre_crop";
  }
  return "?";
}

val manifest_json(const sf::model_manifest& m) {
  val o = val::object();
  o.set("name", m.name);
  o.set("file", m.file);
  o.set("sha256", m.sha256);
  o.set("licence", m.licence);
  o.set("sourceUrl", m.source_url);
  o.set("kind", std::string(sf::model_kind_name(m.kind)));
  o.set("inputName", m.input.name);
  o.set("width", m.input.width);
  o.set("height", m.input.height);
  o.set("sizeMultiple", m.input.size_multiple);  // 0: fixed size
  o.set("maxPixels", m.input.max_pixels);        // 0: no budget beyond width x height
  o.set("layout", std::string(sf::tensor_layout_name(m.input.layout)));
  val outs = val::array();
  for (const auto& s : m.outputs) outs.call<void>("push", s);
  o.set("outputs", outs);
  o.set("embeddingDim", m.embedding_dim);
  o.set("pooling", std::string(m.pooling == sf::embedding_pooling::regions ? "regions" : "global"));
  o.set("classCount", double(m.class_names.size()));
  return o;
}

class vision {
 public:
  // Manifests as JSON text; the detector's may be empty (regions are then the full frame
  // and the centre crop). `source` names are used in error messages.
  bool configure(std::string embedder_json, std::string embedder_source, std::string detector_json,
                 std::string detector_source) {
    err_.clear();
    auto e = sf::parse_model_manifest(embedder_json, embedder_source);
    if (!e) return fail(e.err());
    if (e.value().kind != sf::model_kind::embedding)
      return fail(sf::make_error(sf::status::invalid_argument,
                                 embedder_source + ": kind is " + sf::model_kind_name(e.value().kind) + ", expected embedding"));
    embedder_ = std::move(e.value());
    has_detector_ = !detector_json.empty();
    if (has_detector_) {
      auto d = sf::parse_model_manifest(detector_json, detector_source);
      if (!d) return fail(d.err());
      if (d.value().kind == sf::model_kind::embedding)
        return fail(sf::make_error(sf::status::invalid_argument, detector_source + ": kind is embedding, expected a detector"));
      detector_ = std::move(d.value());
    }
    return true;
  }
  val embedder_info() const { return manifest_json(embedder_); }
  val detector_info() const { return has_detector_ ? manifest_json(detector_) : val::null(); }
  val class_name(int i) const {
    if (!has_detector_ || i < 0 || size_t(i) >= detector_.class_names.size()) return val::null();
    return val(detector_.class_names[size_t(i)]);
  }

  // ---- the frame ----
  // An RGBA frame buffer of width x height for JS to fill (zero-copy from a VideoFrame or
  // an ImageData), or null when the size is out of bounds.
  val frame_view(int width, int height) {
    err_.clear();
    if (width <= 0 || height <= 0 || width > sf::image::max_side || height > sf::image::max_side ||
        int64_t(width) * height > sf::image::max_pixels) {
      fail(sf::make_error(sf::status::limit_exceeded, "frame " + std::to_string(width) + "x" + std::to_string(height) +
                                                         " is outside 1.." + std::to_string(sf::image::max_side) +
                                                         " per side / " + std::to_string(sf::image::max_pixels) + " pixels"));
      return val::null();
    }
    frame_.width = width, frame_.height = height;
    frame_.pixels.resize(size_t(width) * height * 4);
    return val(emscripten::typed_memory_view(frame_.pixels.size(), frame_.pixels.data()));
  }
  // Decodes JPEG or PNG bytes into the frame.
  bool decode_image(std::shared_ptr<byte_buffer> encoded, std::string source) {
    err_.clear();
    auto img = sf::image::decode_rgba(encoded->data(), encoded->size());
    if (!img) {
      sf::error e = img.err();
      e.message = source + ": " + e.message;
      return fail(e);
    }
    frame_ = std::move(img.value());
    return true;
  }
  int frame_width() const { return frame_.width; }
  int frame_height() const { return frame_.height; }
  int detector_input_width() const { return det_geometry_.model_width; }
  int detector_input_height() const { return det_geometry_.model_height; }
  int embedder_input_width() const { return emb_width_; }  // of the last prepareCrops
  int embedder_input_height() const { return emb_height_; }

  // ---- detection ----
  // Writes the detector's input tensor for the current frame; returns its view or null.
  // Its size (detectorInputWidth/Height) is the manifest's, or fitted to the frame's aspect
  // when the manifest has input.size_multiple.
  val prepare_detector() {
    err_.clear();
    if (!has_detector_) return fail(sf::make_error(sf::status::invalid_argument, "no detector configured")), val::null();
    auto o = sf::preprocess_options_for(detector_.input, frame_.width, frame_.height);
    det_input_.resize(sf::image::tensor_size(o));
    auto g = sf::image::preprocess(frame_.view(), o, det_input_.data(), det_input_.size());
    if (!g) return fail(g.err()), val::null();
    det_geometry_ = g.value();
    return val(emscripten::typed_memory_view(det_input_.size(), det_input_.data()));
  }
  // Space for output `slot` (CenterNet heads have 3 outputs: heat, size, offset) for JS to
  // copy ORT's output into.
  val output_view(int slot, double floats) {
    if (slot < 0 || slot > 2 || floats < 0 || floats > 1e8) return val::null();
    det_output_[slot].resize(size_t(floats));
    return val(emscripten::typed_memory_view(det_output_[slot].size(), det_output_[slot].data()));
  }
  // Decodes the outputs (shapes: an array of shape arrays, one per slot used), runs
  // class-agnostic NMS and builds the region set. Returns the region count or -1.
  int decode_detections(val shapes, float score_threshold, float iou_threshold, int max_regions) {
    err_.clear();
    std::vector<sf::det_tensor> t;
    const size_t slots = shapes["length"].as<size_t>();
    for (size_t s = 0; s < slots && s < 3; ++s) {
      sf::det_tensor x{det_output_[s].data(), det_output_[s].size(), {}};
      val shape = shapes[s];
      for (size_t i = 0; i < shape["length"].as<size_t>(); ++i) x.shape.push_back(int64_t(shape[i].as<double>()));
      t.push_back(std::move(x));
    }
    sf::det_decode_options dopt;
    dopt.input_width = det_geometry_.model_width;  // the size prepare_detector used
    dopt.input_height = det_geometry_.model_height;
    dopt.score_threshold = score_threshold;
    dopt.objectness_only = true;  // class-agnostic proposals: products are rarely COCO classes
    if (!detector_.class_names.empty()) dopt.num_classes = int(detector_.class_names.size());
    dopt.strides.assign(detector_.strides.begin(), detector_.strides.end());
    sf::result<std::vector<sf::detection>> cands = sf::make_error(sf::status::unsupported, "no decoder for this model kind");
    const size_t need = detector_.kind == sf::model_kind::centernet ? 3 : 1;
    if (t.size() < need)
      return fail(sf::make_error(sf::status::invalid_argument, detector_.name + ": " + std::to_string(need) +
                                                                   " output(s) needed, got " + std::to_string(t.size()))),
             -1;
    switch (detector_.kind) {
      case sf::model_kind::yolox: cands = sf::det_decode_yolox(t[0], dopt); break;
      case sf::model_kind::yolo: cands = sf::det_decode_yolo(t[0], sf::det_yolo_layout::boxes_objectness_classes, dopt); break;
      case sf::model_kind::yolov8: cands = sf::det_decode_yolo(t[0], sf::det_yolo_layout::v8_transposed, dopt); break;
      case sf::model_kind::centernet:
        cands = sf::det_decode_centernet(t[0], t[1], t[2], int(detector_.output_stride), dopt);
        break;
      case sf::model_kind::embedding: break;
    }
    if (!cands) return fail(cands.err()), -1;
    sf::det_nms_options nopt;
    nopt.class_agnostic = true;
    nopt.iou_threshold = iou_threshold;
    auto kept = sf::det_nms(cands.value(), nopt);
    if (!kept) return fail(kept.err()), -1;
    // Model pixels -> frame pixels through the preprocessing geometry (letterbox or stretch).
    for (auto& d : kept.value()) {
      sf::image::box b = sf::image::to_source(det_geometry_, {d.box.x0, d.box.y0, d.box.x1, d.box.y1});
      d.box = {b.x0, b.y0, b.x1, b.y1};
    }
    return propose(kept.value(), max_regions);
  }
  // Without a detector: the full frame and the centre crop.
  int fixed_regions() {
    err_.clear();
    return propose({}, 2);
  }
  val regions() const {
    val out = val::array();
    for (const auto& r : regions_) {
      val o = val::object();
      val b = val::array();
      for (float v : {r.box.x0, r.box.y0, r.box.x1, r.box.y1}) b.call<void>("push", v);
      o.set("box", b);
      o.set("kind", std::string(region_kind_name(r.kind)));
      o.set("score", r.score);
      o.set("classId", r.class_id);
      out.call<void>("push", o);
    }
    return out;
  }

  // ---- embedding ----
  // Writes the embedder input for regions [0, count) as one batch [count, ...]; returns the
  // view or null. Detector boxes get a 10% margin and are squared (products are often
  // tightly boxed); the full frame and the centre crop are used as they are.
  val prepare_crops(int count) {
    err_.clear();
    if (count < 1 || size_t(count) > regions_.size())
      return fail(sf::make_error(sf::status::invalid_argument, "prepare_crops: " + std::to_string(count) + " of " +
                                                                   std::to_string(regions_.size()) + " regions")),
             val::null();
    // A one-pass embedder sees the whole frame at its own aspect (input.size_multiple); crops
    // for a pooled embedder all have the manifest's size.
    const bool one_pass = embedder_.pooling == sf::embedding_pooling::regions;
    if (one_pass && count != 1)
      return fail(sf::make_error(sf::status::invalid_argument, "prepare_crops: a one-pass embedder takes the whole frame only")),
             val::null();
    auto o = one_pass ? sf::preprocess_options_for(embedder_.input, frame_.width, frame_.height)
                      : sf::preprocess_options_for(embedder_.input);
    emb_width_ = o.width, emb_height_ = o.height;
    const size_t per = sf::image::tensor_size(o);
    emb_input_.resize(per * size_t(count));
    for (int i = 0; i < count; ++i) {
      const auto& r = regions_[size_t(i)];
      const bool fixed = r.kind == sf::det_region_kind::full_frame || r.kind == sf::det_region_kind::centre_crop;
      sf::image::crop_options c{fixed ? 0.0f : 0.1f, !fixed};
      auto g = sf::image::preprocess_crop(frame_.view(), {r.box.x0, r.box.y0, r.box.x1, r.box.y1}, c, o,
                                          emb_input_.data() + per * size_t(i), per);
      if (!g) return fail(g.err()), val::null();
    }
    return val(emscripten::typed_memory_view(emb_input_.size(), emb_input_.data()));
  }

  // An embedder with "pooling": "regions" runs once on prepareCrops(1)'s full-frame tensor and
  // outputs feature maps; JS copies output `slot` into mapView(slot, floats) (null beyond 64 M
  // values in all slots), then poolRegions(count, shapes) pools regions [0, count) over them
  // (embed::pool_region) and returns the count x embeddingDim embeddings, or null.
  val map_view(int slot, double floats) {
    if (slot < 0 || size_t(slot) >= k_max_maps || !(floats >= 0)) return val::null();
    // All slots together stay far below the module's 2 GB memory cap (a failed allocation here
    // would abort the module): maps288 on any frame holds about 1.4 M values.
    double others = 0;
    for (size_t s = 0; s < k_max_maps; ++s)
      if (s != size_t(slot)) others += double(maps_[s].size());
    if (others + floats > k_max_map_values) return val::null();
    maps_[size_t(slot)].resize(size_t(floats));
    return val(emscripten::typed_memory_view(maps_[size_t(slot)].size(), maps_[size_t(slot)].data()));
  }
  val pool_regions(int count, val shapes) {
    err_.clear();
    const auto bad = [&](const std::string& why) {
      fail(sf::make_error(sf::status::invalid_argument, embedder_.name + ": " + why));
      return val::null();
    };
    if (embedder_.pooling != sf::embedding_pooling::regions) return bad("its manifest does not pool regions");
    if (count < 1 || size_t(count) > regions_.size())
      return bad("poolRegions: " + std::to_string(count) + " of " + std::to_string(regions_.size()) + " regions");
    if (emb_width_ <= 0 || emb_height_ <= 0) return bad("poolRegions before prepareCrops(1)");
    const size_t n = shapes["length"].as<size_t>();
    if (n != embedder_.outputs.size() || n > k_max_maps)
      return bad(std::to_string(n) + " feature maps given, the manifest names " + std::to_string(embedder_.outputs.size()));
    std::vector<sf::embed::feature_map> maps(n);
    for (size_t s = 0; s < n; ++s) {
      val shape = shapes[s];
      std::vector<double> d;
      for (size_t i = 0; i < shape["length"].as<size_t>() && i < 5; ++i) d.push_back(shape[i].as<double>());
      const std::string name = "output '" + embedder_.outputs[s] + "'";
      if (d.size() != 4 || d[0] != 1 || d[1] < 1 || d[2] < 1 || d[3] < 1)
        return bad(name + " is not a feature map [1, C, H, W]");
      if (d[1] * d[2] * d[3] != double(maps_[s].size()))
        return bad(name + ": shape holds " + std::to_string(d[1] * d[2] * d[3]) + " values, " +
                   std::to_string(maps_[s].size()) + " were copied");
      if (!sf::embed::map_fits_input(size_t(d[3]), size_t(d[2]), size_t(emb_width_), size_t(emb_height_)))
        return bad(name + ": a " + std::to_string(size_t(d[3])) + "x" + std::to_string(size_t(d[2])) +
                   " map (W x H) cannot be the " + std::to_string(emb_width_) + "x" + std::to_string(emb_height_) +
                   " input at one stride");
      maps[s] = {maps_[s].data(), size_t(d[1]), size_t(d[2]), size_t(d[3])};
    }
    // 1x1 outputs are pooled vectors: every region would get the same embedding.
    if (std::all_of(maps.begin(), maps.end(), [](const auto& m) { return m.width == 1 && m.height == 1; }) &&
        size_t(emb_width_) * size_t(emb_height_) > 1)
      return bad("every output is 1x1, a pooled vector: one pass needs feature maps that keep where things are");
    const size_t dim = embedder_.embedding_dim;
    emb_output_.resize(dim * size_t(count));
    const float fw = float(frame_.width), fh = float(frame_.height);
    for (int i = 0; i < count; ++i) {
      const auto& b = regions_[size_t(i)].box;
      auto r = sf::embed::pool_region(maps.data(), n, {b.x0 / fw, b.y0 / fh, b.x1 / fw, b.y1 / fh},
                                      emb_output_.data() + dim * size_t(i), dim);
      if (!r) return bad("region " + std::to_string(i) + ": " + r.err().message);
    }
    return val(emscripten::typed_memory_view(emb_output_.size(), emb_output_.data()));
  }

  std::string error_code() const { return err_.code; }
  std::string error_message() const { return err_.message; }

 private:
  bool fail(const sf::error& e) {
    err_.set(e);
    return false;
  }
  int propose(const std::vector<sf::detection>& dets, int max_regions) {
    sf::det_proposal_options popt;
    popt.frame_width = frame_.width;
    popt.frame_height = frame_.height;
    popt.map = {1.0f, 0.0f, 0.0f};  // boxes are already in frame pixels
    popt.max_regions = size_t(std::max(2, max_regions));
    popt.hint_class = 0;  // COCO "person" when the detector has COCO classes
    if (!has_detector_ || detector_.class_names.empty() || detector_.class_names[0] != "person") popt.hint_class = -1;
    auto r = sf::det_proposals(dets, popt);
    if (!r) return fail(r.err()), -1;
    regions_ = std::move(r.value());
    return int(regions_.size());
  }

  sf::model_manifest embedder_, detector_;
  bool has_detector_ = false;
  sf::image::rgba_image frame_;
  std::vector<float> det_input_, emb_input_;
  std::vector<float> det_output_[3];
  int emb_width_ = 0, emb_height_ = 0;
  static constexpr size_t k_max_maps = 16;  // a manifest names at most 16 outputs
  static constexpr double k_max_map_values = 64e6;  // in all slots (256 MB of floats)
  std::vector<float> maps_[k_max_maps], emb_output_;
  sf::image::geometry det_geometry_;
  std::vector<sf::det_region> regions_;
  last_error err_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(shopframe_vision) {
  using namespace emscripten;
  class_<vision>("Vision")
      .constructor<>()
      .function("configure", &vision::configure)
      .function("embedderInfo", &vision::embedder_info)
      .function("detectorInfo", &vision::detector_info)
      .function("className", &vision::class_name)
      .function("frameView", &vision::frame_view)
      .function("decodeImage", &vision::decode_image)
      .function("frameWidth", &vision::frame_width)
      .function("frameHeight", &vision::frame_height)
      .function("prepareDetector", &vision::prepare_detector)
      .function("detectorInputWidth", &vision::detector_input_width)
      .function("detectorInputHeight", &vision::detector_input_height)
      .function("embedderInputWidth", &vision::embedder_input_width)
      .function("embedderInputHeight", &vision::embedder_input_height)
      .function("outputView", &vision::output_view)
      .function("decodeDetections", &vision::decode_detections)
      .function("fixedRegions", &vision::fixed_regions)
      .function("regions", &vision::regions)
      .function("prepareCrops", &vision::prepare_crops)
      .function("mapView", &vision::map_view)
      .function("poolRegions", &vision::pool_regions)
      .function("errorCode", &vision::error_code)
      .function("errorMessage", &vision::error_message);
}
