#include <catch2/catch.hpp>

#include <cstring>

#include "common/crc32.h"
#include "common/result.h"

TEST_CASE("crc32 matches the zlib check value", "[common]") {
  const char* s = "123456789";
  REQUIRE(sf::crc32(s, std::strlen(s)) == 0xCBF43926u);
  REQUIRE(sf::crc32(s, 0) == 0u);
  // Incremental update equals one shot, whatever the split (slicing-by-4 tail paths).
  for (size_t cut = 0; cut <= 9; ++cut)
    REQUIRE(sf::crc32_update(sf::crc32(s, cut), s + cut, 9 - cut) == 0xCBF43926u);
}

TEST_CASE("result carries a value or an error", "[common]") {
  sf::result<int> good = 7;
  REQUIRE(good);
  REQUIRE(good.value() == 7);
  sf::result<int> bad = sf::make_error(sf::status::corrupt, "section SQ8C at byte 128: checksum mismatch");
  REQUIRE_FALSE(bad);
  REQUIRE(bad.err().code == sf::status::corrupt);
  REQUIRE(std::string(sf::status_name(bad.err().code)) == "corrupt");
  sf::result<void> v;
  REQUIRE(v);
}
