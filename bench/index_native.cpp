// shopframe native harness for bench/index.mjs (same protocol as bench/peers/faiss_harness.cpp).
//
//   index_native --base base.f32 --queries queries.f32 --quantizer "ivf1024,sq8"
//                [--params "nprobe=8;nprobe=16,rerank=4"] [--k 10] [--warmup 100] [--seed 1]
//
// Vector files: uint32 n, uint32 d, then n*d float32 (little endian, row-major).
// Builds with sf::build_index (timed, one thread), opens the bytes with
// sf::index_view::open, then for each ';'-separated parameter set ("" = the index's
// defaults; keys nprobe, rerank) times every query individually on one thread.
// Prints one JSON object on stdout:
//   {"engine":"shopframe","quantizer":...,"n":..,"d":..,"build_s":..,"bytes":..,
//    "runs":[{"params":"nprobe=8","p50_ms":..,"p99_ms":..,"mean_ms":..,"ids":[...nq*k...]}]}
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "index/index.h"

namespace {

struct matrix {
  uint32_t n = 0, d = 0;
  std::vector<float> v;
};

matrix read_matrix(const std::string& path) {
  matrix m;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  uint32_t hdr[2];
  if (std::fread(hdr, sizeof(uint32_t), 2, f) != 2) throw std::runtime_error("short header in " + path);
  m.n = hdr[0];
  m.d = hdr[1];
  m.v.resize(size_t(m.n) * m.d);
  if (std::fread(m.v.data(), sizeof(float), m.v.size(), f) != m.v.size())
    throw std::runtime_error("short data in " + path);
  std::fclose(f);
  return m;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t a = 0;
  for (;;) {
    size_t b = s.find(sep, a);
    out.push_back(s.substr(a, b == std::string::npos ? std::string::npos : b - a));
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = p * (v.size() - 1);
  size_t lo = size_t(pos), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  std::string base_path, query_path, quantizer = "sq8", params;
  int k = 10, warmup = 100;
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "missing value for %s\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--base") base_path = next();
    else if (a == "--queries") query_path = next();
    else if (a == "--quantizer") quantizer = next();
    else if (a == "--params") params = next();
    else if (a == "--k") k = std::atoi(next().c_str());
    else if (a == "--warmup") warmup = std::atoi(next().c_str());
    else if (a == "--seed") seed = std::strtoull(next().c_str(), nullptr, 10);
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  if (base_path.empty() || query_path.empty()) {
    std::fprintf(stderr, "usage: %s --base F --queries F --quantizer S [--params \"nprobe=8;nprobe=16\"]\n", argv[0]);
    return 2;
  }
  try {
    matrix base = read_matrix(base_path), q = read_matrix(query_path);
    if (base.d != q.d) throw std::runtime_error("dimension mismatch between base and queries");
    const size_t d = base.d;

    sf::build_options opt;
    opt.quantizer = quantizer;
    opt.seed = seed;
    auto t0 = std::chrono::steady_clock::now();
    auto built = sf::build_index(base.v.data(), base.n, d, {}, opt);
    const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!built) throw std::runtime_error("build_index: " + built.err().message);
    std::vector<uint8_t> bytes = std::move(built.value());
    base.v.clear();
    base.v.shrink_to_fit();
    auto opened = sf::index_view::open(bytes.data(), bytes.size());
    if (!opened) throw std::runtime_error("index_view::open: " + opened.err().message);
    const sf::index_view& index = opened.value();

    std::string runs;
    for (const std::string& p : split(params, ';')) {
      sf::search_options so;
      so.k = size_t(k);
      for (const std::string& kv : split(p, ',')) {
        if (kv.empty()) continue;
        size_t eq = kv.find('=');
        if (eq == std::string::npos) throw std::runtime_error("bad parameter " + kv);
        std::string key = kv.substr(0, eq);
        size_t val = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
        if (key == "nprobe") so.nprobe = val;
        else if (key == "rerank") so.rerank = val;
        else throw std::runtime_error("unknown parameter " + key);
      }
      const uint32_t nq = q.n;
      for (int i = 0; i < warmup; i++) (void)index.search(q.v.data() + size_t(i % nq) * d, d, so);
      std::vector<double> lat(nq);
      std::vector<int64_t> ids(size_t(nq) * k, -1);
      for (uint32_t i = 0; i < nq; i++) {
        auto a = std::chrono::steady_clock::now();
        auto hits = index.search(q.v.data() + size_t(i) * d, d, so);
        lat[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
        if (!hits) throw std::runtime_error("search: " + hits.err().message);
        const auto& h = hits.value();
        for (size_t j = 0; j < h.size() && j < size_t(k); j++) ids[size_t(i) * k + j] = h[j].item;
      }
      double mean = 0;
      for (double x : lat) mean += x;
      mean /= std::max<size_t>(1, lat.size());
      std::string r = "{\"params\":" + json_str(p) + ",\"p50_ms\":" + std::to_string(percentile(lat, 0.5)) +
                      ",\"p99_ms\":" + std::to_string(percentile(lat, 0.99)) + ",\"mean_ms\":" + std::to_string(mean) +
                      ",\"ids\":[";
      for (size_t i = 0; i < ids.size(); i++) {
        if (i) r += ',';
        r += std::to_string(ids[i]);
      }
      r += "]}";
      if (!runs.empty()) runs += ',';
      runs += r;
    }
    std::printf("{\"engine\":\"shopframe\",\"quantizer\":%s,\"n\":%u,\"d\":%zu,\"build_s\":%.6f,\"bytes\":%zu,"
                "\"build_threads\":1,\"runs\":[%s]}\n",
                json_str(quantizer).c_str(), base.n, d, build_s, bytes.size(), runs.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "index_native: %s\n", e.what());
    return 1;
  }
  return 0;
}
