// The usage example at the top of src/detect/detect.h, compiled and run on a synthetic output.
#include <catch2/catch.hpp>

#include <vector>

#include "detect/detect.h"

namespace {

sf::result<std::vector<sf::det_region>> header_example(const float* ort_data) {
  sf::det_tensor out{ort_data, 3549 * 85, {1, 3549, 85}};      // YOLOX-Nano, 416x416 input
  sf::det_decode_options dopt;
  dopt.input_width = dopt.input_height = 416;
  dopt.objectness_only = true;                                  // products are rarely COCO classes
  auto cands = sf::det_decode_yolox(out, dopt);                 // boxes in model-input pixels
  if (!cands) return cands.err();
  sf::det_nms_options nopt; nopt.class_agnostic = true;
  auto kept = sf::det_nms(cands.value(), nopt);
  sf::det_proposal_options popt; popt.frame_width = 1280; popt.frame_height = 720;
  popt.map = sf::det_letterbox_fit(1280, 720, 416, 416, /*centred=*/false).value();
  auto regions = sf::det_proposals(kept.value(), popt);        // full frame, centre crop, best boxes
  return regions;
}

}  // namespace

TEST_CASE("the header's usage example runs", "[detect]") {
  std::vector<float> data(3549 * 85, 0.0f);
  // A stride-8 anchor at cell (10, 20) with a 64x64 box: tw = th = ln(8).
  float* r = data.data() + (20 * 52 + 10) * 85;
  r[2] = r[3] = 2.0794415f;
  r[4] = 0.9f;
  r[5 + 39] = 0.6f;  // "bottle"
  auto regions = header_example(data.data());
  REQUIRE(regions.ok());
  REQUIRE(regions.value().size() == 3);
  CHECK(regions.value()[0].kind == sf::det_region_kind::full_frame);
  CHECK(regions.value()[1].kind == sf::det_region_kind::centre_crop);
  const sf::det_region& d = regions.value()[2];
  CHECK(d.kind == sf::det_region_kind::detection);
  CHECK(d.class_id == 39);
  // Centre (80, 160), 64x64: model box (48, 128)-(112, 192), divided by scale 0.325 in the frame.
  CHECK(d.box.x0 == Approx(48.0f / 0.325f).epsilon(1e-4));
  CHECK(d.box.y0 == Approx(128.0f / 0.325f).epsilon(1e-4));
  CHECK(d.box.x1 == Approx(112.0f / 0.325f).epsilon(1e-4));
  CHECK(d.box.y1 == Approx(192.0f / 0.325f).epsilon(1e-4));
}
