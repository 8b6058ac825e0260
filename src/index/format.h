// On-disk layout of a shopframe index (.sfi). Everything little-endian; read with
// memcpy, never by casting the header. docs/index-format.md is the prose version.
//
//   [0, 128)        header (index_header below), CRC-32 of bytes [0,124) at 124
//   [128, 128+32*S) section table: S entries of section_entry
//   then sections, each starting at a multiple of 64 bytes, zero padding between
//
// Rows: codes are stored in "row" order. Without an inverted file rows are items.
// With one, rows are grouped by list (IVFL gives each list's row range) and PERM
// maps row -> item. With an inverted file, sq8/pq codes encode the residual
// x - centroid(list); scores are <q, centroid> + <q, residual code>.
//
// Section kinds (four ASCII characters, so a hex dump reads):
//   XFRM  linear transform: in_d floats mean, then out_d*in_d floats matrix (row-major)
//   IVFC  coarse centroids: lists * work_dim floats
//   IVFL  list row offsets: lists+1 uint32, non-decreasing, first 0, last rows
//   PERM  row -> item: count uint32, a permutation of 0..count-1
//   VECF  float vectors: rows * work_dim floats (codes "flat" or re-rank "flat")
//   SQ8P  sq8 parameters: work_dim floats min, then work_dim floats step (> 0)
//   SQ8C  sq8 codes: rows * work_dim bytes
//   PQCB  pq codebooks: m * 256 * (work_dim/m) floats
//   PQCD  pq codes: rows * m bytes
//   STRS  string bytes (UTF-8), referenced by META and CATS
//   CATS  categories: ncat (offset,length) uint32 pairs into STRS, sorted by string
//   ICAT  category ordinal per item: count uint32, each < ncat
//   META  per item record offsets: count+1 uint32 into STRS, non-decreasing; record i
//         is [off[i], off[i+1]) holding 5 fields (id, title, currency, url, image),
//         each a LEB128 length followed by that many bytes
//   PRIC  price per item: count float64, NaN when the product has no price
//   CONF  optional engine configuration: UTF-8 JSON text (embedder, calibration), opaque here
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sf::format {

inline constexpr char kMagic[8] = {'S', 'F', 'I', 'N', 'D', 'E', 'X', '\x1a'};
// Version written. 2 has the layout of 1; what changed is the CONF calibration, which may hold
// per-category and video-track thresholds (docs/index-format.md, "Versioning"): a reader that
// only knows 1 would apply the global thresholds alone, so it must refuse such a file.
inline constexpr uint32_t kVersion = 2;
// Oldest version read: a version-1 file is read exactly as before.
inline constexpr uint32_t kOldestReadableVersion = 1;
inline constexpr size_t kHeaderBytes = 128;
inline constexpr size_t kSectionEntryBytes = 32;
inline constexpr size_t kAlign = 64;
inline constexpr size_t kQuantizerChars = 48;
inline constexpr uint32_t kMaxSections = 32;
inline constexpr uint32_t kFlagHasMetadata = 1;
inline constexpr uint32_t kFlagPowerNormalize = 2;  // signed sqrt of inputs before L2 normalisation
inline constexpr uint32_t kKnownFlags = kFlagHasMetadata | kFlagPowerNormalize;

// Transform kind byte for a quantizer spec.
inline constexpr char transform_kind(size_t dim, bool whiten, bool external) {
  return dim == 0 ? 'n' : external ? 'l' : whiten ? 'w' : 'p';
}

// Header field offsets (bytes). Kept as named constants so reader and writer agree.
namespace hdr {
inline constexpr size_t magic = 0;            // char[8]
inline constexpr size_t version = 8;          // u32
inline constexpr size_t header_bytes = 12;    // u32 (128)
inline constexpr size_t file_bytes = 16;      // u64
inline constexpr size_t dim = 24;             // u32 input dimension
inline constexpr size_t work_dim = 28;        // u32 dimension after the transform
inline constexpr size_t count = 32;           // u32 items
inline constexpr size_t section_count = 36;   // u32
inline constexpr size_t ivf_lists = 40;       // u32 (0 = none)
inline constexpr size_t pq_m = 44;            // u32 (0 = none)
inline constexpr size_t default_nprobe = 48;  // u32
inline constexpr size_t default_rerank = 52;  // u32
inline constexpr size_t metric = 56;          // u8 'c' cosine, 'i' inner product
inline constexpr size_t transform = 57;       // u8 'n' none, 'p' pca, 'w' pca-whitening, 'l' learned by the caller (lda)
inline constexpr size_t codes = 58;           // u8 'f' flat, 's' sq8, 'p' pq
inline constexpr size_t rerank = 59;          // u8 'n' none, 'f' flat, 's' sq8
inline constexpr size_t flags = 60;           // u32 bit 0: has metadata, bit 1: power-normalise
inline constexpr size_t build_unix_ms = 64;   // u64
inline constexpr size_t quantizer = 72;       // char[48], NUL padded
inline constexpr size_t table_crc = 120;      // u32 CRC-32 of the section table
inline constexpr size_t header_crc = 124;     // u32 CRC-32 of bytes [0, 124)
}  // namespace hdr
static_assert(hdr::quantizer + kQuantizerChars == hdr::table_crc, "header layout");
static_assert(hdr::header_crc + 4 == kHeaderBytes, "header layout");

// Section table entry field offsets.
namespace sec {
inline constexpr size_t kind = 0;      // char[4]
inline constexpr size_t crc = 4;       // u32 CRC-32 of the section bytes
inline constexpr size_t offset = 8;    // u64, multiple of 64
inline constexpr size_t bytes = 16;    // u64
inline constexpr size_t reserved = 24; // u64, zero
}  // namespace sec

template <class T>
inline T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
inline void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

inline constexpr uint32_t kind_code(const char (&k)[5]) {
  return uint32_t(uint8_t(k[0])) | uint32_t(uint8_t(k[1])) << 8 | uint32_t(uint8_t(k[2])) << 16 |
         uint32_t(uint8_t(k[3])) << 24;
}

inline constexpr size_t align_up(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

// Number of string fields in a META record, in order.
inline constexpr size_t kMaxConfigBytes = 1u << 20;  // CONF
inline constexpr size_t kMetaFields = 5;  // id, title, currency, url, image

}  // namespace sf::format
