// The reader against damaged files: every single-byte flip and every truncation of
// a small index either loads to identical search results (the flip hit padding)
// or fails with a clear error. Run under ASan+UBSan in CI.
#include <catch2/catch.hpp>

#include <cstring>

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

TEST_CASE("every byte flip and truncation is caught or harmless", "[index][corruption]") {
  const size_t d = 8;
  auto queries = sf::test::clustered(4, d, 4, 17, 0.1f, 100);
  for (const char* q : {"sq8", "pca4,ivf4,pq2,rr:sq8", "ivf3,flat"}) {
    for (bool meta : {false, true}) {
      INFO(q << (meta ? " with metadata" : ""));
      auto good = small_index(q, meta);
      aligned_bytes buf(good);
      auto ref_idx = sf::index_view::open(buf.data(), buf.size);
      REQUIRE(ref_idx);
      auto reference = run_queries(ref_idx.value(), queries, d);
      size_t rejected = 0, harmless = 0;
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
            ++harmless;
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
  std::vector<uint8_t> v2(good);
  sf::format::store<uint32_t>(v2.data() + sf::format::hdr::version, 99);
  sf::format::store<uint32_t>(v2.data() + sf::format::hdr::header_crc, sf::crc32(v2.data(), sf::format::hdr::header_crc));
  aligned_bytes b2(v2);
  r = sf::index_view::open(b2.data(), b2.size);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("version 99") != std::string::npos);

  // Misaligned buffers are refused rather than read unaligned.
  std::vector<uint8_t> shifted(good.size() + 1);
  std::memcpy(shifted.data() + 1, good.data(), good.size());
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
