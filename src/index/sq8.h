// Scalar quantizer, 8 bits per dimension (`sq8` in a quantizer string).
//
//   sf::sq8_codec c = sf::sq8_train(data, n, d);           // per-dimension min and step
//   std::vector<uint8_t> codes(n * d); c.encode(data, n, codes.data());
//   sf::sq8_query q = c.prepare_query(query);             // fold step/min into the query
//   float ip = q.bias + kernels::active().dot_u8(q.scaled.data(), codes.data() + j*d, d);
//
// decode(code)[i] = vmin[i] + step[i] * code[i]; so
// <query, decode(code)> = sum_i q[i]*vmin[i] + sum_i (q[i]*step[i]) * code[i].
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sf {

struct sq8_query {
  std::vector<float> scaled;  // q[i]*step[i]
  float bias = 0;             // sum_i q[i]*vmin[i]
  // int8 version of `scaled` for the fast integer scan: scaled[i] ~= q8[i] * q8_scale
  std::vector<int8_t> q8;
  float q8_scale = 0;
};

struct sq8_codec {
  size_t d = 0;
  std::vector<float> vmin;  // d
  std::vector<float> step;  // d, > 0

  void encode(const float* data, size_t n, uint8_t* codes) const;
  void decode(const uint8_t* codes, size_t n, float* out) const;
  sq8_query prepare_query(const float* q) const;
};

// Per-dimension range from the data (slightly robust: ignores nothing, but never a zero step).
sq8_codec sq8_train(const float* data, size_t n, size_t d);

}  // namespace sf
