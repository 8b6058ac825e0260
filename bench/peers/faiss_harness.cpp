// FAISS peer harness for bench/index.mjs (same protocol as bench/index_native.cpp).
//
//   sf_faiss_harness --base base.f32 --queries queries.f32 --factory "IVF1024,PQ32"
//                    [--params "nprobe=16;nprobe=64"] [--k 10] [--warmup 100]
//                    [--build-threads 0] [--metric l2|ip]
//
// Vector files: uint32 n, uint32 d, then n*d float32 (little endian, row-major).
// Builds the factory string (train + add, timed, build threads = --build-threads or the
// OpenMP default), serialises with write_index to memory for the size, then for each
// ';'-separated parameter set (faiss ParameterSpace syntax, e.g. "nprobe=16" or
// "efSearch=64"; "" = defaults) times every query individually with one thread.
// Prints one JSON object on stdout:
//   {"engine":"faiss","factory":...,"n":..,"d":..,"build_s":..,"bytes":..,"build_threads":..,
//    "runs":[{"params":"nprobe=16","p50_ms":..,"p99_ms":..,"mean_ms":..,"ids":[...nq*k...]}]}
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/impl/io.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

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
  std::string base_path, query_path, factory = "Flat", params, metric = "l2";
  int k = 10, warmup = 100, build_threads = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "missing value for %s\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--base") base_path = next();
    else if (a == "--queries") query_path = next();
    else if (a == "--factory") factory = next();
    else if (a == "--params") params = next();
    else if (a == "--k") k = std::atoi(next().c_str());
    else if (a == "--warmup") warmup = std::atoi(next().c_str());
    else if (a == "--build-threads") build_threads = std::atoi(next().c_str());
    else if (a == "--metric") metric = next();
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  if (base_path.empty() || query_path.empty()) {
    std::fprintf(stderr, "usage: %s --base F --queries F --factory S [--params \"a=1;a=2\"] [--k 10]\n", argv[0]);
    return 2;
  }
  try {
    matrix base = read_matrix(base_path), q = read_matrix(query_path);
    if (base.d != q.d) throw std::runtime_error("dimension mismatch between base and queries");
    const int d = int(base.d);
    if (build_threads > 0) omp_set_num_threads(build_threads);
    const int used_threads = omp_get_max_threads();

    auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<faiss::Index> index(faiss::index_factory(
        d, factory.c_str(), metric == "ip" ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2));
    if (!index->is_trained) index->train(base.n, base.v.data());
    index->add(base.n, base.v.data());
    const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    faiss::VectorIOWriter w;
    faiss::write_index(index.get(), &w);
    const size_t bytes = w.data.size();
    w.data.clear();
    w.data.shrink_to_fit();

    omp_set_num_threads(1);
    faiss::ParameterSpace ps;
    std::vector<float> dist(k);
    std::vector<faiss::Index::idx_t> lab(k);
    std::string runs;
    for (const std::string& p : split(params, ';')) {
      if (!p.empty()) ps.set_index_parameters(index.get(), p.c_str());
      const uint32_t nq = q.n;
      for (int i = 0; i < warmup; i++)
        index->search(1, q.v.data() + size_t(i % nq) * d, k, dist.data(), lab.data());
      std::vector<double> lat(nq);
      std::vector<int64_t> ids(size_t(nq) * k);
      for (uint32_t i = 0; i < nq; i++) {
        auto a = std::chrono::steady_clock::now();
        index->search(1, q.v.data() + size_t(i) * d, k, dist.data(), lab.data());
        lat[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
        std::copy(lab.begin(), lab.end(), ids.begin() + size_t(i) * k);
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
    std::printf("{\"engine\":\"faiss\",\"factory\":%s,\"n\":%u,\"d\":%d,\"build_s\":%.6f,\"bytes\":%zu,"
                "\"build_threads\":%d,\"runs\":[%s]}\n",
                json_str(factory).c_str(), base.n, d, build_s, bytes, used_threads, runs.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sf_faiss_harness: %s\n", e.what());
    return 1;
  }
  return 0;
}
