// The reader against damaged files: every single-byte flip and every truncation of
// a small index either loads to identical search results (the flip hit padding)
// or fails with a clear error. Run under ASan+UBSan in CI.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/crc32.h"
#include "index/format.h"
#include "index/index.h"
#include "index_fixtures.h"

namespace {

struct aligned_bytes {  // the reader requires 8-byte alignment, like a WASM heap allocation
  std::vector<uint64_t> storage;
  size_t size;
  explicit aligned_bytes(const std::vector<uint8_t>& b) : storage((b.size() + 7) / 8 + 1), size(b.size()) {
    std::memcpy(storage.data(), b.data(), b.size());
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(storage.data()); }
};

std::vector<sf::hit> run_queries(const sf::index_view& idx, const std::vector<float>& queries, size_t d) {
  std::vector<sf::hit> all;
  for (size_t q = 0; q < queries.size() / d; ++q) {
    sf::search_options so;
    so.k = 5;
    auto r = idx.search(queries.data() + q * d, d, so);
    REQUIRE(r);
    all.insert(all.end(), r.value().begin(), r.value().end());
  }
  return all;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The bytes with another version number in the header (its checksum recomputed).
std::vector<uint8_t> with_version(std::vector<uint8_t> bytes, uint32_t version) {
  sf::format::store<uint32_t>(bytes.data() + sf::format::hdr::version, version);
  sf::format::store<uint32_t>(bytes.data() + sf::format::hdr::header_crc, sf::crc32(bytes.data(), sf::format::hdr::header_crc));
  return bytes;
}

std::vector<uint8_t> small_index(const char* quantizer, bool with_meta) {
  const size_t n = 24, d = 8;
  auto data = sf::test::clustered(n, d, 4, 17);
  std::vector<sf::item_meta> meta;
  if (with_meta)
    for (size_t i = 0; i < n; ++i)
      meta.push_back({"id" + std::to_string(i), "t", i % 2 ? "A/B" : "C", "EUR", "u", "", 1.0, true});
  sf::build_options opt;
  opt.quantizer = quantizer;
  if (with_meta) opt.config_json = R"({"embedder": {"name": "tiny"}, "calibration": {"item": 0.5}})";
  return sf::build_index(data.data(), n, d, meta, opt).value();
}

}  // namespace

// A version-1 file written by the builder before the version bump (git 3fca601): ivf3,sq8
// over sf::test::clustered(24, 8, 4, 17), with metadata and a CONF section.
const std::string k_v1_fixture = SF_TEST_DIR "/index/fixtures/v1_ivf3_sq8_meta.sfi";

// Every single-byte flip (three masks) and every truncation of `good`: each either fails
// with an "index: " error or, when it hit padding, searches exactly like the original.
void check_flips_and_truncations(const std::vector<uint8_t>& good, const std::vector<float>& queries, size_t d) {
  aligned_bytes buf(good);
  auto ref_idx = sf::index_view::open(buf.data(), buf.size);
  REQUIRE(ref_idx);
  auto reference = run_queries(ref_idx.value(), queries, d);
  size_t rejected = 0;
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
      buf.data()[pos] ^= mask;
      auto idx = sf::index_view::open(buf.data(), buf.size);
      if (idx) {
        auto got = run_queries(idx.value(), queries, d);
        REQUIRE(got.size() == reference.size());
        for (size_t i = 0; i < got.size(); ++i) {
          INFO("flip at byte " << pos);
          REQUIRE(got[i].item == reference[i].item);
          REQUIRE(got[i].score == reference[i].score);
        }
      } else {
        REQUIRE_FALSE(idx.err().message.empty());
        REQUIRE(idx.err().message.rfind("index: ", 0) == 0);
        ++rejected;
      }
      buf.data()[pos] ^= mask;
    }
  }
  CHECK(rejected > 0);
  for (size_t len = 0; len < good.size(); ++len) {
    auto idx = sf::index_view::open(buf.data(), len);
    REQUIRE_FALSE(idx);
    REQUIRE((idx.err().code == sf::status::truncated || idx.err().code == sf::status::corrupt));
  }
}

TEST_CASE("every byte flip and truncation is caught or harmless", "[index][corruption]") {
  const size_t d = 8;
  auto queries = sf::test::clustered(4, d, 4, 17, 0.1f, 100);
  for (const char* q : {"sq8", "pca4,ivf4,pq2,rr:sq8", "ivf3,flat"}) {
    for (bool meta : {false, true}) {
      INFO(q << (meta ? " with metadata" : ""));
      check_flips_and_truncations(small_index(q, meta), queries, d);
    }
  }
  INFO("the version-1 fixture");
  check_flips_and_truncations(read_file(k_v1_fixture), queries, d);
}

TEST_CASE("version-1 files still load and search as before", "[index][version]") {
  const size_t d = 8;
  auto queries = sf::test::clustered(4, d, 4, 17, 0.1f, 100);
  aligned_bytes v1(read_file(k_v1_fixture));
  auto old = sf::index_view::open(v1.data(), v1.size);
  REQUIRE(old);
  CHECK(old.value().info().version == 1);
  CHECK(old.value().info().quantizer == "ivf3,sq8");
  CHECK(old.value().info().count == 24);
  auto old_hits = run_queries(old.value(), queries, d);

  // The same data built now is written as the current version and finds the same items (the
  // k-means behind ivf3 may round differently on another SIMD target, so scores get slack).
  auto data = sf::test::clustered(24, d, 4, 17);
  std::vector<sf::item_meta> meta;
  for (size_t i = 0; i < 24; ++i) meta.push_back({"id" + std::to_string(i), "t", i % 2 ? "A/B" : "C", "EUR", "u", "", 1.0, true});
  sf::build_options opt;
  opt.quantizer = "ivf3,sq8";
  aligned_bytes fresh(sf::build_index(data.data(), 24, d, meta, opt).value());
  auto now = sf::index_view::open(fresh.data(), fresh.size);
  REQUIRE(now);
  CHECK(now.value().info().version == sf::format::kVersion);
  CHECK(sf::format::kVersion == 2);
  auto new_hits = run_queries(now.value(), queries, d);
  REQUIRE(new_hits.size() == old_hits.size());
  for (size_t q = 0; q < new_hits.size(); q += 5) {  // each query's top-1
    CHECK(new_hits[q].item == old_hits[q].item);
    CHECK(std::abs(new_hits[q].score - old_hits[q].score) < 0.02f);
  }

  // Recalibrating a version-1 file (a new CONF) writes the current version; every other
  // section is kept byte for byte, so searches are identical.
  auto rewritten = sf::with_config(old.value(), R"({"calibration": {"item": {"threshold": 0.6, "by_category": {"A/B": {"threshold": 0.7}}}}})");
  REQUIRE(rewritten);
  aligned_bytes v2(rewritten.value());
  auto re = sf::index_view::open(v2.data(), v2.size);
  REQUIRE(re);
  CHECK(re.value().info().version == sf::format::kVersion);
  auto re_hits = run_queries(re.value(), queries, d);
  REQUIRE(re_hits.size() == old_hits.size());
  for (size_t i = 0; i < re_hits.size(); ++i) {
    CHECK(re_hits[i].item == old_hits[i].item);
    CHECK(re_hits[i].score == old_hits[i].score);
  }

  // Versions outside 1..kVersion are unsupported (not corrupt), and the message says what is read.
  for (uint32_t bad : {0u, sf::format::kVersion + 1}) {
    aligned_bytes b(with_version(read_file(k_v1_fixture), bad));
    auto r = sf::index_view::open(b.data(), b.size);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == sf::status::unsupported);
    CHECK(r.err().message.find("version " + std::to_string(bad)) != std::string::npos);
    CHECK(r.err().message.find("reads 1 to 2") != std::string::npos);
  }
}

TEST_CASE("reader names what is wrong and where", "[index][corruption]") {
  auto good = small_index("ivf3,sq8", true);
  aligned_bytes buf(good);
  auto open = [&] { return sf::index_view::open(buf.data(), buf.size); };
  REQUIRE(open());

  buf.data()[0] = 'X';
  auto r = open();
  CHECK(r.err().code == sf::status::corrupt);
  CHECK(r.err().message.find("bad magic") != std::string::npos);
  buf.data()[0] = 'S';

  // A damaged section names its kind and offset.
  auto info = open().value().info();
  for (const auto& s : info.sections) {
    if (s.bytes == 0) continue;
    buf.data()[s.offset] ^= 0x40;
    r = open();
    INFO(s.kind);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("section " + s.kind) != std::string::npos);
    CHECK(r.err().message.find(std::to_string(s.offset)) != std::string::npos);
    buf.data()[s.offset] ^= 0x40;
  }

  // Version from the future: unsupported, not corrupt (header checksum recomputed).
  aligned_bytes b2(with_version(good, 99));
  r = sf::index_view::open(b2.data(), b2.size);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("version 99") != std::string::npos);

  // Misaligned buffers are refused rather than read unaligned.
  std::vector<uint8_t> shifted(1, 0);
  shifted.insert(shifted.end(), good.begin(), good.end());
  uint8_t* p = shifted.data() + 1;
  if (reinterpret_cast<uintptr_t>(p) % 8 != 0) CHECK(sf::index_view::open(p, good.size()).err().code == sf::status::invalid_argument);

  // Extra bytes after the end are not silently accepted.
  std::vector<uint8_t> longer(good);
  longer.push_back(0);
  aligned_bytes b3(longer);
  CHECK_FALSE(sf::index_view::open(b3.data(), b3.size));
}

TEST_CASE("checksums can be skipped but structure is still validated", "[index][corruption]") {
  auto good = small_index("ivf3,sq8", true);
  aligned_bytes buf(good);
  auto info = sf::index_view::open(buf.data(), buf.size).value().info();
  const sf::section_info* perm = nullptr;
  for (auto& s : info.sections)
    if (s.kind == "PERM") perm = &s;
  REQUIRE(perm);
  sf::format::store<uint32_t>(buf.data() + perm->offset, 1000);  // an item that does not exist
  auto r = sf::index_view::open(buf.data(), buf.size, /*verify_checksums=*/false);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("PERM") != std::string::npos);
}
