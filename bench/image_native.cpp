// Native timing of sf::image::preprocess: scalar reference (the baseline) vs every SIMD
// table on this CPU, for the two shapes the pipeline runs per frame:
//   1280x720 RGBA -> 416x416 letterbox NCHW (YOLOX detector input)
//   1280x720 RGBA -> 224x224 centre-crop NCHW, ImageNet normalisation (embedder input)
// Usage: image_native [iterations]   (prints one line per table and shape)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "image/image.h"
#include "image/resample_kernels.h"

namespace {

double time_ms(const sf::image::kernels::table& t, const sf::image::frame_view& f, const sf::image::preprocess_options& o,
               std::vector<float>& out, int iters) {
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) {
      auto r = sf::image::kernels::preprocess_with(t, f, o, out.data(), out.size());
      if (!r) {
        std::fprintf(stderr, "preprocess failed: %s\n", r.err().message.c_str());
        std::exit(1);
      }
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iters;
    if (ms < best) best = ms;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 30;
  const int W = 1280, H = 720;
  std::vector<uint8_t> rgba(size_t(W) * H * 4);
  uint32_t s = 12345;
  for (auto& b : rgba) {
    s = s * 1664525u + 1013904223u;
    b = uint8_t(s >> 24);
  }
  const sf::image::frame_view f{rgba.data(), rgba.size(), W, H, sf::image::pixel_format::rgba, 0};

  sf::image::preprocess_options det = sf::image::yolox_options(416);
  det.order = sf::image::channel_order::rgb;
  det.anchor = sf::image::pad_anchor::center;
  det.scale = 1.0f / 255.0f;
  sf::image::preprocess_options emb = sf::image::imagenet_options(224);
  emb.use_crop = true;
  emb.crop = sf::image::box{float(W - H) / 2, 0.0f, float(W + H) / 2, float(H)};

  struct shape {
    const char* name;
    const sf::image::preprocess_options* o;
  } shapes[] = {{"1280x720 rgba -> 416x416 letterbox nchw", &det}, {"1280x720 rgba -> 224x224 centre crop nchw", &emb}};

  std::printf("iterations per run: %d (best of 5 runs)\n", iters);
  for (const shape& sh : shapes) {
    std::vector<float> out(sf::image::tensor_size(*sh.o));
    const double base = time_ms(sf::image::kernels::scalar(), f, *sh.o, out, iters);
    for (const auto* t : sf::image::kernels::available()) {
      const double ms = t == &sf::image::kernels::scalar() ? base : time_ms(*t, f, *sh.o, out, iters);
      std::printf("%-44s %-8s %8.3f ms  %5.2fx vs scalar\n", sh.name, t->name, ms, base / ms);
    }
  }
  return 0;
}
