// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): the checksum of index sections.
// Same value as zlib's crc32(), so `python3 -c "import zlib"` can verify a section by hand.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sf {
// Continue a CRC: crc32(data, n) == crc32_update(0, data, n).
uint32_t crc32_update(uint32_t crc, const void* data, size_t n) noexcept;
inline uint32_t crc32(const void* data, size_t n) noexcept { return crc32_update(0, data, n); }
}  // namespace sf
