// 16-bit floats: IEEE 754 binary16 ("f16", PyTorch half) and bfloat16 ("bf16"), to and from float.
// Narrowing rounds to nearest, ties to even, as PyTorch and numpy do; overflow gives infinity,
// values below half the smallest subnormal give (signed) zero, NaN stays NaN (quiet, sign kept).
// Widening is exact.
//
//   uint16_t h = bert::io::f32_to_f16(0.1f);     // 0x2e66
//   float x = bert::io::f16_to_f32(h);           // 0.0999755859375f
//   uint16_t b = bert::io::f32_to_bf16(x);       // 0x3dcd
#pragma once
#include <bit>      // bit_cast
#include <cstdint>  // uint16_t, uint32_t

namespace bert::io {

inline float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    float v = float(mant) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(v) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, nan
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

// Shifts m right by `shift` (1..31) rounding to nearest, ties to even.
inline uint32_t shift_right_round_even(uint32_t m, uint32_t shift) {
  uint32_t q = m >> shift;
  uint32_t rem = m & ((1u << shift) - 1);
  uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) ++q;
  return q;
}

inline uint16_t f32_to_f16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint16_t sign = uint16_t((x >> 16) & 0x8000);
  x &= 0x7fffffff;
  if (x > 0x7f800000) return uint16_t(sign | 0x7e00 | ((x >> 13) & 0x3ff));  // nan: quiet, payload top
  if (x >= 0x477ff000) return uint16_t(sign | 0x7c00);  // >= 65520 rounds to infinity (and inf itself)
  if (x >= 0x38800000) {  // normal half: rebias the exponent, round the mantissa (a carry may bump it)
    uint32_t h = ((x >> 23) - 112) << 10 | ((x >> 13) & 0x3ff);
    uint32_t rem = x & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;
    return uint16_t(sign | h);
  }
  if (x <= 0x33000000) return sign;  // <= 2^-25: ties to even gives zero
  // Subnormal half: value = m * 2^(e-150) with the implicit bit, in units of 2^-24.
  uint32_t e = x >> 23;
  uint32_t m = (x & 0x7fffff) | 0x800000;
  return uint16_t(sign | shift_right_round_even(m, 126 - e));  // 126 - e is in [14, 24]
}

inline float bf16_to_f32(uint16_t b) {
  return std::bit_cast<float>(uint32_t(b) << 16);
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffff) > 0x7f800000) return uint16_t((x >> 16) | 0x0040);  // nan: keep it quiet
  return uint16_t((x + 0x7fff + ((x >> 16) & 1)) >> 16);  // overflow carries into inf, as it should
}

}  // namespace bert::io
